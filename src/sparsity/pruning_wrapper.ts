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
 * - As tfmot's, it is plumbing: the masks and their update live in pruning_impl.ts (`Pruning`), how they
 *   are cut in masks/ (a file per mask kind), the step in training_session.ts, the config in wrapper_config.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {LayerVariable} from '@tensorflow/tfjs-layers';

import {registerPackageClass, setBrand} from '../util/registry';
import {argumentMessage} from '../util/validation';
import {PruningError} from './errors';
import {LayerWrapper} from './layer_wrapper';
import type {MaskKind} from './masks/mask_kind';
import {type PrunedWeight, Pruning} from './pruning_impl';
import type {BlockPoolingType} from './pruning_params';
import {type PruningDecision, type PruningSchedule, serializeSchedule} from './pruning_schedule';
import {MISSING_CALLBACK_MESSAGE, PruningStep, UNTIL_ENDED, checkedDecision} from './training_session';
import {
  type PruneLowMagnitudeArgs, WRAPPER_BRAND, buildInnerLayer, checkSameWeightShapes, checkWrapperArgs, disposeWeightsOf,
  isPruneLowMagnitude, maskConfig, wrapperArgsFromConfig, wrapperName,
} from './wrapper_config';
import type {ChannelImportance} from '../channels/channel_masks';

export {maskedWeight} from './pruning_impl';
export type {PrunedWeight} from './pruning_impl';
export {MISSING_CALLBACK_MESSAGE} from './training_session';
export {deserializeLayer, isPruneLowMagnitude, maskConfig} from './wrapper_config';
export type {PruneLowMagnitudeArgs} from './wrapper_config';

type Layer = tfl.layers.Layer;

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
export class PruneLowMagnitude extends LayerWrapper {
  /** Name under which the class is registered for serialization (tfmot's name). */
  static className = 'PruneLowMagnitude';

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

  /** @internal How the masks are cut, chosen from the options above (masks/mask_kinds.ts). */
  readonly maskKind: MaskKind;

  private readonly pruning: Pruning;
  private steps: PruningStep | null = null;

  /**
   * `value instanceof PruneLowMagnitude` holds for the wrappers of every build
   * of this package loaded in the process (its ESM and its CJS build), not
   * only for this build's. Subclasses keep the usual `instanceof`.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return this === PruneLowMagnitude ? isPruneLowMagnitude(value) : Function.prototype[Symbol.hasInstance].call(this, value);
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
    super({...layerArgs, name: layerArgs.name ?? wrapperName(layer.name)});
    const {masking, maskKind, schedule} = checkWrapperArgs(
        layer, {pruningSchedule, blockSize, blockPoolingType, sparsityMByN, globalPruning, channelImportance});
    this.attachInnerLayer(layer, layerArgs.trainable);
    this.pruningSchedule = schedule;
    this.blockSize = masking.blockSize;
    this.blockPoolingType = masking.blockPoolingType;
    this.sparsityMByN = masking.sparsityMByN;
    this.globalPruning = masking.globalPruning;
    this.channelImportance = masking.channelImportance;
    this.maskKind = maskKind;
    this.pruning = new Pruning(this.name, maskKind);
  }

  /** The inner layer's trainable weights (masks are never trained). */
  override get trainableWeights(): LayerVariable[] {
    return this.layer.trainableWeights;
  }

