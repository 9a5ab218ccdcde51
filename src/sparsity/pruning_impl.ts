/**
 * Mask computation: how many weights to keep, the magnitude threshold and the
 * 0/1 mask. Mirrors the arithmetic of tfmot's `pruning_impl.py`.
 *
 * Porting note: tfmot sorts all |w| with `top_k` (O(n log n)); this port finds
 * the same threshold with a two-pass radix selection on the float32 bit
 * patterns (O(n), exact, no randomness), on a copy of the weights in JS.
 */
import {PruningError} from './errors';

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
  const n = values.length;
  if (!(k >= 1 && k <= n)) {
    throw new RangeError(`kthLargestMagnitude: 'k' must be in [1, ${n}], but got ${k}.`);
  }
  const bits = new Uint32Array(values.buffer, values.byteOffset, n);
  const high = new Uint32Array(65536);
  for (let i = 0; i < n; i++) {
    const b = bits[i] & ABS_MASK;
    if (b >= INFINITY_BITS) {
      throw new PruningError(
          `Cannot prune ${weightName}: it holds ${Number.isNaN(values[i]) ? 'NaN' : 'an infinite value'} ` +
          `(at flat index ${i}). Pruning needs finite weights; check the training for divergence.`);
    }
    high[b >>> 16]++;
  }
  let remaining = k;
  let hi = 65535;
  for (; hi > 0; hi--) {
    if (high[hi] >= remaining) break;
    remaining -= high[hi];
  }
  const low = new Uint32Array(65536);
  for (let i = 0; i < n; i++) {
    const b = bits[i] & ABS_MASK;
    if (b >>> 16 === hi) low[b & 0xffff]++;
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
  const mask = new Float32Array(n);
  if (n === 0) return {mask, threshold: 0};
  const threshold = kthLargestMagnitude(values, keepCount(n, sparsity), weightName);
  const bits = new Uint32Array(values.buffer, values.byteOffset, n);
  const cut = threshold.bits;
  for (let i = 0; i < n; i++) mask[i] = (bits[i] & ABS_MASK) >= cut ? 1 : 0;
  return {mask, threshold: threshold.value};
}
