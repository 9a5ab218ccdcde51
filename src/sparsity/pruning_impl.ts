/**
 * The pruning of one wrapper's weights, mirroring tfmot's `pruning_impl.py`:
 * the {@link Pruning} object that owns the pruned weights, their masks and
 * thresholds and their update, and the mask math it re-exports: the k-rule and
 * the exact threshold search (masks/radix_select.ts), and one file of mask math
 * per mask kind (masks/magnitude_mask.ts, block_mask.ts, m_by_n_mask.ts,
 * global_mask.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {LayerVariable} from '@tensorflow/tfjs-layers';

import {argumentMessage, describeValue} from '../util/validation';
import {PruningError} from './errors';
import type {MaskKind} from './masks/mask_kind';
import {assign} from './training_session';

export {
  type MaskResult, type Threshold, keepCount, kthLargestMagnitude, kthLargestMagnitudeAcross, roundHalfToEven,
} from './masks/radix_select';
export {type DeviceCut, cutAtThreshold, magnitudeMask} from './masks/magnitude_mask';
export {blockMagnitudeMask} from './masks/block_mask';
export {isPrunedMByN, mByNMask} from './masks/m_by_n_mask';
export {type GlobalMaskResult, globalMagnitudeMasks} from './masks/global_mask';

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

/** The index of the first value other than 0 and 1, or -1 (-0 counts as 0). */
function firstNonBinary(values: ArrayLike<unknown>): number {
  // A plain loop: findIndex's callback per element took 2 ms for a 409,600-element mask.
  for (let i = 0; i < values.length; i++) if (values[i] !== 0 && values[i] !== 1) return i;
  return -1;
}

/** A layer's `addWeight` for a non-trainable weight: name, shape, dtype and initializer. */
type AddWeight =
    (name: string, shape: tfl.Shape, dtype: tf.DataType, init: ReturnType<typeof tfl.initializers.ones>) => LayerVariable;

/**
 * The pruned weights of one wrapper with their masks and thresholds, and their
 * update: masks cut by the wrapper's mask kind or given by a group, then
 * `weight * mask` written back. Mirrors tfmot's `pruning_impl.Pruning`; the
 * wrapper (pruning_wrapper.ts) keeps the Keras plumbing and the step.
 */
export class Pruning {
  private weights: readonly PrunedWeight[] = [];
  private masksCut = false;

  /**
   * @param layerName The wrapper's name, for messages.
   * @param kind How masks are cut.
   */
  constructor(private readonly layerName: string, private readonly kind: MaskKind) {}

  /** The pruned weights (empty before the wrapper is built). */
  get prunedWeights(): readonly PrunedWeight[] {
    return this.weights;
  }

  /**
   * Adds a mask and a threshold per weight of `layer` that the mask kind prunes (when the wrapper is built).
   *
   * @param addWeight The wrapper's `addWeight`, for a non-trainable weight.
   * @throws PruningError when a weight is not float32 or does not fit the mask kind.
   */
  build(layer: tfl.layers.Layer, addWeight: AddWeight): void {
    const weights = this.kind.weightsOf(layer);
    this.weights = weights.map((weight) => {
      if (weight.dtype !== 'float32') {
        throw new PruningError(
            `PruneLowMagnitude: weight "${weight.originalName}" of layer "${layer.name}" has dtype ` +
            `${weight.dtype}; only float32 weights can be pruned.`);
      }
      this.kind.checkWeight(weight, layer.name);
      // One prunable weight: tfmot's names. Several (recurrent layers): named after the weight, e.g.
      // `recurrent_kernel_mask`. Never `mask_1`: tfjs makes variable names unique by appending `_1`,
      // which would collide when a second copy of the model is loaded in the same process.
      const prefix = weights.length === 1 ? '' : `${this.relativeWeightName(weight)}_`;
      const mask = addWeight(`${prefix}mask`, weight.shape, 'float32', tfl.initializers.ones());
      const threshold = addWeight(`${prefix}threshold`, [], 'float32', tfl.initializers.zeros());
      return {weight, mask, threshold};
    });
  }

  /**
   * Runs `fn` (the inner layer's call) with every pruned weight reading `weight * mask`, by shadowing
   * the variable's `read()` for the duration of the call: pruned weights get exactly zero gradient.
   */
  withMaskedWeights<T extends tf.Tensor | tf.Tensor[]>(fn: () => T): T {
    return tf.tidy(() => {
      const shadowed: LayerVariable[] = [];
      try {
        for (const {weight, mask} of this.weights) {
          const masked = tf.mul(weight.read(), mask.read());
          Object.defineProperty(weight, 'read', {value: () => masked, configurable: true, writable: true});
          shadowed.push(weight);
        }
        return fn();
      } finally {
        for (const weight of shadowed) delete (weight as unknown as {read?: unknown}).read;
      }
    });
  }

