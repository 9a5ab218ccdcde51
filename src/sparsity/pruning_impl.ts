/**
 * Mask computation: how many weights to keep, the magnitude threshold and the
 * 0/1 mask, for unstructured, block, M-by-N and global (model-wide) pruning.
 * Mirrors the arithmetic of tfmot's `pruning_impl.py`.
 *
 * Porting note: tfmot sorts all |w| with `top_k` (O(n log n)); this port finds
 * the same threshold with a radix selection on the float32 bit patterns (two
 * passes over the weights, the second also writing the mask when one is asked
 * for; O(n), exact, no randomness), on a copy of the weights in JS. The wrapper
 * then computes the plain magnitude mask on the device from that threshold.
 * On tfjs-backend-wasm the wrapper uses wasm/magnitude_cut.ts instead, which
 * finds the same threshold and mask without copying the weights out.
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
/**
 * The first pass counts the top 13 bits of |w|'s pattern: its 8 exponent bits and 5 mantissa bits
 * (finer buckets than that no longer pay for their larger histogram).
 */
const TOP_SHIFT = 18;
const TOP_BUCKETS = 1 << (31 - TOP_SHIFT);
const LOW_BITS = (1 << TOP_SHIFT) - 1;
/** Buckets from here on hold infinities and NaNs (|w|'s pattern >= 0x7f800000). */
const FIRST_NON_FINITE_BUCKET = 0x7f800000 >>> TOP_SHIFT;
/**
 * The first pass's four histograms (128 KiB), allocated once: a new one per mask update made the
 * garbage collector run noticeably more often. Only radixSelect uses it, synchronously.
 */
const topBitCounts = new Uint32Array(4 * TOP_BUCKETS);
/** The bit pattern of 1.0f: masks are written through an Int32Array view, with no int-to-float conversion. */
const ONE_BITS = 0x3f800000;

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
 * bit cleared, so a radix selection on those patterns finds the k-th largest,
 * ties included (see {@link kthLargestMagnitudeAcross}).
 *
 * @throws PruningError when a value is NaN or infinite (no mask would be meaningful).
 */
export function kthLargestMagnitude(values: Float32Array, k: number, weightName = 'weight'): Threshold {
  return kthLargestMagnitudeAcross([values], k, [weightName]);
}

/**
 * The k-th largest magnitude over several arrays taken together (global
 * pruning), with one histogram for all of them.
 *
 * @param arrays The values; none is modified.
 * @param k 1-based rank, in [1, total length].
 * @param names One name per array, used in error messages.
 * @throws PruningError when a value is NaN or infinite.
 */
export function kthLargestMagnitudeAcross(arrays: readonly Float32Array[], k: number, names: readonly string[]): Threshold {
  return radixSelect(arrays, k, names, null);
}

/**
 * The radix selection behind every magnitude mask. The first pass counts the
 * top 13 bits of each |w| pattern and finds the bucket that holds the k-th
 * largest; the second pass lists that bucket's members (about 1% of the
 * weights of a Gaussian kernel) and, when `masks` are given, writes 1 for every
 * weight in a higher bucket and 0 elsewhere. The remaining 18 bits are then
 * resolved among the listed members only, whose masks are patched last.
 * Every result is exact: masks keep exactly the weights with |w| >= the k-th largest.
 */
