/** The M-by-N mask (tfmot's `sparsity_m_by_n`) and the check that a tensor has that layout. */
import * as tf from '@tensorflow/tfjs-core';

import {checkMByN, describeParam} from '../pruning_params';
import {type MaskResult, assertFinite} from './radix_select';

/**
 * The layout of a weight for M-by-N grouping: `outer x inChannels x outChannels`
 * (rank 2 `[in, out]`: outer 1; rank 4 `[h, w, in, out]`: outer h * w).
 */
function mByNLayout(shape: readonly number[]): {outer: number; inChannels: number; outChannels: number} {
  if (shape.length === 2) return {outer: 1, inChannels: shape[0], outChannels: shape[1]};
  return {outer: shape[0] * shape[1], inChannels: shape[2], outChannels: shape[3]};
}

/** How many weights a group of `size` keeps under M-by-N: `min(size, n - m)`. */
function mByNKeep(size: number, [m, n]: readonly [number, number]): number {
  return Math.min(size, n - m);
}

/**
 * The M-by-N mask (tfmot's `sparsity_m_by_n`): in every group of `n`
 * consecutive weights along the input-channel axis (Dense kernel `[in, out]`:
 * along `in` for each output; Conv2D kernel `[h, w, in, out]`: along `in` for
 * each `(h, w, out)`), keep the `n - m` largest |w| and zero the other `m`.
 * Ties keep the lower index; a last partial group of `c < n` weights keeps
 * `min(c, n - m)`.
 *
 * @param values The weight's values, row-major (not modified).
 * @param shape The weight's shape, rank 2 or 4.
 * @param mByN `[m, n]` with `1 <= m < n`.
 * @param weightName Used in error messages.
 * @returns The mask and the smallest kept magnitude.
 * @throws PruningError when a value is NaN or infinite.
 */
export function mByNMask(
    values: Float32Array, shape: readonly number[], mByN: readonly [number, number], weightName = 'weight'): MaskResult {
  if (shape.length !== 2 && shape.length !== 4) {
    throw new RangeError(`mByNMask: 'shape' must have rank 2 or 4, but got ${describeParam(shape)}.`);
  }
  assertFinite(values, weightName);
  const {outer, inChannels, outChannels} = mByNLayout(shape);
  const n = mByN[1];
  const mask = new Float32Array(values.length);
  const order: number[] = [];
  let threshold = Infinity;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < outChannels; j++) {
      for (let start = 0; start < inChannels; start += n) {
        const size = Math.min(n, inChannels - start);
        order.length = 0;
        for (let t = 0; t < size; t++) order.push(((o * inChannels) + start + t) * outChannels + j);
        // Largest magnitude first; the index order breaks ties (lower index first).
        order.sort((a, b) => Math.abs(values[b]) - Math.abs(values[a]) || a - b);
        const keep = mByNKeep(size, mByN);
        for (let t = 0; t < keep; t++) {
          mask[order[t]] = 1;
          threshold = Math.min(threshold, Math.abs(values[order[t]]));
        }
      }
    }
  }
  return {mask, threshold: threshold === Infinity ? 0 : threshold};
}

/**
 * Whether a tensor is M-by-N sparse: every group of `n` consecutive values
 * along the input-channel axis (axis 0 of a rank-2 `[in, out]` kernel, axis
 * 2 of a rank-4 `[h, w, in, out]` kernel) holds at least `m` zeros, and a
 * last partial group of `c < n` values at least `c - min(c, n - m)` zeros,
 * the layout {@link pruneLowMagnitude}'s `sparsityMByN` produces. (tfmot's
 * `is_pruned_m_by_n`.)
 *
 * @param weights A rank-2 or rank-4 tensor (a kernel; `layerVariable.read()` for a weight). Not disposed.
 * @param mByN `[m, n]`, integers with `1 <= m < n`.
 * @returns `true` when every group has its zeros.
 * @throws TypeError when `weights` is not a tensor or `mByN` not two integers; RangeError when the
 *   tensor's rank is not 2 or 4, or `mByN` breaks `1 <= m < n`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import {isPrunedMByN} from 'tfjs-model-optimization';
 *
 * const kernel = tf.tensor2d([[0, 1], [2, 0], [0, 3], [4, 0]]); // [in 4, out 2]
 * await isPrunedMByN(kernel, [2, 4]); // true: each column holds 2 zeros in its group of 4
 * await isPrunedMByN(kernel, [3, 4]); // false
 * ```
 *
 * @category Pruning
 */
export async function isPrunedMByN(weights: tf.Tensor, mByN: [number, number]): Promise<boolean> {
  if (!(weights instanceof tf.Tensor)) {
    throw new TypeError(`isPrunedMByN: 'weights' must be a tf.Tensor, but got ${describeParam(weights)}.`);
  }
  const checked = checkMByN('isPrunedMByN', 'mByN', mByN);
  if (weights.rank !== 2 && weights.rank !== 4) {
    throw new RangeError(
        `isPrunedMByN: 'weights' must have rank 2 or 4, but got a tensor of shape ${describeParam(weights.shape)}.`);
  }
  const values = await weights.data();
  const {outer, inChannels, outChannels} = mByNLayout(weights.shape);
  const n = checked[1];
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < outChannels; j++) {
      for (let start = 0; start < inChannels; start += n) {
        const size = Math.min(n, inChannels - start);
        let zeros = 0;
        for (let t = 0; t < size; t++) if (values[((o * inChannels) + start + t) * outChannels + j] === 0) zeros++;
        if (zeros < size - mByNKeep(size, checked)) return false;
      }
    }
  }
  return true;
}