  /** Whether a mask has been cut since creation, or was loaded cut (see {@link checkSavedMasks}). */
  get hasCutMasks(): boolean {
    return this.masksCut;
  }

  /**
   * Checks the masks as loaded (each holds only 0 and 1); a mask holding a zero was cut before the save.
   *
   * @throws PruningError when a mask holds another value.
   */
  async checkSavedMasks(): Promise<void> {
    let cut = false;
    for (const {weight, mask} of this.weights) {
      const values = await mask.read().data();
      const bad = firstNonBinary(values);
      if (bad >= 0) {
        throw new PruningError(
            `PruneLowMagnitude: the mask of weight "${weight.originalName}" holds ${values[bad]} at flat index ` +
            `${bad}, but a mask holds only 0 and 1; the saved model is corrupt.`);
      }
      cut ||= values.includes(0);
    }
    this.masksCut ||= cut;
  }

  /** Cuts every mask at `sparsity` with the mask kind, then writes them (see PruneLowMagnitude.updateMasks). */
  async updateMasks(sparsity: number): Promise<void> {
    const masks: tf.Tensor[] = [];
    const thresholds: Array<number | tf.Tensor> = [];
    const masked: Array<tf.Tensor | undefined> = [];
    try {
      for (const {weight} of this.weights) {
        const result = await this.kind.cut(weight, sparsity);
        masks.push(result.mask);
        thresholds.push(result.threshold);
        masked.push(result.masked);
      }
    } catch (error) {
      tf.dispose([...masks, ...masked, ...thresholds].filter((t): t is tf.Tensor => t instanceof tf.Tensor));
      throw error;
    }
    this.write(masks, thresholds, masked);
  }

  /** Checks, then writes masks and thresholds given as arrays (see PruneLowMagnitude.setMasks). */
  setMasks(masks: readonly Float32Array[], thresholds: readonly number[]): void {
    const caller = 'PruneLowMagnitude.setMasks';
    if (!Array.isArray(masks)) throw new TypeError(argumentMessage(caller, 'masks', 'must be an array', masks));
    if (!Array.isArray(thresholds)) throw new TypeError(argumentMessage(caller, 'thresholds', 'must be an array', thresholds));
    if (masks.length !== this.weights.length || thresholds.length !== this.weights.length) {
      throw new RangeError(
          `PruneLowMagnitude.setMasks: layer "${this.layerName}" has ${this.weights.length} pruned weight(s), but ` +
          `got ${masks.length} mask(s) and ${thresholds.length} threshold(s).`);
    }
    this.weights.forEach(({weight}, i) => {
      const of = `(of weight "${weight.originalName}") of layer "${this.layerName}"`;
      const mask: unknown = masks[i];
      if (!(mask instanceof Float32Array) && !Array.isArray(mask)) {
        throw new TypeError(argumentMessage(caller, `masks[${i}]`, 'must be a Float32Array', mask));
      }
      const size = weight.shape.reduce<number>((a, b) => a * (b ?? 0), 1);
      if (masks[i].length !== size) {
        throw new RangeError(
            `PruneLowMagnitude.setMasks: mask ${i} of layer "${this.layerName}" must have ${size} values, but got ` +
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
    this.write(this.weights.map(({weight}, i) => tf.tensor(masks[i], weight.shape as number[], 'float32')), thresholds);
  }

  /** Writes `weight * mask` into every pruned weight (so that saved weights are sparse). */
  applyMasks(): void {
    for (const {weight, mask} of this.weights) {
      assign(weight, maskedWeight(weight.read(), mask.read()));
    }
  }

  /** `weight`'s name below the wrapper's scope, with `/` as `_` (e.g. `lstm_cell_recurrent_kernel`). */
  private relativeWeightName(weight: LayerVariable): string {
    const scope = `${this.layerName}/`;
    const name = weight.originalName.startsWith(scope) ? weight.originalName.slice(scope.length) : weight.originalName;
    return name.replace(/\//g, '_');
  }

  /**
   * Stores the masks and the thresholds, then writes `weight * mask` into the
   * weights: `masked[i]` when given (already computed with the mask), else
   * {@link maskedWeight}. Disposes the tensors it is given.
   */
  private write(
      masks: readonly tf.Tensor[], thresholds: ReadonlyArray<number | tf.Tensor>,
      masked: ReadonlyArray<tf.Tensor | undefined> = []): void {
    this.masksCut = true;
    this.weights.forEach(({weight, mask, threshold}, i) => {
      const value = thresholds[i];
      assign(mask, masks[i]);
      assign(threshold, typeof value === 'number' ? tf.scalar(value, 'float32') : value);
      assign(weight, masked[i] ?? maskedWeight(weight.read(), mask.read()));
    });
  }
}
