/**
 * Typed-array kernels of the affine codecs (int8, uint8, uint16): float32
 * weights to integer codes and back. Each reads its input once per pass with
 * plain loops (no tensor ops), so that a model of tens of millions of weights
 * quantizes at memory speed. Weights are seen as channels (see layout.ts).
 */
import type {ChannelLayout} from './layout';

// Module-level alias: inside a vm context (Jest runs tests in one) every lookup of the
// global `Math` goes through an interceptor, which made `Math.abs` in the loops 50x slower.
const {abs} = Math;

/** Scale and integer zero point of each channel: channel `c` decodes as `(code - zeroPoint[c]) * scale[c]`. */
export interface AffineParams {
  scale: number[];
  zeroPoint: number[];
}

/** Rounds half away from zero, the same for `x` and `-x` (as TFLite's `TfLiteRound`). */
function roundHalfAway(x: number): number {
  const q = Math.round(x);
  return q - x === 0.5 && x < 0 ? q - 1 : q;
}

// The element loops below round with `(y | 0)` on a shifted value `y >= -0.5`
// instead of Math.round, which V8 does not inline as one instruction here (it
// costs several times the rest of the loop), and they avoid per-element sign
// tests (a branch on a random sign mispredicts half the time). The tie fix-up
// for negative halves is a branch that is almost never taken. Channels on the
// last axis (inner === 1) get their own loop: a one-element inner loop per
// value would double the cost.

/** Thrown by the kernels when a weight holds NaN or an infinity; the caller adds the weight's name. */
export class NonFiniteValueError extends Error {
  constructor() {
    super('the weight holds NaN or an infinite value');
    this.name = 'NonFiniteValueError';
  }
}

/** The largest |value| of each channel. Throws NonFiniteValueError on NaN or infinities. */
export function channelMaxAbs(values: Float32Array, layout: ChannelLayout): Float64Array {
  const {outer, channels, inner} = layout;
  const maxAbs = new Float64Array(channels);
  // `v * 0` is 0 for finite v and NaN otherwise: one branch-free check per element.
  let finiteCheck = 0;
  let i = 0;
  if (inner === 1) {
    // Channels on the last axis (Dense and Conv kernels): one pass over rows of `channels` values.
    for (let o = 0; o < outer; o++) {
      for (let c = 0; c < channels; c++, i++) {
        const v = values[i];
        const a = abs(v);
        if (a > maxAbs[c]) maxAbs[c] = a;
        finiteCheck += v * 0;
      }
    }
  } else {
    for (let o = 0; o < outer; o++) {
      for (let c = 0; c < channels; c++) {
        let max = maxAbs[c];
        const end = i + inner;
        for (; i < end; i++) {
          const v = values[i];
          const a = abs(v);
          max = a > max ? a : max;
          finiteCheck += v * 0;
        }
        maxAbs[c] = max;
      }
    }
  }
  if (finiteCheck !== 0) throw new NonFiniteValueError(); // NaN !== 0
  return maxAbs;
}

/** The smallest and largest value of each channel. Throws NonFiniteValueError on NaN or infinities. */
export function channelMinMax(values: Float32Array, layout: ChannelLayout): {lo: Float64Array; hi: Float64Array} {
  const {outer, channels, inner} = layout;
  const lo = new Float64Array(channels).fill(Infinity);
  const hi = new Float64Array(channels).fill(-Infinity);
  let finiteCheck = 0;
  let i = 0;
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      for (let c = 0; c < channels; c++, i++) {
        const v = values[i];
        if (v < lo[c]) lo[c] = v;
        if (v > hi[c]) hi[c] = v;
        finiteCheck += v * 0;
      }
    }
  } else {
    for (let o = 0; o < outer; o++) {
      for (let c = 0; c < channels; c++) {
        let min = lo[c];
        let max = hi[c];
        const end = i + inner;
        for (; i < end; i++) {
          const v = values[i];
          min = v < min ? v : min;
          max = v > max ? v : max;
          finiteCheck += v * 0;
        }
        lo[c] = min;
        hi[c] = max;
      }
    }
  }
  if (finiteCheck !== 0) throw new NonFiniteValueError(); // NaN !== 0
  return {lo, hi};
}

/**
 * Writes `code = clamp(round(v * inverse[c]) + zeroPoint[c], lowest, highest)`
 * for every element, rounding halves away from zero. `shift[c]` is
 * `zeroPoint[c] + 0.5`: with it, `(y | 0)` on `y = x + shift >= -0.5` is
 * `floor(x + 0.5) + zeroPoint` wherever the clamp does not decide.
 */
