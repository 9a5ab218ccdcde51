/**
 * The PruneLowMagnitude layer: wraps a prunable layer, owns one mask and one
 * threshold per prunable weight and the pruning step. Mirrors tfmot's
 * `pruning_wrapper.py`.
 *
 * Porting notes:
 * - It subclasses `tf.layers.Layer`, not tfjs's internal `Wrapper`, whose
 *   weight getters would hide the masks from `model.weights` (and from saving).
 * - The forward pass runs the inner layer on `weight * mask` by shadowing the
 *   inner variable's `read()` for the duration of the call: pruned weights get
 *   exactly zero gradient (tfmot lets them receive gradients and re-zeroes them).
 * - Mask updates happen in {@link UpdatePruningStep}'s hooks, outside the
 *   gradient tape, instead of inside the graph.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {LayerVariable} from '@tensorflow/tfjs-layers';

import {argumentMessage, deepCopy, describeValue} from '../util/validation';
import {PruningError} from './errors';
import {magnitudeMask} from './pruning_impl';
import {ConstantSparsity, PruningSchedule, deserializeSchedule, serializeSchedule} from './pruning_schedule';
import {isPrunable, missingConfigFields, prunableWeightsOf, unsupportedLayerMessage} from './prune_registry';

type Layer = tfl.layers.Layer;
type LayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;
type Kwargs = Record<string, unknown>;
type Shape = (number | null)[];

/** Structured-sparsity parameters of tfmot's `prune_low_magnitude` (not supported yet). */
export interface StructuredSparsityParams {
  /** Block shape `[height, width]` for block sparsity (tfmot's `block_size`). Not supported yet. */
  blockSize?: [number, number];
  /** How blocks are pooled: `'avg'` or `'max'` (tfmot's `block_pooling_type`). Not supported yet. */
  blockPoolingType?: 'avg' | 'max';
  /** `[m, n]`: m zeros in every n consecutive weights (tfmot's `sparsity_m_by_n`). Not supported yet. */
  sparsityMByN?: [number, number];
}

/** Arguments of {@link PruneLowMagnitude}. */
export interface PruneLowMagnitudeArgs extends LayerArgs, StructuredSparsityParams {
  /** The layer to wrap. The wrapper owns it from then on (use {@link pruneLowMagnitude} to keep yours intact). */
  layer: Layer;
  /** When and how much to prune. Default: a new `ConstantSparsity({targetSparsity: 0.5})`. */
  pruningSchedule?: PruningSchedule;
}

/** The message of the error raised when a pruned model is trained without the step callback. */
export const MISSING_CALLBACK_MESSAGE =
    'PruneLowMagnitude requires the UpdatePruningStep callback during training. Add it to the callbacks ' +
    'of your model.fit call: model.fit(x, y, {callbacks: [new UpdatePruningStep()]}), or call its hooks ' +
    'yourself in a custom training loop.';

/** One pruned weight with its mask and threshold variables. */
export interface PrunedWeight {
  /** The inner layer's weight that is pruned. */
  weight: LayerVariable;
  /** 0/1 mask of the same shape (saved with the model). */
  mask: LayerVariable;
  /** Scalar: the smallest kept magnitude at the last mask update (saved with the model). */
  threshold: LayerVariable;
}

/** Rejects the structured-sparsity parameters until they are implemented. */
export function rejectStructuredParams(caller: string, params: StructuredSparsityParams): void {
  for (const key of ['blockSize', 'blockPoolingType', 'sparsityMByN'] as const) {
    if (params[key] !== undefined) {
      throw new Error(
          `${caller}: '${key}' is not supported yet (received ${describeValue(params[key])}); ` +
          'structured sparsity is planned. Leave it undefined for unstructured magnitude pruning.');
    }
  }
}

/** Writes `value` into `variable` and disposes `value`. */
function assign(variable: LayerVariable, value: tf.Tensor): void {
  try {
    variable.write(value);
  } finally {
    value.dispose();
  }
}

/**
 * A layer that prunes the weights of the layer it wraps, by magnitude, on the
 * steps its schedule names. Use {@link pruneLowMagnitude} to create it; train
 * with {@link UpdatePruningStep}; remove it with {@link stripPruning}.
 *
 * It is named `prune_low_magnitude_<inner name>`, and holds, per prunable
 * weight, a `mask` and a `threshold` (named `<weight>_mask` and
 * `<weight>_threshold` when a layer has several prunable weights, such as
 * `recurrent_kernel_mask`), plus one int32 `pruning_step`, all saved with the model.
 * The forward pass always uses `weight * mask`; masks start as all ones, so an
 * untrained wrapper computes exactly what the inner layer computes.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import {PruneLowMagnitude, PolynomialDecay} from 'tfjs-model-optimization';
 *
 * const wrapper = new PruneLowMagnitude({
 *   layer: tf.layers.dense({units: 10}),
 *   pruningSchedule: new PolynomialDecay({initialSparsity: 0.4, finalSparsity: 0.7, beginStep: 0, endStep: 1000}),
 * });
 * wrapper.name; // 'prune_low_magnitude_dense_Dense1'
 * ```
 *
 * @category Pruning
 */
