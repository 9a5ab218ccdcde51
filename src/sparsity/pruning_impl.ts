/**
 * Mask computation: how many weights to keep, the magnitude threshold and the
 * 0/1 mask, for unstructured, block, M-by-N and global (model-wide) pruning.
 * Mirrors the arithmetic of tfmot's `pruning_impl.py`.
 *
 * Porting note: tfmot sorts all |w| with `top_k` (O(n log n)); this port finds
 * the same threshold with a two-pass radix selection on the float32 bit
 * patterns (O(n), exact, no randomness), on a copy of the weights in JS.
 */
import * as tf from '@tensorflow/tfjs-core';

import {PruningError} from './errors';
import {checkMByN, describeParam} from './pruning_params';
import type {BlockPoolingType} from './pruning_params';

/** Rounds half to even, like `tf.round` (banker's rounding). */
export function roundHalfToEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * The number of weights kept at `sparsity` out of `size`:
 * `max(roundHalfToEven(fround(size) * fround(1 - sparsity)), 1)`, in float32
 * as tfmot computes it (`sparsity` is first rounded to float32).
 */
export function keepCount(size: number, sparsity: number): number {
  const f = Math.fround;
  const kept = roundHalfToEven(f(f(size) * f(1 - f(sparsity))));
  return Math.min(size, Math.max(kept, 1));
}

const ABS_MASK = 0x7fffffff;
const INFINITY_BITS = 0x7f800000;

/** The result of a threshold search: the float32 threshold and its bit pattern. */
export interface Threshold {
  /** The k-th largest |w| (a float32 value). */
  value: number;
  /** `value`'s IEEE-754 bit pattern; |w| >= value exactly when absBits(w) >= bits. */
  bits: number;
}

/**
 * Returns the k-th largest magnitude of `values` (1-based k), exactly.
 *
 * The magnitudes of float32 values order like their bit patterns with the sign
 * bit cleared, so a 16-bit + 16-bit radix selection finds the k-th largest in
 * two passes over the data, ties included.
 *
 * @throws PruningError when a value is NaN or infinite (no mask would be meaningful).
 */
export function kthLargestMagnitude(values: Float32Array, k: number, weightName = 'weight'): Threshold {
  return kthLargestMagnitudeAcross([values], k, [weightName]);
}

/**
 * The k-th largest magnitude over several arrays taken together (global
 * pruning): the same radix selection, with one histogram for all of them.
 *
 * @param arrays The values; none is modified.
 * @param k 1-based rank, in [1, total length].
 * @param names One name per array, used in error messages.
 * @throws PruningError when a value is NaN or infinite.
 */
export function kthLargestMagnitudeAcross(arrays: readonly Float32Array[], k: number, names: readonly string[]): Threshold {
  const n = arrays.reduce((total, values) => total + values.length, 0);
  if (!(k >= 1 && k <= n)) {
    throw new RangeError(`kthLargestMagnitude: 'k' must be in [1, ${n}], but got ${k}.`);
  }
  const views = arrays.map((values) => new Uint32Array(values.buffer, values.byteOffset, values.length));
  const high = new Uint32Array(65536);
  views.forEach((bits, a) => {
    for (let i = 0; i < bits.length; i++) {
      const b = bits[i] & ABS_MASK;
      if (b >= INFINITY_BITS) {
        throw new PruningError(
            `Cannot prune ${names[a] ?? 'weight'}: it holds ${Number.isNaN(arrays[a][i]) ? 'NaN' : 'an infinite value'} ` +
            `(at flat index ${i}). Pruning needs finite weights; check the training for divergence.`);
      }
      high[b >>> 16]++;
    }
  });
  let remaining = k;
  let hi = 65535;
  for (; hi > 0; hi--) {
    if (high[hi] >= remaining) break;
    remaining -= high[hi];
  }
  const low = new Uint32Array(65536);
  for (const bits of views) {
    for (let i = 0; i < bits.length; i++) {
      const b = bits[i] & ABS_MASK;
      if (b >>> 16 === hi) low[b & 0xffff]++;
    }
  }
  let lo = 65535;
  for (; lo > 0; lo--) {
    if (low[lo] >= remaining) break;
    remaining -= low[lo];
  }
  const thresholdBits = ((hi << 16) | lo) >>> 0;
  const view = new Uint32Array([thresholdBits]);
  return {value: new Float32Array(view.buffer)[0], bits: thresholdBits};
}

/** A mask and the threshold it was cut at. */
export interface MaskResult {
  /** 1 where the weight is kept, 0 where it is pruned. */
  mask: Float32Array;
  /** The smallest kept magnitude. */
  threshold: number;
}

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
export function magnitudeMask(values: Float32Array, sparsity: number, weightName?: string): MaskResult {
  const n = values.length;
  if (n === 0) return {mask: new Float32Array(0), threshold: 0};
  const threshold = kthLargestMagnitude(values, keepCount(n, sparsity), weightName);
  return {mask: maskAtThreshold(values, threshold.bits), threshold: threshold.value};
}