function writeCodes(
    values: Float32Array, layout: ChannelLayout, inverse: Float64Array, shift: Float64Array,
    lowest: number, highest: number, out: Uint8Array | Uint16Array): void {
  const {outer, channels, inner} = layout;
  let i = 0;
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      for (let c = 0; c < channels; c++, i++) {
        const x = values[i] * inverse[c];
        const y = x + shift[c];
        let code = y | 0;
        if (code === y && x < 0) code -= 1; // a negative half rounds away from zero
        out[i] = code > highest ? highest : code < lowest ? lowest : code;
      }
    }
    return;
  }
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const inv = inverse[c];
      const sh = shift[c];
      const end = i + inner;
      for (; i < end; i++) {
        const x = values[i] * inv;
        const y = x + sh;
        let code = y | 0;
        if (code === y && x < 0) code -= 1; // a negative half rounds away from zero
        out[i] = code > highest ? highest : code < lowest ? lowest : code;
      }
    }
  }
}

/** Zero point of the symmetric int8 scheme when its codes are stored as uint8. */
export const INT8_ZERO_POINT = 128;

/**
 * Symmetric int8, narrow range: per channel `scale = max|w| / 127`,
 * `q = round(w * (127 / max|w|))` in [-127, 127] (TFLite multiplies by the
 * inverse scale too), stored as the byte `q + 128` (so `min = -128 * scale`
 * and a zero weight decodes to exactly 0). An all-zero channel gets scale 1.
 *
 * @param out One byte per element, written in the weight's order.
 */
export function encodeSymmetricInt8(values: Float32Array, layout: ChannelLayout, out: Uint8Array): AffineParams {
  const maxAbs = channelMaxAbs(values, layout);
  const scale = Array.from(maxAbs, (m) => (m > 0 ? m / 127 : 1));
  const inverse = maxAbs.map((m) => (m > 0 ? 127 / m : 1));
  const shift = new Float64Array(layout.channels).fill(INT8_ZERO_POINT + 0.5);
  writeCodes(values, layout, inverse, shift, INT8_ZERO_POINT - 127, INT8_ZERO_POINT + 127, out);
  return {scale, zeroPoint: scale.map(() => INT8_ZERO_POINT)};
}

/**
 * Affine (asymmetric) quantization to `bits`-bit unsigned codes, the scheme
 * tfjs-converter uses: the range is widened to contain 0, `scale = (max - min)
 * / (2^bits - 1)`, and the zero point is rounded to an integer (the range is
 * nudged) so that 0 is exactly representable. Values outside the nudged range
 * (by at most half a step) are clamped. An all-zero channel gets scale 1.
 *
 * @param out One code per element, written in the weight's order.
 */
export function encodeAffine(
    values: Float32Array, layout: ChannelLayout, bits: 8 | 16, out: Uint8Array | Uint16Array): AffineParams {
  const qmax = bits === 8 ? 255 : 65535;
  const {lo, hi} = channelMinMax(values, layout);
  const scale: number[] = [];
  const zeroPoint: number[] = [];
  for (let c = 0; c < layout.channels; c++) {
    const low = Math.min(lo[c], 0);
    const high = Math.max(hi[c], 0);
    if (high === low) {
      scale.push(1);
      zeroPoint.push(0);
      continue;
    }
    const s = (high - low) / qmax;
    scale.push(s);
    zeroPoint.push(Math.min(Math.max(roundHalfAway(-low / s), 0), qmax));
  }
  const inverse = Float64Array.from(scale, (s) => 1 / s);
  const shift = Float64Array.from(zeroPoint, (zp) => zp + 0.5);
  writeCodes(values, layout, inverse, shift, 0, qmax, out);
  return {scale, zeroPoint};
}

/** Decodes per-channel codes: `out[i] = (code[i] - zeroPoint[c]) * scale[c]` (zero exact; stored as float32). */
export function decodeAffine(
    codes: Uint8Array | Uint16Array, layout: ChannelLayout, params: AffineParams, out: Float32Array): void {
  const {outer, channels, inner} = layout;
  let i = 0;
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const s = params.scale[c];
      const zp = params.zeroPoint[c];
      const end = i + inner;
      for (; i < end; i++) out[i] = (codes[i] - zp) * s;
    }
  }
}