export class PruneLowMagnitude extends tfl.layers.Layer {
  /** Name under which the class is registered for serialization (tfmot's name). */
  static className = 'PruneLowMagnitude';

  /** The wrapped layer. */
  readonly layer: Layer;
  /** The schedule that decides when and how much to prune. */
  readonly pruningSchedule: PruningSchedule;

  private prunedWeights: PrunedWeight[] = [];
  private stepVariable: LayerVariable | null = null;
  private step = -1;
  private trainingEnabled = false;
  private weightSource: Layer | null = null;

  /**
   * @param args See {@link PruneLowMagnitudeArgs}.
   * @throws TypeError when `layer` is not a tfjs layer or `pruningSchedule` not a schedule;
   *   PruningError when the layer cannot be pruned (or is already a PruneLowMagnitude);
   *   Error for structured-sparsity parameters (not supported yet).
   */
  constructor(args: PruneLowMagnitudeArgs) {
    const layer = args?.layer;
    if (!(layer instanceof tfl.layers.Layer)) {
      throw new TypeError(argumentMessage('PruneLowMagnitude', 'layer', 'must be a tf.layers.Layer', layer));
    }
    const {
      layer: _layer, pruningSchedule, blockSize, blockPoolingType, sparsityMByN, ...layerArgs
    } = args;
    super({...layerArgs, name: layerArgs.name ?? `prune_low_magnitude_${layer.name}`});
    if (layer instanceof PruneLowMagnitude) {
      throw new PruningError(
          `PruneLowMagnitude: layer "${layer.name}" is already a PruneLowMagnitude wrapper; wrappers cannot be ` +
          'nested.');
    }
    if (layer instanceof tfl.LayersModel) {
      throw new TypeError(
          `PruneLowMagnitude: 'layer' must be a single layer, but got the model "${layer.name}"; ` +
          'use pruneLowMagnitude(model) to prune every layer of a model.');
    }
    if (!isPrunable(layer)) throw new PruningError(unsupportedLayerMessage('PruneLowMagnitude', layer));
    if (pruningSchedule !== undefined && !(pruningSchedule instanceof PruningSchedule)) {
      throw new TypeError(argumentMessage(
          'PruneLowMagnitude', 'pruningSchedule', 'must be a PruningSchedule', pruningSchedule));
    }
    rejectStructuredParams('PruneLowMagnitude', {blockSize, blockPoolingType, sparsityMByN});
    this.layer = layer;
    this.pruningSchedule = pruningSchedule ?? new ConstantSparsity({targetSparsity: 0.5});
    if (layerArgs.trainable !== undefined) this.layer.trainable = layerArgs.trainable;
    this.supportsMasking = layer.supportsMasking;
  }

  /**
   * Copies `source`'s weights into the inner layer when it is built (used by
   * {@link pruneLowMagnitude} to wrap a fresh copy of a built layer).
   *
   * @param source A built layer of the same class and config as the inner layer.
   */
  setInitialWeightsFrom(source: Layer): void {
    this.weightSource = source;
  }

  /** Whether the inner layer is trainable (the wrapper mirrors it). */
  override get trainable(): boolean {
    // The base constructor runs before `layer` is set.
    return this.layer != null ? this.layer.trainable : true;
  }

  override set trainable(value: boolean) {
    if (this.layer != null) this.layer.trainable = value;
  }

  /** The inner layer's trainable weights (masks are never trained). */
  override get trainableWeights(): LayerVariable[] {
    return this.layer.trainableWeights;
  }

  /** The inner layer's non-trainable weights, then the masks, thresholds and pruning step. */
  override get nonTrainableWeights(): LayerVariable[] {
    return this.layer.nonTrainableWeights.concat(super.nonTrainableWeights);
  }

  /** The inner layer's regularization losses. */
  override get losses() {
    return this.layer.losses;
  }

  /** Whether the inner layer is stateful. */
  override get stateful(): boolean {
    return this.layer.stateful;
  }

  /** Resets the inner layer's states (stateful recurrent layers). */
  override resetStates(): void {
    this.layer.resetStates();
  }

