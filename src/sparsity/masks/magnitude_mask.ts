/**
 * The unstructured magnitude mask (tfmot's default): keep the weights whose
 * |w| is at least the k-th largest, computed in JavaScript or on the device.
 */
import * as tf from '@tensorflow/tfjs-core';

import {type MaskResult, type Threshold, keepCount, radixSelect} from './radix_select';

/**
 * The magnitude mask of tfmot for `values` at `sparsity`: keep every weight
 * whose |w| is at least the k-th largest |w| (ties are all kept), with
 * `k = keepCount(values.length, sparsity)`.
 *
 * @param values The weight's values (not modified).
 * @param sparsity Target fraction of zeros, in [0, 1).
 * @param weightName Used in error messages.
 * @throws PruningError when a value is NaN or infinite.
 */
export function magnitudeMask(values: Float32Array, sparsity: number, weightName = 'weight'): MaskResult {
  const n = values.length;
  if (n === 0) return {mask: new Float32Array(0), threshold: 0};
  const mask = new Float32Array(n);
  const threshold = radixSelect([values], keepCount(n, sparsity), [weightName], [mask]);
  return {mask, threshold: threshold.value};
}

/** A mask cut on the device, and the weight with it applied. */
export interface DeviceCut {
  /** 1 where `|w| >= threshold`, else 0. */
  mask: tf.Tensor;
  /** `weight * mask`, with +0 (never -0) where the mask is 0. */
  masked: tf.Tensor;
}

/**
 * The mask `|w| >= threshold` of a weight tensor and the weight with it
 * applied, computed on the weight's backend (no mask is built in JavaScript or
 * uploaded). The mask is `step(|w| - below)`, where `below` is the largest
 * float32 under the threshold: for float32 values `|w| >= threshold` exactly
 * when `|w| > below`, and `|w| - below > 0` exactly when `|w| > below`, since
 * the difference of two different float32 values never rounds to 0 (wasm,
 * JavaScript and TensorFlow keep subnormals). So it is the mask
 * {@link magnitudeMask} cuts from the same values. The applied weight is
 * `weight * mask + 0`: adding +0 turns the -0 of a pruned negative weight into
 * +0 and changes nothing else, because a positive threshold keeps no zero
 * weight.
 *
 * @param weight The weight (not disposed); finite, as the threshold search checked.
 * @param threshold The threshold, as {@link kthLargestMagnitude} returns it.
 */
export function cutAtThreshold(weight: tf.Tensor, threshold: Threshold): DeviceCut {
  return tf.tidy(() => {
    // A threshold of 0 keeps every weight (more are kept than are non-zero).
    if (threshold.bits === 0) return {mask: tf.onesLike(weight), masked: tf.clone(weight)};
    const below = new Float32Array(new Uint32Array([threshold.bits - 1]).buffer)[0];
    const mask = tf.step(tf.sub(tf.abs(weight), below));
    return {mask, masked: tf.add(tf.mul(weight, mask), 0)};
  });
}