/** The 0/1 mask `|w| >= threshold` of `values`, from the threshold's bit pattern. */
function maskAtThreshold(values: Float32Array, thresholdBits: number): Float32Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const mask = new Float32Array(values.length);
  for (let i = 0; i < bits.length; i++) mask[i] = (bits[i] & ABS_MASK) >= thresholdBits ? 1 : 0;
  return mask;
}

/** Throws a PruningError naming the first NaN or infinite value of `values`. */
function assertFinite(values: Float32Array, weightName: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new PruningError(
          `Cannot prune ${weightName}: it holds ${Number.isNaN(values[i]) ? 'NaN' : 'an infinite value'} ` +
          `(at flat index ${i}). Pruning needs finite weights; check the training for divergence.`);
    }
  }
}

/**
 * The block-sparsity mask (tfmot's `block_size` / `block_pooling_type`) of a
 * rank-2 weight: |w| is pooled over non-overlapping `bh x bw` blocks (the
 * average or the maximum of what each block holds), the k-rule of
 * {@link magnitudeMask} is applied to the pooled values, and each block's
 * 0/1 is spread back over its weights.
 *
 * Porting note: blocks start at index 0 and a last block that does not fit
 * is partial (it pools only the weights it holds). tfmot pads the pooling
 * windows and the mask blocks differently when a dimension is not a multiple
 * of the block, so its mask is shifted against its pooling there.
 *
 * @param values The weight's values, row-major (not modified).
 * @param shape The weight's shape `[rows, cols]`.
 * @param blockSize `[bh, bw]`, integers >= 1.
 * @param pooling `'avg'` or `'max'`.
 * @param sparsity Target fraction of zeroed blocks, in [0, 1).
 * @param weightName Used in error messages.
 * @returns The mask (shaped like `values`) and the threshold on the pooled magnitudes.
 * @throws PruningError when a value is NaN or infinite.
 */
export function blockMagnitudeMask(
    values: Float32Array, shape: readonly number[], blockSize: readonly [number, number], pooling: BlockPoolingType,
    sparsity: number, weightName = 'weight'): MaskResult {
  if (shape.length !== 2) {
    throw new RangeError(`blockMagnitudeMask: 'shape' must have rank 2, but got ${describeParam(shape)}.`);
  }
  assertFinite(values, weightName);
  const [rows, cols] = shape;
  const [bh, bw] = blockSize;
  const blockRows = Math.ceil(rows / bh);
  const blockCols = Math.ceil(cols / bw);
  const pooled = new Float32Array(blockRows * blockCols);
  if (pooling === 'max') {
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const b = Math.floor(r / bh) * blockCols + Math.floor(c / bw);
        pooled[b] = Math.max(pooled[b], Math.abs(values[r * cols + c]));
      }
    }
  } else {
    const sums = new Float64Array(pooled.length);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) sums[Math.floor(r / bh) * blockCols + Math.floor(c / bw)] += Math.abs(values[r * cols + c]);
    }
    for (let br = 0; br < blockRows; br++) {
      const height = Math.min(bh, rows - br * bh);
      for (let bc = 0; bc < blockCols; bc++) {
        const width = Math.min(bw, cols - bc * bw);
        pooled[br * blockCols + bc] = sums[br * blockCols + bc] / (height * width);
      }
    }
  }
  const {mask: blockMask, threshold} = magnitudeMask(pooled, sparsity, weightName);
  const mask = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) mask[r * cols + c] = blockMask[Math.floor(r / bh) * blockCols + Math.floor(c / bw)];
  }
  return {mask, threshold};
}

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

/** Masks of several weights cut at one threshold (global pruning). */
export interface GlobalMaskResult {
  /** One mask per weight, in the order given. */
  masks: Float32Array[];
  /** The k-th largest magnitude over all weights (0 when they are all empty). */
  threshold: number;
}

/**
 * Global magnitude pruning: one threshold for several weights taken
 * together. `k = keepCount(total size, sparsity)` weights are kept over all
 * of them (ties at the threshold kept), so each weight ends at its own
 * sparsity while the total reaches the target by the k-rule.
 *
 * @param arrays The weights' values (not modified).
 * @param sparsity Target fraction of zeros over all weights, in [0, 1).
 * @param names One name per weight, used in error messages.
 * @throws PruningError when a value is NaN or infinite.
 */
export function globalMagnitudeMasks(
    arrays: readonly Float32Array[], sparsity: number, names: readonly string[] = []): GlobalMaskResult {
  const total = arrays.reduce((sum, values) => sum + values.length, 0);
  if (total === 0) return {masks: arrays.map(() => new Float32Array(0)), threshold: 0};
  const threshold = kthLargestMagnitudeAcross(arrays, keepCount(total, sparsity), names);
  return {masks: arrays.map((values) => maskAtThreshold(values, threshold.bits)), threshold: threshold.value};
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
