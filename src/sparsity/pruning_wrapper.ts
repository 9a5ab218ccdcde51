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

import {argumentMessage, deepCopy} from '../util/validation';
import {PruningError} from './errors';
import {MaskResult, blockMagnitudeMask, mByNMask, magnitudeMask} from './pruning_impl';
import {BlockPoolingType, StructuredSparsityParams, describeParam, resolveMaskParams, usesBlocks} from './pruning_params';
import {
  ConstantSparsity,
  PruningDecision,
  PruningSchedule,
  deserializeSchedule,
  serializeSchedule,
} from './pruning_schedule';
import {isPrunable, missingConfigFields, prunableWeightsOf, unsupportedLayerMessage} from './prune_registry';

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

  private prunedWeights: PrunedWeight[] = [];
  private stepVariable: LayerVariable | null = null;
  private step = -1;
  private trainingEnabled = false;
  private weightSource: Layer | null = null;

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
      layer: _layer, pruningSchedule, blockSize, blockPoolingType, sparsityMByN, globalPruning, ...layerArgs
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
    const masking = resolveMaskParams('PruneLowMagnitude', {blockSize, blockPoolingType, sparsityMByN, globalPruning});
    this.layer = layer;
    this.pruningSchedule = pruningSchedule ?? new ConstantSparsity({targetSparsity: 0.5});
    this.blockSize = masking.blockSize;
    this.blockPoolingType = masking.blockPoolingType;
    this.sparsityMByN = masking.sparsityMByN;
    this.globalPruning = masking.globalPruning;
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
   * Under `sparsityMByN` the masks are computed at step 1 only, whatever the
   * schedule says. Under `globalPruning` this only advances the step: the
   * masks are cut by {@link UpdatePruningStep}, which sees every globally
   * pruned wrapper of the model.
   *
   * @returns Whether the masks were recomputed.
   */
  async advanceStep(): Promise<boolean> {
    this.assertBuilt('advanceStep');
    this.step += 1;
    this.writeStep();
    if (this.sparsityMByN !== null) {
      if (this.step !== 1) return false;
      await this.updateMasks(0);
      return true;
    }
    if (this.globalPruning) return false;
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
   */
  currentDecision(): PruningDecision {
    return this.pruningSchedule.call(this.step);
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
    const masks: Float32Array[] = [];
    const thresholds: number[] = [];
    for (const {weight} of this.prunedWeights) {
      const values = await weight.read().data() as Float32Array;
      const result = this.cutMask(values, weight, sparsity);
      masks.push(result.mask);
      thresholds.push(result.threshold);
    }
    this.setMasks(masks, thresholds);
  }

  /**
   * Replaces every mask and threshold (in the order of
   * {@link getPrunedWeights}) and writes `weight * mask` into the weights.
   * {@link UpdatePruningStep} uses it for global pruning.
   *
   * @param masks One flat 0/1 mask per pruned weight, of the weight's size.
   * @param thresholds One threshold per pruned weight.
   * @throws RangeError when the counts or sizes do not match the pruned weights.
   */
  setMasks(masks: readonly Float32Array[], thresholds: readonly number[]): void {
    if (masks.length !== this.prunedWeights.length || thresholds.length !== this.prunedWeights.length) {
      throw new RangeError(
          `PruneLowMagnitude.setMasks: layer "${this.name}" has ${this.prunedWeights.length} pruned weight(s), but ` +
          `got ${masks.length} mask(s) and ${thresholds.length} threshold(s).`);
    }
    this.prunedWeights.forEach(({weight, mask, threshold}, i) => {
      const size = weight.shape.reduce<number>((a, b) => a * (b ?? 0), 1);
      if (masks[i].length !== size) {
        throw new RangeError(
            `PruneLowMagnitude.setMasks: mask ${i} of layer "${this.name}" must have ${size} values, but got ` +
            `${masks[i].length}.`);
      }
      assign(mask, tf.tensor(masks[i], weight.shape as number[], 'float32'));
      assign(threshold, tf.scalar(thresholds[i], 'float32'));
    });
    this.applyMasks();
  }

  /** The mask of one weight under this wrapper's options. */
  private cutMask(values: Float32Array, weight: LayerVariable, sparsity: number): MaskResult {
    const name = `weight "${weight.originalName}"`;
    const shape = weight.shape as number[];
    if (this.sparsityMByN !== null) return mByNMask(values, shape, this.sparsityMByN, name);
    if (usesBlocks(this)) return blockMagnitudeMask(values, shape, this.blockSize, this.blockPoolingType, sparsity, name);
    return magnitudeMask(values, sparsity, name);
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
   */
  static override fromConfig<T extends tf.serialization.Serializable>(
      cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    const {layer, pruningSchedule, blockSize, blockPoolingType, sparsityMByN, globalPruning, ...rest} = config;
    const inner = deserializeLayer(layer);
    const schedule = pruningSchedule == null ? undefined : deserializeSchedule(pruningSchedule);
    const options: Record<string, unknown> = {};
    if (blockSize != null) options['blockSize'] = deepCopy(blockSize);
    if (blockPoolingType != null) {
      options['blockPoolingType'] = typeof blockPoolingType === 'string' ? blockPoolingType.toLowerCase() : blockPoolingType;
    }
    if (sparsityMByN != null) options['sparsityMByN'] = deepCopy(sparsityMByN);
    if (globalPruning != null) options['globalPruning'] = globalPruning;
    return new cls({...rest, ...options, layer: inner, pruningSchedule: schedule});
  }
}
tf.serialization.registerClass(PruneLowMagnitude);

/**
 * The mask options as saved in a wrapper's config: every option, with
 * `sparsityMByN` null when unset (tfjs's loader fails on undefined values).
 */
export function maskConfig(
    options: {blockSize: [number, number]; blockPoolingType: BlockPoolingType; sparsityMByN: [number, number] | null;
      globalPruning: boolean}): tf.serialization.ConfigDict {
  return {
    blockSize: [...options.blockSize],
    blockPoolingType: options.blockPoolingType,
    sparsityMByN: options.sparsityMByN === null ? null : [...options.sparsityMByN],
    globalPruning: options.globalPruning,
  };
}

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
