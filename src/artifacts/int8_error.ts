/**
 * The error of symmetric int8 codes, measured on the weight itself (no data):
 * the clipping range that minimises the squared error (an MSE-optimal scale,
 * searched instead of taking max|w|), and the error each output channel of the
 * consuming op gets, relative to that channel's own size. quantizeArtifacts
 * uses them to choose a weight's scale and to keep in float16 the weights that
 * int8 would ruin (see quantize_artifacts.ts).
 *
 * Porting note: the codes are those of src/quantization's int8 codec
 * (`q = round(v * 127 / c)` clamped to [-127, 127], halves away from zero),
 * with `c` the clipping range instead of max|w|: the weight is clipped to
 * [-c, c] before it is encoded, so that the codec's max|w| is `c`.
 */
import type {ChannelLayout} from '../quantization/codecs';

const {abs, round, sqrt} = Math;

/**
 * The clipping ranges tried, as fractions of max|w| (the first is max|w| itself): from 1 down to
 * 0.3 in steps of 1/40. A Gaussian weight of 10^4 values has its optimum near 0.7-0.9; a weight with
 * a few outliers lower; one with no tails (a uniform) at 1.
 */
export const CLIP_FRACTIONS: readonly number[] = Array.from({length: 29}, (_, k) => 1 - k / 40);

/** Elements of one channel that the search reads at most (evenly spaced): bounds the cost of large kernels. */
const SEARCH_SAMPLES = 8192;

/** Sum of squared errors of int8 codes with clipping range `clip` over `values[at]` for the indices listed. */
function squaredError(values: Float32Array, indices: ArrayLike<number>, clip: number): number {
  const inverse = 127 / clip;
  const step = clip / 127;
  let sum = 0;
  for (let k = 0; k < indices.length; k++) {
    const v = values[indices[k]];
    let q = round(abs(v) * inverse);
    if (q > 127) q = 127;
    const e = abs(v) - q * step;
    sum += e * e;
  }
  return sum;
}

/** The flat indices of channel `c` of `layout` (at most `limit`, evenly spaced when there are more). */
export function channelIndices(layout: ChannelLayout, c: number, limit = Infinity): Uint32Array {
  const {outer, channels, inner} = layout;
  const n = outer * inner;
  const count = Math.min(n, limit);
  const out = new Uint32Array(count);
  for (let k = 0; k < count; k++) {
    const j = count === n ? k : Math.floor((k * n) / count);
    const o = Math.floor(j / inner);
    out[k] = (o * channels + c) * inner + (j - o * inner);
  }
  return out;
}

/**
 * For each channel of `layout`, the clipping range among {@link CLIP_FRACTIONS} of its max|w| that
 * gives int8 codes the least squared error (ties: the widest). An all-zero channel gets 0.
 *
 * @param maxAbs The max|w| of each channel.
 */
export function mseOptimalClip(values: Float32Array, layout: ChannelLayout, maxAbs: Float64Array): Float64Array {
  const clip = new Float64Array(layout.channels);
  for (let c = 0; c < layout.channels; c++) {
    const m = maxAbs[c];
    if (!(m > 0)) continue;
    const indices = channelIndices(layout, c, SEARCH_SAMPLES);
    let best = m;
    let bestError = squaredError(values, indices, m);
    for (let k = 1; k < CLIP_FRACTIONS.length; k++) {
      const candidate = m * CLIP_FRACTIONS[k];
      const error = squaredError(values, indices, candidate);
      if (error < bestError) {
        best = candidate;
        bestError = error;
      }
    }
    clip[c] = best;
  }
  return clip;
}

/** A copy of `values` with channel `c` clipped to [-clip[c], clip[c]] (the values the int8 codec then encodes). */
export function clipChannels(values: Float32Array, layout: ChannelLayout, clip: Float64Array): Float32Array {
  const out = new Float32Array(values);
  const {outer, channels, inner} = layout;
  let i = 0;
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const hi = clip[c];
      const lo = -hi;
      for (const end = i + inner; i < end; i++) {
        const v = out[i];
        out[i] = v > hi ? hi : v < lo ? lo : v;
      }
    }
  }
  return out;
}

