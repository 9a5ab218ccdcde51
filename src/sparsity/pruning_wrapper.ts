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
 * - The block, M-by-N and global-pruning options are saved in the config
 *   (tfmot forgets `sparsity_m_by_n`).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {LayerVariable} from '@tensorflow/tfjs-layers';

import {hasBrand, lookupRegisteredClass, packageBrand, registerPackageClass, setBrand} from '../util/registry';
import {argumentMessage, checkKnownKeys, checkNoProtoKeys, deepCopy, describeValue} from '../util/validation';
import {PruningError} from './errors';
import {
  MaskResult,
  blockMagnitudeMask,
  cutAtThreshold,
  keepCount,
  kthLargestMagnitude,
  mByNMask,
  magnitudeMask,
} from './pruning_impl';
import {BlockPoolingType, StructuredSparsityParams, describeParam, resolveMaskParams, usesBlocks} from './pruning_params';
import {
  ConstantSparsity,
  PruningDecision,
  PruningSchedule,
  deserializeSchedule,
  isPruningSchedule,
  serializeSchedule,
} from './pruning_schedule';
import {
  isPrunable, missingConfigFields, prunableWeightsOf, registeredClassNames, unsupportedLayerMessage,
} from './prune_registry';
import {wasmMagnitudeCut} from './wasm/magnitude_cut';
import {type ChannelImportance, channelWeightsOf} from '../channels/channel_masks';

type Layer = tfl.layers.Layer;
type LayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;

/** Arguments of {@link PruneLowMagnitude}. */
export interface PruneLowMagnitudeArgs extends LayerArgs, StructuredSparsityParams {
  /** The layer to wrap. The wrapper owns it from then on (use {@link pruneLowMagnitude} to keep yours intact). */
  layer: Layer;
  /** When and how much to prune. Default: a new `ConstantSparsity({targetSparsity: 0.5})`. */
  pruningSchedule?: PruningSchedule;
  /**
   * Prune with one magnitude threshold shared by every wrapper of the model
   * that has this option (cut by {@link UpdatePruningStep}), instead of one
   * threshold per weight. Default `false`. See {@link PruneLowMagnitudeParams.globalPruning}.
   */
  globalPruning?: boolean;
  /**
   * Channel pruning: the wrapper masks every weight of the layer except
   * BatchNormalization's moving statistics, and {@link UpdatePruningStep}
   * zeroes whole channels of the model's channel groups, ranked by this norm.
   * Set by {@link pruneChannels}; cannot be combined with the other mask options.
   */
  channelImportance?: ChannelImportance;
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

/**
 * A training session of {@link UpdatePruningStep}: training calls are allowed while `isCurrent()`
 * is true. It turns false when the `fit` it belongs to is over, also when that fit failed before
 * the callback's `onTrainEnd` could end the session.
 */
type TrainingSession = {isCurrent(): boolean};

/** The session of a direct {@link PruneLowMagnitude.startTraining} call: current until `endTraining`. */
const UNTIL_ENDED: TrainingSession = {isCurrent: () => true};

/** The largest step the int32 `pruning_step` weight can hold. */
const MAX_STEP = 2 ** 31 - 1;

/** The brand of every wrapper, in every build of this package (see util/registry.ts). */
const WRAPPER_BRAND = packageBrand('PruneLowMagnitude');

/** Marks a layer that {@link deserializeLayer} rebuilt from a config (a copy, or a loaded layer). */
const REBUILT_FROM_CONFIG = packageBrand('rebuiltFromConfig');

/**
 * The keys of a wrapper's config: its own, those of tfjs's base layer arguments, and the
 * `customObjects` tfjs's deserializer adds.
 */
const CONFIG_KEYS = [
  'layer', 'pruningSchedule', 'blockSize', 'blockPoolingType', 'sparsityMByN', 'globalPruning', 'channelImportance',
  'name', 'trainable', 'dtype', 'batchInputShape', 'inputShape', 'batchSize', 'inputDType', 'weights',
  'customObjects',
];

/**
 * `weight * mask`, as written back into a pruned weight: exactly +0 wherever the mask is 0 (a plain
 * product gives -0 for negative weights, which compresses worse) and the weight itself, bit for bit,
 * wherever it is 1. Arithmetic only, because it runs after every training batch: the product plus a
 * signed zero, `(0.5 - mask) * 0`, which is -0 where the mask is 1 (x + -0 is x, -0 included) and +0
 * where it is 0 (±0 + +0 is +0). A `where` on `mask > 0` costs ten times more on wasm and twice as
 * much on cpu. An infinite weight under a 0 gives NaN, as in the forward pass.
 */
export function maskedWeight(weight: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.add(tf.mul(weight, mask), tf.mul(tf.sub(0.5, mask), 0)));
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
 * How a mask is cut: by default the k-rule on each weight's magnitudes; with
 * `blockSize`, on magnitudes pooled over blocks (rank-2 weights only); with
 * `sparsityMByN`, `m` zeros in every `n` weights along the input channels,
 * once, at the first training step (rank-2 and rank-4 weights only); with
 * `globalPruning`, at one threshold shared with the model's other globally
 * pruned wrappers. All of these are saved in the config.
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
  /** The schedule that decides when and how much to prune (ignored under `sparsityMByN`). */
  readonly pruningSchedule: PruningSchedule;
  /** Block shape `[height, width]`; `[1, 1]` means no blocks. */
  readonly blockSize: [number, number];
  /** How blocks are pooled. */
  readonly blockPoolingType: BlockPoolingType;
  /** `[m, n]` of M-by-N sparsity, or null. */
  readonly sparsityMByN: [number, number] | null;
  /** Whether the masks are cut at a threshold shared with the model's other globally pruned wrappers. */
  readonly globalPruning: boolean;
  /** Under channel pruning, how channels are ranked ({@link pruneChannels}); null otherwise. */
  readonly channelImportance: ChannelImportance | null;

