/**
 * tfjs-model-optimization: magnitude pruning and dynamic range quantization
 * for TensorFlow.js layers models. Every public name is listed here, one by one.
 *
 * @packageDocumentation
 */
export {
  ConstantSparsity,
  PolynomialDecay,
  PruningSchedule,
  deserializeSchedule,
  serializeSchedule,
} from './sparsity/pruning_schedule';
export type {ConstantSparsityArgs, PolynomialDecayArgs, PruningDecision, SerializedSchedule} from './sparsity/pruning_schedule';