/**
 * The root-mean-square error of each channel of `errorLayout` between `values` and `decoded`, divided
 * by the channel's root-mean-square value: 0.01 means int8 kept the channel to 1% (an all-zero
 * channel gives 0).
 */
export function channelRelativeErrors(values: Float32Array, decoded: Float32Array, errorLayout: ChannelLayout):
    Float64Array {
  const {outer, channels, inner} = errorLayout;
  const error = new Float64Array(channels);
  const energy = new Float64Array(channels);
  let i = 0;
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      let e = 0;
      let s = 0;
      for (const end = i + inner; i < end; i++) {
        const d = values[i] - decoded[i];
        e += d * d;
        s += values[i] * values[i];
      }
      error[c] += e;
      energy[c] += s;
    }
  }
  return error.map((e, c) => (energy[c] > 0 ? sqrt(e / energy[c]) : 0));
}

/**
 * The int8 error above which quantizeArtifacts keeps a graph model's weight in float16: the median
 * output channel losing more than 5% of its RMS. Well-behaved kernels lose 0.4-3% per tensor (uniform
 * and Gaussian weights: 0.4-1%), under 1.5% per channel; a weight whose typical channel is 100 times
 * smaller than its largest one loses all of it per tensor (its codes are all 0).
 */
export const FLOAT16_FALLBACK_ERROR = 0.05;

/**
 * The share of a graph model's quantized elements that quantizeArtifacts may keep in float16 (10%:
 * the weight data grows by at most a tenth of its all-int8 size). The worst weights go first.
 */
export const FLOAT16_BUDGET = 0.1;

/**
 * The values to give the int8 codec per tensor: `values` clipped to the MSE-optimal range (see
 * {@link mseOptimalClip}), or `values` themselves when max|w| is the optimum.
 */
export function mseClippedValues(values: Float32Array): Float32Array {
  const layout = {outer: 1, channels: 1, inner: values.length};
  let max = 0;
  for (let i = 0; i < values.length; i++) {
    const a = abs(values[i]);
    if (a > max) max = a;
  }
  if (!(max > 0) || !Number.isFinite(max)) return values; // all zero, or NaN/infinite: the codec decides
  const clip = mseOptimalClip(values, layout, Float64Array.of(max));
  return clip[0] === max ? values : clipChannels(values, layout, clip);
}

/** Channels whose max|w| is at least this share of the weight's max|w| are its significant channels. */
const SIGNIFICANT = 0.1;

/**
 * The mean and the median over the channels along `axis` (the consuming op's output channels; the whole
 * weight when null) of {@link channelRelativeErrors}, all-zero channels left out (0 when all are zero),
 * and the mean over its significant channels (max|w| at least a tenth of the weight's).
 */
export function channelErrors(values: Float32Array, decoded: Float32Array, shape: readonly number[],
    axis: number | null): {mean: number; median: number; significant: number} {
  const n = values.length;
  const layout = axis === null ? {outer: 1, channels: 1, inner: n} : {
    outer: shape.slice(0, axis).reduce((a, b) => a * b, 1),
    channels: shape[axis],
    inner: shape.slice(axis + 1).reduce((a, b) => a * b, 1),
  };
  const errors = channelRelativeErrors(values, decoded, layout);
  const {outer, channels, inner} = layout;
  const peak = new Float64Array(channels);
  let i = 0;
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      for (const end = i + inner; i < end; i++) if (abs(values[i]) > peak[c]) peak[c] = abs(values[i]);
    }
  }
  const top = peak.reduce((a, b) => (b > a ? b : a), 0);
  const kept = [...errors].filter((_e, c) => peak[c] > 0).sort((a, b) => a - b);
  if (kept.length === 0) return {mean: 0, median: 0, significant: 0};
  const mid = kept.length >> 1;
  const median = kept.length % 2 === 1 ? kept[mid] : (kept[mid - 1] + kept[mid]) / 2;
  const large = [...errors].filter((_e, c) => peak[c] >= SIGNIFICANT * top);
  return {
    mean: kept.reduce((a, b) => a + b, 0) / kept.length, median,
    significant: large.reduce((a, b) => a + b, 0) / large.length,
  };
}