  private prunedWeights: PrunedWeight[] = [];
  private stepVariable: LayerVariable | null = null;
  private step = -1;
  private session: TrainingSession | null = null;
  private weightSource: Layer | null = null;
  private masksCut = false;

  /**
   * `value instanceof PruneLowMagnitude` holds for the wrappers of every build
   * of this package loaded in the process (its ESM and its CJS build), not
   * only for this build's. Subclasses keep the usual `instanceof`.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return this === PruneLowMagnitude ? isPruneLowMagnitude(value) :
      Function.prototype[Symbol.hasInstance].call(this, value);
  }

  /**
   * @param args See {@link PruneLowMagnitudeArgs}.
   * @throws TypeError when `layer` is not a tfjs layer, `pruningSchedule` not a schedule, or a mask
   *   option has the wrong type; RangeError when a mask option is out of range or the options cannot be
   *   combined; PruningError when the layer cannot be pruned (or is already a PruneLowMagnitude).
   */
  constructor(args: PruneLowMagnitudeArgs) {
    const layer = args?.layer;
    if (!(layer instanceof tfl.layers.Layer)) {
      throw new TypeError(argumentMessage('PruneLowMagnitude', 'layer', 'must be a tf.layers.Layer', layer));
    }
    const {
      layer: _layer, pruningSchedule, blockSize, blockPoolingType, sparsityMByN, globalPruning, channelImportance,
      ...layerArgs
    } = args;
    super({...layerArgs, name: layerArgs.name ?? `prune_low_magnitude_${layer.name}`});
    if (isPruneLowMagnitude(layer)) {
      throw new PruningError(
          `PruneLowMagnitude: layer "${layer.name}" is already a PruneLowMagnitude wrapper; wrappers cannot be ` +
          'nested.');
    }
    if (layer instanceof tfl.LayersModel) {
      throw new TypeError(
          `PruneLowMagnitude: 'layer' must be a single layer, but got the model "${layer.name}"; ` +
          'use pruneLowMagnitude(model) to prune every layer of a model.');
    }
    const masking = resolveMaskParams('PruneLowMagnitude',
        {blockSize, blockPoolingType, sparsityMByN, globalPruning, channelImportance});
    if (masking.channelImportance === null && !isPrunable(layer)) {
      throw new PruningError(unsupportedLayerMessage('PruneLowMagnitude', layer));
    }
    if (pruningSchedule !== undefined && !isPruningSchedule(pruningSchedule)) {
      throw new TypeError(argumentMessage(
          'PruneLowMagnitude', 'pruningSchedule', 'must be a PruningSchedule', pruningSchedule));
    }
    this.layer = layer;
    this.pruningSchedule = pruningSchedule ?? new ConstantSparsity({targetSparsity: 0.5});
    this.blockSize = masking.blockSize;
    this.blockPoolingType = masking.blockPoolingType;
    this.sparsityMByN = masking.sparsityMByN;
    this.globalPruning = masking.globalPruning;
    this.channelImportance = masking.channelImportance;
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

  /** Sets whether the inner layer is trainable. */
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
   * @throws PruningError when a prunable weight is not float32, or its rank
   *   does not fit `blockSize` (rank 2 only) or `sparsityMByN` (rank 2 or 4).
   */
  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    if (!this.layer.built) {
      try {
        this.layer.build(inputShape as tfl.Shape);
      } catch (cause) {
        if (!isRebuiltCustomLayer(this.layer)) throw cause;
        throw new PruningError(
            `PruneLowMagnitude: ${describeLayer(this.layer)} failed to build from its config: ` +
            `${causeOf(cause)}. ${rebuildRule(this.layer.getClassName())}`);
      }
      this.layer.built = true;
    }
    if (this.weightSource !== null) {
      this.checkSameWeightShapes(this.weightSource);
      this.layer.setWeights(this.weightSource.getWeights());
      this.weightSource = null;
    }
    const weights = this.channelImportance === null ? prunableWeightsOf(this.layer) : channelWeightsOf(this.layer);
    this.prunedWeights = weights.map((weight) => {
      if (weight.dtype !== 'float32') {
        throw new PruningError(
            `PruneLowMagnitude: weight "${weight.originalName}" of layer "${this.layer.name}" has dtype ` +
            `${weight.dtype}; only float32 weights can be pruned.`);
      }
      this.checkRank(weight);
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
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    if (kwargs?.['training'] === true && !(this.session?.isCurrent() ?? false)) {
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

  /**
   * Copies the weights of `source` into the inner layer now (the wrapper must
   * be built). {@link pruneLowMagnitude} uses it for the models it rebuilds.
   *
   * @param source A built layer of the inner layer's class and config.
   * @throws PruningError when the inner layer's weights do not have the shapes of `source`'s (a custom
   *   layer whose config lost a constructor argument), naming the layer and the rule.
   */
  copyInnerWeightsFrom(source: Layer): void {
    this.checkSameWeightShapes(source);
    this.layer.setWeights(source.getWeights());
  }

  /** Rejects a copy whose weights do not have the shapes of the layer it copies (a custom layer's lost config). */
  private checkSameWeightShapes(source: Layer): void {
    const shapes = (layer: Layer) => `[${layer.weights.map((w) => `[${w.shape.join(', ')}]`).join(', ')}]`;
    if (shapes(this.layer) !== shapes(source)) {
      throw new PruningError(
          `PruneLowMagnitude: ${describeLayer(this.layer)} rebuilt from its config has weights of shapes ` +
          `${shapes(this.layer)}, but the layer it copies has ${shapes(source)}. ` +
          rebuildRule(this.layer.getClassName()));
    }
  }

  /** Rejects a weight whose rank does not fit the block or M-by-N options. */
  private checkRank(weight: LayerVariable): void {
    const rank = weight.shape.length;
    const where = `weight "${weight.originalName}" of layer "${this.layer.name}" has shape ` +
        `${describeParam(weight.shape)} (rank ${rank})`;
    if (usesBlocks(this) && rank !== 2) {
      throw new PruningError(
          `PruneLowMagnitude: block sparsity (blockSize ${describeParam(this.blockSize)}) needs rank-2 weights, but ` +
          `${where}. Prune this layer without blockSize, or leave it unpruned with a PruningPolicy.`);
    }
    if (this.sparsityMByN !== null && rank !== 2 && rank !== 4) {
      throw new PruningError(
          `PruneLowMagnitude: M-by-N sparsity (sparsityMByN ${describeParam(this.sparsityMByN)}) needs rank-2 or ` +
          `rank-4 weights, but ${where}. Prune this layer without sparsityMByN, or leave it unpruned with a ` +
          'PruningPolicy.');
    }
  }

  /** The inner layer's output shape. */
  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
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
   *
   * @param session Until when training calls are allowed: while `session.isCurrent()` is true
   *   (default: until {@link endTraining}). UpdatePruningStep ends it with the `fit` it belongs to.
   * @throws PruningError when a session is already current (two UpdatePruningStep callbacks in one
   *   fit would advance the step twice per batch), or the saved step or a saved mask is corrupt (a step
   *   below -1, a mask value other than 0 and 1).
   */
  async startTraining(session: {isCurrent(): boolean} = UNTIL_ENDED): Promise<void> {
    this.assertBuilt('startTraining');
    if (this.session !== null && this.session.isCurrent()) {
      throw new PruningError(
          `PruneLowMagnitude: layer "${this.name}" is already being trained by an UpdatePruningStep: one fit has ` +
          'two of them (each would advance the pruning step at every batch), or a custom training loop did not ' +
          'call onTrainEnd(). Give fit one UpdatePruningStep; end custom training loops with onTrainEnd().');
    }
    const saved = (await this.stepVariable!.read().data())[0];
    if (saved < -1) {
      throw new PruningError(
          `PruneLowMagnitude: layer "${this.name}" holds the pruning step ${saved}, but a step is -1 (never ` +
          'trained) or >= 0; the saved model is corrupt.');
    }
    let cut = false;
    for (const {weight, mask} of this.prunedWeights) {
      const values = await mask.read().data();
      const bad = firstNonBinary(values);
      if (bad >= 0) {
        throw new PruningError(
            `PruneLowMagnitude: the mask of weight "${weight.originalName}" holds ${values[bad]} at flat index ` +
            `${bad}, but a mask holds only 0 and 1; the saved model is corrupt.`);
      }
      cut ||= values.includes(0);
    }
    // A saved mask holding a zero was cut before the save.
    this.masksCut ||= cut;
    this.step = saved === -1 ? 0 : saved;
    this.writeStep();
    this.session = session;
  }

  /**
   * Whether a mask of this wrapper has been cut: by a mask update since the
   * wrapper was created, or before a save (a mask loaded with a zero in it,
   * as seen by {@link startTraining}). {@link UpdatePruningStep} warns at the
   * end of a training after which no mask of the model has been cut.
   */
  get hasCutMasks(): boolean {
    return this.masksCut;
  }

  /** Ends a training session: masks are applied to the weights and training without the callback fails again. */
  endTraining(): void {
    this.session = null;
    this.applyMasks();
  }

  /**
   * Advances the step by one and, when the schedule says so, recomputes every
   * mask from the weights' current values, then writes `weight * mask` into the
   * weights. Called by {@link UpdatePruningStep.onBatchBegin} before each batch.
   *
   * Under `sparsityMByN` the masks are computed at step 1 only, whatever the
   * schedule says. Under `globalPruning` this only advances the step: the
   * masks are cut by {@link UpdatePruningStep}, which sees every globally
   * pruned wrapper of the model.
   *
   * @returns Whether the masks were recomputed.
   * @throws PruningError when a weight holds NaN or an infinite value at a mask update, or when the step
   *   would leave the range of the int32 `pruning_step` weight (2^31 - 1).
   */
  async advanceStep(): Promise<boolean> {
    this.assertBuilt('advanceStep');
    if (this.step >= MAX_STEP) {
      throw new PruningError(
          `PruneLowMagnitude: layer "${this.name}" is at pruning step ${this.step}, the largest its int32 ` +
          'pruning_step weight can hold; it cannot be trained further.');
    }
    this.step += 1;
    this.writeStep();
    if (this.sparsityMByN !== null) {
      if (this.step !== 1) return false;
      await this.updateMasks(0);
      return true;
    }
    if (this.globalPruning || this.channelImportance !== null) return false;
    const {shouldPrune, sparsity} = this.currentDecision();
    if (!shouldPrune) return false;
    await this.updateMasks(sparsity);
    return true;
  }

  /**
   * The schedule's decision at the current step (the step of the last
   * {@link advanceStep}; -1 before training).
   *
   * @returns Whether masks are due at this step, and the sparsity to aim for.
   * @throws PruningError when the schedule (a custom one) answers something other than
   *   `{shouldPrune: boolean, sparsity: a number in [0, 1)}`, which would cut a wrong mask.
   */
  currentDecision(): PruningDecision {
    const decision = this.pruningSchedule.call(this.step);
    const {shouldPrune, sparsity} = (decision ?? {}) as Partial<PruningDecision>;
    if (typeof shouldPrune !== 'boolean' || typeof sparsity !== 'number' || !(sparsity >= 0 && Math.fround(sparsity) < 1)) {
      throw new PruningError(
          `PruneLowMagnitude: the schedule ${this.pruningSchedule.getClassName()} of layer "${this.name}" returned ` +
          `{shouldPrune: ${describeValue(shouldPrune)}, sparsity: ${describeValue(sparsity)}} at step ${this.step}, ` +
          'but a schedule returns {shouldPrune: a boolean, sparsity: a number in [0, 1) (in float32)}.');
    }
    return decision;
  }

  /**
   * Recomputes every mask at `sparsity` from the current weights, stores the
   * thresholds and writes `weight * mask` back. The cut depends on the
   * options: tfmot's k-rule on |w| (keep the `max(round(n * (1 - sparsity)), 1)`
   * largest magnitudes, ties kept), the same rule on block-pooled magnitudes
   * with `blockSize`, or `m` zeros in every `n` weights with `sparsityMByN`
   * (which ignores `sparsity`). `globalPruning` is not applied here (see
   * {@link UpdatePruningStep}): this cuts each weight on its own.
   *
   * @param sparsity Target fraction of zeros, in [0, 1).
   * @throws PruningError when a weight holds NaN or an infinite value.
   */
  async updateMasks(sparsity: number): Promise<void> {
    const masks: tf.Tensor[] = [];
    const thresholds: Array<number | tf.Tensor> = [];
    const masked: Array<tf.Tensor | undefined> = [];
    try {
      for (const {weight} of this.prunedWeights) {
        const result = await this.cutMask(weight, sparsity);
        masks.push(result.mask);
        thresholds.push(result.threshold);
        masked.push(result.masked);
      }
    } catch (error) {
      tf.dispose([...masks, ...masked, ...thresholds].filter((t): t is tf.Tensor => t instanceof tf.Tensor));
      throw error;
    }
    this.writeMasks(masks, thresholds, masked);
  }

  /**
   * Replaces every mask and threshold (in the order of
   * {@link getPrunedWeights}) and writes `weight * mask` into the weights.
   * {@link UpdatePruningStep} uses it for global pruning.
   *
   * Everything is checked before anything is written.
   *
   * @param masks One flat mask per pruned weight, of the weight's size, holding only 0 and 1.
   * @param thresholds One threshold per pruned weight: a finite number >= 0 (the smallest kept magnitude).
   * @throws TypeError when `masks` or `thresholds` is not an array, a mask not a Float32Array or a threshold
   *   not a number; RangeError when the counts or sizes do not match the pruned weights, a mask holds a
   *   value other than 0 and 1, or a threshold is negative, NaN or infinite.
   */
  setMasks(masks: readonly Float32Array[], thresholds: readonly number[]): void {
    const caller = 'PruneLowMagnitude.setMasks';
    if (!Array.isArray(masks)) throw new TypeError(argumentMessage(caller, 'masks', 'must be an array', masks));
    if (!Array.isArray(thresholds)) throw new TypeError(argumentMessage(caller, 'thresholds', 'must be an array', thresholds));
    if (masks.length !== this.prunedWeights.length || thresholds.length !== this.prunedWeights.length) {
      throw new RangeError(
          `PruneLowMagnitude.setMasks: layer "${this.name}" has ${this.prunedWeights.length} pruned weight(s), but ` +
          `got ${masks.length} mask(s) and ${thresholds.length} threshold(s).`);
    }
    this.prunedWeights.forEach(({weight}, i) => {
      const of = `(of weight "${weight.originalName}") of layer "${this.name}"`;
      const mask: unknown = masks[i];
      if (!(mask instanceof Float32Array) && !Array.isArray(mask)) {
        throw new TypeError(argumentMessage(caller, `masks[${i}]`, 'must be a Float32Array', mask));
      }
      const size = weight.shape.reduce<number>((a, b) => a * (b ?? 0), 1);
      if (masks[i].length !== size) {
        throw new RangeError(
            `PruneLowMagnitude.setMasks: mask ${i} of layer "${this.name}" must have ${size} values, but got ` +
            `${masks[i].length}.`);
      }
      const bad = firstNonBinary(masks[i]);
      if (bad >= 0) {
        throw new RangeError(
            `PruneLowMagnitude.setMasks: mask ${i} ${of} holds ${describeValue(masks[i][bad])} at flat index ${bad}, ` +
            'but a mask holds only 0 and 1.');
      }
      const threshold: unknown = thresholds[i];
      if (typeof threshold !== 'number' || !Number.isFinite(threshold) || threshold < 0) {
        throw new (typeof threshold === 'number' ? RangeError : TypeError)(
            `PruneLowMagnitude.setMasks: threshold ${i} ${of} must be a finite number >= 0, but got ` +
            `${describeValue(threshold)}.`);
      }
    });
    this.writeMasks(this.prunedWeights.map(({weight}, i) => tf.tensor(masks[i], weight.shape as number[], 'float32')),
        thresholds);
  }

  /**
   * Stores the masks and the thresholds, then writes `weight * mask` into the
   * weights: `masked[i]` when given (already computed with the mask), else
   * {@link maskedWeight}. Disposes the tensors it is given.
   */
  private writeMasks(
      masks: readonly tf.Tensor[], thresholds: ReadonlyArray<number | tf.Tensor>,
      masked: ReadonlyArray<tf.Tensor | undefined> = []): void {
    this.masksCut = true;
    this.prunedWeights.forEach(({weight, mask, threshold}, i) => {
      const value = thresholds[i];
      assign(mask, masks[i]);
      assign(threshold, typeof value === 'number' ? tf.scalar(value, 'float32') : value);
      assign(weight, masked[i] ?? maskedWeight(weight.read(), mask.read()));
    });
  }

  /**
   * The mask of one weight under this wrapper's options. The plain magnitude
   * mask is computed where the weight lives, with the masked weight: on
   * tfjs-backend-wasm entirely in the wasm heap (wasm/magnitude_cut.ts),
   * elsewhere from the threshold found in a copy of the values (cheaper than
   * building the mask in JavaScript and uploading it). Block and M-by-N masks
   * are built in JavaScript.
   */
  private async cutMask(weight: LayerVariable, sparsity: number):
      Promise<{mask: tf.Tensor; threshold: number | tf.Tensor; masked?: tf.Tensor}> {
    const name = `weight "${weight.originalName}"`;
    const shape = weight.shape as number[];
    const size = weight.read().size;
    const plain = this.sparsityMByN === null && !usesBlocks(this);
    const inPlace = plain ? wasmMagnitudeCut(weight.read(), keepCount(size, sparsity), name) : null;
    if (inPlace !== null) return inPlace;
    const values = await weight.read().data() as Float32Array;
    const upload = ({mask, threshold}: MaskResult) => ({mask: tf.tensor(mask, shape, 'float32'), threshold});
    if (this.sparsityMByN !== null) return upload(mByNMask(values, shape, this.sparsityMByN, name));
    if (!plain) return upload(blockMagnitudeMask(values, shape, this.blockSize, this.blockPoolingType, sparsity, name));
    if (size === 0) return upload(magnitudeMask(values, sparsity, name));
    const threshold = kthLargestMagnitude(values, keepCount(size, sparsity), name);
    return {...cutAtThreshold(weight.read(), threshold), threshold: threshold.value};
  }

  /** Writes `weight * mask` into every pruned weight (so that saved weights are sparse). */
  applyMasks(): void {
    for (const {weight, mask} of this.prunedWeights) {
      assign(weight, maskedWeight(weight.read(), mask.read()));
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

  /**
   * `{layer: {className, config}, pruningSchedule: {className, config},
   * blockSize, blockPoolingType, sparsityMByN (null when unset), globalPruning}`
   * plus the base layer config.
   */
  override getConfig(): tf.serialization.ConfigDict {
    return {
      layer: {
        className: this.layer.getClassName(),
        config: {...this.layer.getConfig(), ...missingConfigFields(this.layer)} as tf.serialization.ConfigDict,
      },
      pruningSchedule: serializeSchedule(this.pruningSchedule) as unknown as tf.serialization.ConfigDict,
      ...maskConfig(this),
      ...super.getConfig(),
    };
  }

  /**
   * Rebuilds a wrapper from its config (the inner layer and the schedule are
   * deserialized through tfjs's class registry). The config is not modified.
   * A `blockPoolingType` in capitals (tfmot's `'AVG'`, `'MAX'`) is read as
   * lowercase; missing or null mask options take their defaults.
   *
   * Nothing built for a config that is rejected is left allocated.
   *
   * @throws TypeError for a key this version does not know (a config written by a newer version), a
   *   `weights` or `__proto__` key, or an inner layer class that is not a single layer; whatever building
   *   the inner layer or the schedule throws (see `deserializeLayer`).
   */
  static override fromConfig<T extends tf.serialization.Serializable>(
      cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    checkKnownKeys('PruneLowMagnitude.fromConfig', 'config key', config, CONFIG_KEYS,
        'A model saved by a newer version of tfjs-model-optimization needs that version to load.');
    checkNoWeightValues(config, 'config');
    checkNoProtoKeys('PruneLowMagnitude.fromConfig', 'config', config);
    const {
      layer, pruningSchedule, blockSize, blockPoolingType, sparsityMByN, globalPruning, channelImportance, ...rest
    } = config;
    const schedule = pruningSchedule == null ? undefined : deserializeSchedule(pruningSchedule);
    const options: Record<string, unknown> = {};
    if (blockSize != null) options['blockSize'] = deepCopy(blockSize);
    if (blockPoolingType != null) {
      options['blockPoolingType'] = typeof blockPoolingType === 'string' ? blockPoolingType.toLowerCase() : blockPoolingType;
    }
    if (sparsityMByN != null) options['sparsityMByN'] = deepCopy(sparsityMByN);
    if (globalPruning != null) options['globalPruning'] = globalPruning;
    if (channelImportance != null) options['channelImportance'] = channelImportance;
    const inner = deserializeLayer(layer);
    try {
      return new cls({...rest, ...options, layer: inner, pruningSchedule: schedule});
    } catch (e) {
      disposeWeightsOf(inner);
      throw e;
    }
  }
}
setBrand(PruneLowMagnitude.prototype, WRAPPER_BRAND);
registerPackageClass(PruneLowMagnitude);

/**
 * Whether `value` is a {@link PruneLowMagnitude} wrapper of any build of this
 * package (`instanceof` sees only one build's classes).
 */
export function isPruneLowMagnitude(value: unknown): value is PruneLowMagnitude {
  return hasBrand(value, WRAPPER_BRAND);
}

/** The index of the first value other than 0 and 1, or -1 (-0 counts as 0). */
function firstNonBinary(values: ArrayLike<unknown>): number {
  // A plain loop: findIndex's callback per element took 2 ms for a 409,600-element mask.
  for (let i = 0; i < values.length; i++) if (values[i] !== 0 && values[i] !== 1) return i;
  return -1;
}

/**
 * The mask options as saved in a wrapper's config: every option, with
 * `sparsityMByN` null when unset (tfjs's loader fails on undefined values).
 */
export function maskConfig(
    options: {blockSize: [number, number]; blockPoolingType: BlockPoolingType; sparsityMByN: [number, number] | null;
      globalPruning: boolean; channelImportance: ChannelImportance | null}): tf.serialization.ConfigDict {
  return {
    blockSize: [...options.blockSize],
    blockPoolingType: options.blockPoolingType,
    sparsityMByN: options.sparsityMByN === null ? null : [...options.sparsityMByN],
    globalPruning: options.globalPruning,
    // Only under channel pruning: the configs of other wrappers stay those of earlier versions.
    ...(options.channelImportance === null ? {} : {channelImportance: options.channelImportance}),
  };
}

/**
 * Deserializes `{className, config}` into a layer through tfjs's class
 * registry: for {@link PruneLowMagnitude.fromConfig}, and for
 * {@link pruneLowMagnitude}, which wraps a copy of each layer rebuilt from its
 * config. The class is checked before anything is built, the config is copied
 * (never modified), and a layer rebuilt under another name than its config's
 * (a constructor that ignores its config) is refused.
 *
 * @throws TypeError when the input is not `{className, config}`, the config holds a `__proto__` or
 *   `weights` key, or the class is not a single layer; Error when the class is not registered;
 *   PruningError when the class is a PruneLowMagnitude, or when a custom layer cannot be rebuilt from its
 *   config (naming the layer, the cause and the rule).
 */
export function deserializeLayer(serialized: unknown): Layer {
  const {className, config} = (serialized ?? {}) as {className?: unknown; config?: unknown};
  if (typeof className !== 'string' || typeof config !== 'object' || config === null) {
    throw new TypeError(argumentMessage(
        'PruneLowMagnitude.fromConfig', 'layer', 'must be {className, config}', serialized));
  }
  checkNoProtoKeys('PruneLowMagnitude.fromConfig', 'layer.config', config);
  checkNoWeightValues(config, 'layer.config');
  const entry = lookupRegisteredClass(className);
  if (entry === undefined) {
    throw new Error(
        `PruneLowMagnitude.fromConfig: unknown layer class "${className}". Register custom layers with ` +
        'tf.serialization.registerClass before loading.');
  }
  // Checked on the class, before building: a model class builds its weights in its constructor.
  const prototype: unknown = entry.cls.prototype;
  const name = (config as {name?: unknown}).name;
  if (isPruneLowMagnitude(prototype)) {
    throw new PruningError(
        `PruneLowMagnitude: layer ${describeValue(name)} is already a PruneLowMagnitude wrapper; wrappers cannot be ` +
        'nested.');
  }
  if (prototype instanceof tfl.LayersModel) {
    throw new TypeError(
        `PruneLowMagnitude.fromConfig: 'layer' must be a single layer, but got the model ${describeValue(name)} ` +
        `(class ${className}); a PruneLowMagnitude wraps one layer (pruneLowMagnitude(model) prunes every layer of ` +
        'a model).');
  }
  if (!(prototype instanceof tfl.layers.Layer)) {
    throw new TypeError(`PruneLowMagnitude.fromConfig: class "${className}" is not a layer.`);
  }
  const custom = !registeredClassNames().includes(className);
  const described = `layer ${describeValue(name)} (class ${className})`;
  let layer: unknown;
  try {
    layer = entry.fromConfig(entry.cls, deepCopy(config) as tf.serialization.ConfigDict);
  } catch (cause) {
    if (!custom) throw cause;
    throw new PruningError(
        `PruneLowMagnitude: ${described} cannot be rebuilt from its config: ${causeOf(cause)}. ${rebuildRule(className)}`);
  }
  if (!(layer instanceof tfl.layers.Layer)) {
    throw new TypeError(`PruneLowMagnitude.fromConfig: class "${className}" is not a layer.`);
  }
  if (typeof name === 'string' && layer.name !== name) {
    disposeWeightsOf(layer);
    throw new PruningError(
        `PruneLowMagnitude: ${described} rebuilt from its config is named "${layer.name}": its constructor did not ` +
        `take the config. ${rebuildRule(className)}`);
  }
  if (custom) Object.defineProperty(layer, REBUILT_FROM_CONFIG, {value: true});
  return layer;
}

/** Rejects a `weights` key: weight values are never part of a saved config (they load from the weights manifest). */
function checkNoWeightValues(config: object, arg: string): void {
  const weights = (config as {weights?: unknown}).weights;
  if (weights != null) {
    throw new TypeError(argumentMessage(
        'PruneLowMagnitude.fromConfig', `${arg}.weights`, 'is not allowed (a saved config holds no weight values; ' +
        'they load from the weights manifest)', weights));
  }
}

/** Whether `layer` is a custom (not built-in) layer that {@link deserializeLayer} rebuilt from its config. */
function isRebuiltCustomLayer(layer: Layer): boolean {
  return (layer as unknown as Record<symbol, unknown>)[REBUILT_FROM_CONFIG] === true;
}

/** `layer "name" (class ClassName)`. */
function describeLayer(layer: Layer): string {
  return `layer "${layer.name}" (class ${layer.getClassName()})`;
}

/** The message of a caught error (or the value itself). */
function causeOf(cause: unknown): string {
  return (cause instanceof Error ? cause.message : String(cause)).replace(/\.$/, '');
}

/** The rule a custom layer breaks when the wrapper cannot rebuild it from its config. */
function rebuildRule(className: string): string {
  return 'The wrapper prunes a copy of the layer rebuilt from its config (and a saved model loads that way), so ' +
      `a prunable custom layer must be rebuildable with ${className}.fromConfig(${className}, layer.getConfig()), ` +
      `by default new ${className}(layer.getConfig()): give ${className} a constructor that takes one args ` +
      'object and a getConfig() that returns every constructor argument (see docs/custom-prunable-layers.md).';
}

/** Frees the weights of a layer built for a config that is then rejected (a layer never used has no refcount). */
function disposeWeightsOf(layer: Layer): void {
  for (const weight of layer.weights) {
    try {
      weight.dispose();
    } catch {
      // Already disposed.
    }
  }
}