  /** Forwards the fast-initialization flag to the inner layer (used while loading). */
  override setFastWeightInitDuringBuild(value: boolean): void {
    super.setFastWeightInitDuringBuild(value);
    if (this.layer != null) this.layer.setFastWeightInitDuringBuild(value);
  }

  /**
   * Builds the inner layer, then adds a mask and a threshold per prunable
   * weight and the pruning step.
   *
   * @param inputShape The input shape.
   * @throws PruningError when a prunable weight is not float32.
   */
  override build(inputShape: Shape | Shape[]): void {
    if (!this.layer.built) {
      this.layer.build(inputShape as tfl.Shape);
      this.layer.built = true;
    }
    if (this.weightSource !== null) {
      this.layer.setWeights(this.weightSource.getWeights());
      this.weightSource = null;
    }
    const weights = prunableWeightsOf(this.layer);
    this.prunedWeights = weights.map((weight) => {
      if (weight.dtype !== 'float32') {
        throw new PruningError(
            `PruneLowMagnitude: weight "${weight.originalName}" of layer "${this.layer.name}" has dtype ` +
            `${weight.dtype}; only float32 weights can be pruned.`);
      }
      // One prunable weight: tfmot's names. Several (recurrent layers): named after the weight, e.g.
      // `recurrent_kernel_mask`. Never `mask_1`: tfjs makes variable names unique by appending `_1`,
      // which would collide when a second copy of the model is loaded in the same process.
      const prefix = weights.length === 1 ? '' : `${this.relativeWeightName(weight)}_`;
      const mask = this.addWeight(
          `${prefix}mask`, weight.shape, 'float32', tfl.initializers.ones(), undefined, false);
      const threshold = this.addWeight(
          `${prefix}threshold`, [], 'float32', tfl.initializers.zeros(), undefined, false);
      return {weight, mask, threshold};
    });
    // Porting note: tfjs's Constant initializer leaks a tensor for int32; start from zeros and write -1.
    this.stepVariable = this.addWeight('pruning_step', [], 'int32', tfl.initializers.zeros(), undefined, false);
    assign(this.stepVariable, tf.scalar(-1, 'int32'));
    this.built = true;
  }