  /**
   * Builds the inner layer, then adds a mask and a threshold per prunable weight and the pruning step.
   *
   * @throws PruningError when a prunable weight is not float32, or its rank does not fit `blockSize`
   *   (rank 2 only) or `sparsityMByN` (rank 2 or 4).
   */
  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    this.buildInnerWithWeights(inputShape);
    this.pruning.build(this.layer, (name, shape, dtype, initializer) =>
      this.addWeight(name, shape, dtype, initializer, undefined, false));
    // Porting note: tfjs's Constant initializer leaks a tensor for int32; start from zeros (PruningStep writes -1).
    this.steps = new PruningStep(
        this.addWeight('pruning_step', [], 'int32', tfl.initializers.zeros(), undefined, false), this.name);
    this.built = true;
  }

  /**
   * Runs the inner layer on `weight * mask`, with the call arguments (`training`, `mask`, ...).
   *
   * @throws PruningError when called in training mode without {@link UpdatePruningStep}.
   */
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    if (kwargs?.['training'] === true && !(this.steps?.inSession ?? false)) {
      throw new PruningError(MISSING_CALLBACK_MESSAGE);
    }
    return this.pruning.withMaskedWeights(() => this.layer.call(inputs, kwargs));
  }

  /** Builds the inner layer, explaining a rebuilt custom layer's failure. */
  protected override buildInnerLayer(inputShape: tfl.Shape | tfl.Shape[]): void {
    buildInnerLayer(this.layer, inputShape);
  }

  /**
   * Rejects a layer to copy whose weights do not have the inner layer's shapes.
   *
   * @throws PruningError when the inner layer's weights do not have the shapes of `source`'s (a custom
   *   layer whose config lost a constructor argument), naming the layer and the rule.
   */
  protected override checkSameWeightShapes(source: Layer): void {
    checkSameWeightShapes(this.layer, source);
  }

  /** The pruned weights with their masks and thresholds (empty before the wrapper is built). */
  getPrunedWeights(): readonly PrunedWeight[] {
    return this.pruning.prunedWeights;
  }

  /**
   * The pruning step, as saved in the `pruning_step` weight: -1 before
   * training; the k-th training batch runs at step k. (Reads the variable.)
   */
  get pruningStep(): number {
    return this.steps === null ? -1 : this.steps.value;
  }

  /**
   * Starts a training session (see `PruningStep.start`): keeps a saved step, sets a fresh wrapper's
   * to 0. Called by {@link UpdatePruningStep.onTrainBegin}.
   *
   * @param session Training calls are allowed while `session.isCurrent()` (default: until {@link endTraining}).
   * @throws PruningError when a session is already current, or the saved step or a saved mask is corrupt.
   */
  async startTraining(session: {isCurrent(): boolean} = UNTIL_ENDED): Promise<void> {
    this.assertBuilt('startTraining');
    await this.steps!.start(session, () => this.pruning.checkSavedMasks());
  }

  /**
   * Whether a mask has been cut: since the wrapper was created, or before a save (a loaded mask with a
   * zero, seen by {@link startTraining}). UpdatePruningStep warns when no mask of the model is cut.
   */
  get hasCutMasks(): boolean {
    return this.pruning.hasCutMasks;
  }

  /** Ends a training session: masks are applied to the weights and training without the callback fails again. */
  endTraining(): void {
    this.steps?.end();
    this.applyMasks();
  }

  /**
   * Advances the step by one and, when the schedule says so, recomputes every mask from the weights'
   * current values, then writes `weight * mask` into the weights. Called by {@link UpdatePruningStep}.
   *
   * Under `sparsityMByN` the masks are computed at step 1 only, whatever the schedule says. Under
   * `globalPruning` (and channel pruning) this only advances the step: {@link UpdatePruningStep} cuts them.
   *
   * @returns Whether the masks were recomputed.
   * @throws PruningError when a weight holds NaN or an infinite value at a mask update, or when the step
   *   would leave the range of the int32 `pruning_step` weight (2^31 - 1).
   */
  async advanceStep(): Promise<boolean> {
    this.assertBuilt('advanceStep');
    const sparsity = this.maskKind.dueSparsity(this.steps!.advance(), () => this.currentDecision());
    if (sparsity === null) return false;
    await this.updateMasks(sparsity);
    return true;
  }

  /**
   * The schedule's decision at {@link pruningStep}: whether masks are due, and the sparsity to aim for.
   *
   * @throws PruningError when the schedule (a custom one) answers something other than
   *   `{shouldPrune: boolean, sparsity: a number in [0, 1)}`, which would cut a wrong mask.
   */
  currentDecision(): PruningDecision {
    return checkedDecision(this.pruningSchedule, this.pruningStep, this.name);
  }

  /**
   * Recomputes every mask at `sparsity` from the current weights, stores the thresholds and writes
   * `weight * mask` back: tfmot's k-rule on |w| (keep the `max(round(n * (1 - sparsity)), 1)` largest,
   * ties kept), on block-pooled |w| with `blockSize`, or `m` zeros in every `n` with `sparsityMByN`
   * (ignoring `sparsity`); each weight on its own, also under `globalPruning` (see {@link UpdatePruningStep}).
   *
   * @param sparsity Target fraction of zeros, in [0, 1).
   * @throws PruningError when a weight holds NaN or an infinite value.
   */
  async updateMasks(sparsity: number): Promise<void> {
    await this.pruning.updateMasks(sparsity);
  }

  /**
   * Replaces every mask and threshold (in the order of {@link getPrunedWeights}) and writes `weight * mask`
   * into the weights; everything is checked before anything is written. Used for global pruning.
   *
   * @param masks One flat mask per pruned weight, of the weight's size, holding only 0 and 1.
   * @param thresholds One threshold per pruned weight: a finite number >= 0 (the smallest kept magnitude).
   * @throws TypeError when `masks` or `thresholds` is not an array, a mask not a Float32Array or a threshold
   *   not a number; RangeError when the counts or sizes do not match the pruned weights, a mask holds a
   *   value other than 0 and 1, or a threshold is negative, NaN or infinite.
   */
  setMasks(masks: readonly Float32Array[], thresholds: readonly number[]): void {
    this.pruning.setMasks(masks, thresholds);
  }

  /** Writes `weight * mask` into every pruned weight (so that saved weights are sparse). */
  applyMasks(): void {
    this.pruning.applyMasks();
  }

  private assertBuilt(method: string): void {
    if (!this.built || this.steps === null) {
      throw new PruningError(
          `PruneLowMagnitude.${method}: layer "${this.name}" is not built yet; build the model (call it on ` +
          'an input or give it an input shape) before training.');
    }
  }

  /**
   * `{layer: {className, config}, pruningSchedule: {className, config}, blockSize, blockPoolingType,
   * sparsityMByN (null when unset), globalPruning}` plus the base layer config.
   */
  override getConfig(): tf.serialization.ConfigDict {
    return {
      layer: this.innerLayerConfig(),
      pruningSchedule: serializeSchedule(this.pruningSchedule) as unknown as tf.serialization.ConfigDict,
      ...maskConfig(this),
      ...super.getConfig(),
    };
  }

  /**
   * Rebuilds a wrapper from its config (the inner layer and the schedule through tfjs's class registry);
   * the config is not modified. A `blockPoolingType` in capitals (tfmot's `'AVG'`) is read as lowercase;
   * missing or null mask options take their defaults. Nothing built for a rejected config stays allocated.
   *
   * @throws TypeError for a key this version does not know (a config written by a newer version), a
   *   `weights` or `__proto__` key, or an inner layer class that is not a single layer; whatever building
   *   the inner layer or the schedule throws (see `deserializeLayer`).
   */
  static override fromConfig<T extends tf.serialization.Serializable>(
      cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    const {layer: inner, pruningSchedule: schedule, args} = wrapperArgsFromConfig(config);
    try {
      return new cls({...args, layer: inner, pruningSchedule: schedule});
    } catch (e) {
      disposeWeightsOf(inner);
      throw e;
    }
  }
}
setBrand(PruneLowMagnitude.prototype, WRAPPER_BRAND);
registerPackageClass(PruneLowMagnitude);
