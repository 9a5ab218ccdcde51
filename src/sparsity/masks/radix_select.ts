/**
 * The k-rule of magnitude pruning and the exact threshold search behind every
 * magnitude mask (unstructured, block and global). Mirrors the arithmetic of
 * tfmot's `pruning_impl.py`.
 *
 * Porting note: tfmot sorts all |w| with `top_k` (O(n log n)); this port finds
 * the same threshold with a radix selection on the float32 bit patterns (two
 * passes over the weights, the second also writing the mask when one is asked
 * for; O(n), exact, no randomness), on a copy of the weights in JS. The wrapper
 * then computes the plain magnitude mask on the device from that threshold.
 * On tfjs-backend-wasm the wrapper uses wasm/magnitude_cut.ts instead, which
 * finds the same threshold and mask without copying the weights out.
 */
import {PruningError} from '../errors';

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
export function radixSelect(
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

/** Throws a PruningError naming the first NaN or infinite value of `values`. */
export function assertFinite(values: Float32Array, weightName: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new PruningError(
          `Cannot prune ${weightName}: it holds ${Number.isNaN(values[i]) ? 'NaN' : 'an infinite value'} ` +
          `(at flat index ${i}). Pruning needs finite weights; check the training for divergence.`);
    }
  }
}