  /**
   * Runs the inner layer on `weight * mask`.
   *
   * @param inputs Input tensor(s).
   * @param kwargs Call arguments (`training`, `mask`, ...), passed to the inner layer.
   * @returns The inner layer's output.
   * @throws PruningError when called in training mode without {@link UpdatePruningStep}.
   */
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    if (kwargs?.['training'] === true && !this.trainingEnabled) {
      throw new PruningError(MISSING_CALLBACK_MESSAGE);
    }
    return tf.tidy(() => {
      const shadowed: LayerVariable[] = [];
      try {
        for (const {weight, mask} of this.prunedWeights) {
          const masked = tf.mul(weight.read(), mask.read());
          Object.defineProperty(weight, 'read', {value: () => masked, configurable: true, writable: true});
          shadowed.push(weight);
        }
        return this.layer.call(inputs, kwargs);
      } finally {
        for (const weight of shadowed) delete (weight as unknown as {read?: unknown}).read;
      }
    });
  }

  /** The inner layer's output shape. */
  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return this.layer.computeOutputShape(inputShape as tfl.Shape);
  }

  /** The inner layer's output mask. */
  override computeMask(inputs: tf.Tensor | tf.Tensor[], mask?: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    return this.layer.computeMask(inputs, mask);
  }

  /** The pruned weights with their masks and thresholds (empty before the wrapper is built). */
  getPrunedWeights(): readonly PrunedWeight[] {
    return this.prunedWeights;
  }

  /**
   * The pruning step, as saved in the `pruning_step` weight: -1 before
   * training; the k-th training batch runs at step k. (Reads the variable.)
   */
  get pruningStep(): number {
    return this.stepVariable === null ? -1 : this.stepVariable.read().dataSync()[0];
  }

  /**
   * Starts a training session: reads the saved step (after a reload) and sets
   * it to 0 for a fresh wrapper. Called by {@link UpdatePruningStep.onTrainBegin}.
   */
  async startTraining(): Promise<void> {
    this.assertBuilt('startTraining');
    const saved = (await this.stepVariable!.read().data())[0];
    this.step = saved === -1 ? 0 : saved;
    this.writeStep();
    this.trainingEnabled = true;
  }

  /** Ends a training session: masks are applied to the weights and training without the callback fails again. */
  endTraining(): void {
    this.trainingEnabled = false;
    this.applyMasks();
  }

  /**
   * Advances the step by one and, when the schedule says so, recomputes every
   * mask from the weights' current values, then writes `weight * mask` into the
   * weights. Called by {@link UpdatePruningStep.onBatchBegin} before each batch.
   *
   * @returns Whether the masks were recomputed.
   */
  async advanceStep(): Promise<boolean> {
    this.assertBuilt('advanceStep');
    this.step += 1;
    this.writeStep();
    const {shouldPrune, sparsity} = this.pruningSchedule.call(this.step);
    if (!shouldPrune) return false;
    await this.updateMasks(sparsity);
    return true;
  }

  /**
   * Recomputes every mask at `sparsity` from the current weights (tfmot's
   * k-rule: keep the `max(round(n * (1 - sparsity)), 1)` largest magnitudes,
   * ties kept), stores the thresholds and writes `weight * mask` back.
   *
   * @param sparsity Target fraction of zeros, in [0, 1).
   * @throws PruningError when a weight holds NaN or an infinite value.
   */
  async updateMasks(sparsity: number): Promise<void> {
    for (const {weight, mask, threshold} of this.prunedWeights) {
      const values = await weight.read().data() as Float32Array;
      const result = magnitudeMask(values, sparsity, `weight "${weight.originalName}"`);
      assign(mask, tf.tensor(result.mask, weight.shape as number[], 'float32'));
      assign(threshold, tf.scalar(result.threshold, 'float32'));
    }
    this.applyMasks();
  }

  /** Writes `weight * mask` into every pruned weight (so that saved weights are sparse). */
  applyMasks(): void {
    for (const {weight, mask} of this.prunedWeights) {
      assign(weight, tf.tidy(() => tf.mul(weight.read(), mask.read())));
    }
  }

  /** `weight`'s name below the wrapper's scope, with `/` as `_` (e.g. `lstm_cell_recurrent_kernel`). */
  private relativeWeightName(weight: LayerVariable): string {
    const scope = `${this.name}/`;
    const name = weight.originalName.startsWith(scope) ? weight.originalName.slice(scope.length) : weight.originalName;
    return name.replace(/\//g, '_');
  }

  /** Sets the step (used when a restored model resumes). */
  private writeStep(): void {
    assign(this.stepVariable!, tf.scalar(this.step, 'int32'));
  }

  private assertBuilt(method: string): void {
    if (!this.built || this.stepVariable === null) {
      throw new PruningError(
          `PruneLowMagnitude.${method}: layer "${this.name}" is not built yet; build the model (call it on ` +
          'an input or give it an input shape) before training.');
    }
  }

  /** `{layer: {className, config}, pruningSchedule: {className, config}, ...}` plus the base layer config. */
  override getConfig(): tf.serialization.ConfigDict {
    return {
      layer: {
        className: this.layer.getClassName(),
        config: {...this.layer.getConfig(), ...missingConfigFields(this.layer)} as tf.serialization.ConfigDict,
      },
      pruningSchedule: serializeSchedule(this.pruningSchedule) as unknown as tf.serialization.ConfigDict,
      ...super.getConfig(),
    };
  }

  /**
   * Rebuilds a wrapper from its config (the inner layer and the schedule are
   * deserialized through tfjs's class registry). The config is not modified.
   */
  static override fromConfig<T extends tf.serialization.Serializable>(
      cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    const {layer, pruningSchedule, ...rest} = config;
    const inner = deserializeLayer(layer);
    const schedule = pruningSchedule == null ? undefined : deserializeSchedule(pruningSchedule);
    return new cls({...rest, layer: inner, pruningSchedule: schedule});
  }
}
tf.serialization.registerClass(PruneLowMagnitude);

/** Deserializes `{className, config}` into a layer through tfjs's class registry. */
export function deserializeLayer(serialized: unknown): Layer {
  const {className, config} = (serialized ?? {}) as {className?: unknown; config?: unknown};
  if (typeof className !== 'string' || typeof config !== 'object' || config === null) {
    throw new TypeError(argumentMessage(
        'PruneLowMagnitude.fromConfig', 'layer', 'must be {className, config}', serialized));
  }
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[className];
  if (entry === undefined) {
    throw new Error(
        `PruneLowMagnitude.fromConfig: unknown layer class "${className}". Register custom layers with ` +
        'tf.serialization.registerClass before loading.');
  }
  const [cls, fromConfig] = entry;
  const layer = fromConfig(cls, deepCopy(config) as tf.serialization.ConfigDict);
  if (!(layer instanceof tfl.layers.Layer)) {
    throw new TypeError(`PruneLowMagnitude.fromConfig: class "${className}" is not a layer.`);
  }
  return layer;
}