function radixSelect(
    arrays: readonly Float32Array[], k: number, names: readonly string[], masks: Float32Array[] | null): Threshold {
  const n = arrays.reduce((total, values) => total + values.length, 0);
  if (!(k >= 1 && k <= n)) {
    throw new RangeError(`kthLargestMagnitude: 'k' must be in [1, ${n}], but got ${k}.`);
  }
  const views = arrays.map((values) => new Uint32Array(values.buffer, values.byteOffset, values.length));
  const counts = topBitCounts.fill(0);
  for (const bits of views) countTopBits(bits, counts);
  const inBucket = (bucket: number) =>
    counts[bucket] + counts[TOP_BUCKETS + bucket] + counts[2 * TOP_BUCKETS + bucket] + counts[3 * TOP_BUCKETS + bucket];
  for (let bucket = FIRST_NON_FINITE_BUCKET; bucket < TOP_BUCKETS; bucket++) {
    if (inBucket(bucket) > 0) arrays.forEach((values, a) => assertFinite(values, names[a] ?? 'weight'));
  }
  let remaining = k;
  let top = TOP_BUCKETS - 1;
  for (; top > 0; top--) {
    if (inBucket(top) >= remaining) break;
    remaining -= inBucket(top);
  }
  const members = new Uint32Array(inBucket(top));
  const ends: number[] = [];
  let listed = 0;
  views.forEach((bits, a) => {
    listed = masks === null ? listBucket(bits, top, members, listed) :
      maskAboveAndListBucket(bits, top, new Int32Array(masks[a].buffer, masks[a].byteOffset, masks[a].length), members, listed);
    ends.push(listed);
  });
  // The bits below the top bucket of the (remaining)-th largest member: the upper ones, then the last 10.
  const memberBits = gatherMembers(views, members, ends);
  const high = new Uint32Array(1 << (TOP_SHIFT - 10));
  for (let m = 0; m < memberBits.length; m++) high[memberBits[m] >>> 10]++;
  let hi = high.length - 1;
  for (; hi > 0; hi--) {
    if (high[hi] >= remaining) break;
    remaining -= high[hi];
  }
  const low = new Uint32Array(1024);
  for (let m = 0; m < memberBits.length; m++) {
    if (memberBits[m] >>> 10 === hi) low[memberBits[m] & 0x3ff]++;
  }
  let lo = 1023;
  for (; lo > 0; lo--) {
    if (low[lo] >= remaining) break;
    remaining -= low[lo];
  }
  const lowBits = (hi << 10) | lo;
  if (masks !== null) {
    let member = 0;
    masks.forEach((mask, a) => {
      for (; member < ends[a]; member++) mask[members[member]] = memberBits[member] >= lowBits ? 1 : 0;
    });
  }
  const thresholdBits = ((top << TOP_SHIFT) | lowBits) >>> 0;
  const view = new Uint32Array([thresholdBits]);
  return {value: new Float32Array(view.buffer)[0], bits: thresholdBits};
}

/**
 * Adds the top-bit counts of `bits` (signs cleared) to `counts`, which
 * holds four interleaved histograms of TOP_BUCKETS (summed by the caller):
 * runs of equal values then do not wait on each other's increments.
 */
function countTopBits(bits: Uint32Array, counts: Uint32Array): void {
  const n = bits.length;
  const n4 = n - (n & 3);
  let i = 0;
  for (; i < n4; i += 4) {
    counts[(bits[i] & ABS_MASK) >>> TOP_SHIFT]++;
    counts[TOP_BUCKETS + ((bits[i + 1] & ABS_MASK) >>> TOP_SHIFT)]++;
    counts[2 * TOP_BUCKETS + ((bits[i + 2] & ABS_MASK) >>> TOP_SHIFT)]++;
    counts[3 * TOP_BUCKETS + ((bits[i + 3] & ABS_MASK) >>> TOP_SHIFT)]++;
  }
  for (; i < n; i++) counts[(bits[i] & ABS_MASK) >>> TOP_SHIFT]++;
}

/**
 * Appends to `members` (from `listed` on) the indices of `bits` whose |w| is in
 * top bucket `bucket`; returns the new count. `(b - start) >>> TOP_SHIFT` is 0
 * exactly for the bucket's members (one comparison, rarely true, so the branch
 * predicts well; `b >= start && b < end` mispredicts on random weights).
 */
function listBucket(bits: Uint32Array, bucket: number, members: Uint32Array, listed: number): number {
  const start = bucket << TOP_SHIFT;
  for (let i = 0; i < bits.length; i++) {
    if ((((bits[i] & ABS_MASK) - start) >>> TOP_SHIFT) === 0) members[listed++] = i;
  }
  return listed;
}

/**
 * {@link listBucket}, and writes the mask: 1.0 (as bits) above the bucket, 0
 * in and below it, without a branch. One loop instead of two reads the weights
 * once.
 */
function maskAboveAndListBucket(
    bits: Uint32Array, bucket: number, mask: Int32Array, members: Uint32Array, listed: number): number {
  const start = bucket << TOP_SHIFT;
  const last = start + LOW_BITS;
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i] & ABS_MASK;
    mask[i] = ONE_BITS & ((last - b) >> 31);
    if (((b - start) >>> TOP_SHIFT) === 0) members[listed++] = i;
  }
  return listed;
}

/** The bits below the top bucket of every listed member, in list order. */
function gatherMembers(views: readonly Uint32Array[], members: Uint32Array, ends: readonly number[]): Uint32Array {
  const lowBits = new Uint32Array(ends[ends.length - 1]);
  let member = 0;
  views.forEach((bits, a) => {
    for (; member < ends[a]; member++) lowBits[member] = bits[members[member]] & LOW_BITS;
  });
  return lowBits;
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
  const masks = arrays.map((values) => new Float32Array(values.length));
  const threshold = radixSelect(arrays, keepCount(total, sparsity), names, masks);
  return {masks, threshold: threshold.value};
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
