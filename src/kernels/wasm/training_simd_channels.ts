/**
 * The per-element and per-channel SIMD kernels of training/*.wat on
 * tfjs-backend-wasm's heap: ReLU6's and BatchNormalization's gradients, and
 * the per-channel sums and means of bias gradients and `tf.moments`. Each
 * returns new tensors on the heap, or null when it cannot run (the caller then
 * takes its JavaScript path).
 */
import {util} from '@tensorflow/tfjs-core';
import type {TensorInfo} from '@tensorflow/tfjs-core';

import {address, scratch, trainingSimd} from './training_simd';
import type {Backend} from './training_simd';

/**
 * ReLU6's (ClipByValue's) gradient, `dx = (low <= x <= high) ? dy : 0` with
 * the bounds as float32, bit-identical to `clipGradient` of kernels/TfmotClipByValueGrad.ts.
 * Null when it cannot run (no SIMD, or data that is not float32).
 */
export function simdClipGradient(
    backend: object, x: TensorInfo, dy: TensorInfo, low: number, high: number): TensorInfo | null {
  const simd = trainingSimd(backend);
  if (simd === null || x.dtype !== 'float32' || dy.dtype !== 'float32') return null;
  const heap = backend as Backend;
  const out = heap.makeOutput(x.shape, 'float32');
  const n = x.shape.reduce((a, b) => a * b, 1);
  simd.clipGrad(address(heap, x), address(heap, dy), address(heap, out), n, Math.fround(low), Math.fround(high));
  return out;
}

/**
 * The channel count of a float32 reduction over every axis but the last
 * (`axis`), when SIMD can run it (a multiple of 4); else null.
 */
function leadingReduction(x: TensorInfo, axis: number | number[]): number | null {
  const rank = x.shape.length;
  const axes = [...new Set(util.parseAxisParam(axis, x.shape))].sort((a, b) => a - b);
  const channels = x.shape[rank - 1];
  const leading = rank >= 2 && channels > 0 && util.sizeFromShape(x.shape) > 0 && axes.length === rank - 1 &&
    axes.every((a, i) => a === i);
  return x.dtype === 'float32' && leading && channels % 4 === 0 ? channels : null;
}

/**
 * Sum or Mean over every axis but the last (bias gradients; BatchNormalization's
 * means in training), summed in float64 like `rowSums` of impl/reduce_impl.ts.
 * Null where it does not apply: other reductions, non-float32 data, channel
 * counts that are not a multiple of 4, no SIMD.
 */
export function simdChannelReduction(
    backend: object, x: TensorInfo, axis: number | number[], keepDims: boolean, mean: boolean): TensorInfo | null {
  const simd = trainingSimd(backend);
  const channels = simd === null ? null : leadingReduction(x, axis);
  if (simd === null || channels === null) return null;
  const heap = backend as Backend;
  const block = scratch(heap, 8 * channels);
  if (block === null) return null;
  try {
    const shape = keepDims ? [...x.shape.slice(0, -1).map(() => 1), channels] : [channels];
    const out = heap.makeOutput(shape, 'float32');
    const rows = util.sizeFromShape(x.shape) / channels;
    new Float64Array(heap.wasm.HEAPU8.buffer, block, channels).fill(0);
    simd.colSums(address(heap, x), rows, channels, block);
    const sums = new Float64Array(heap.wasm.HEAPU8.buffer, block, channels);
    const values = heap.typedArrayFromHeap(out) as Float32Array;
    for (let c = 0; c < channels; c++) values[c] = mean ? sums[c] / rows : sums[c];
    return out;
  } finally {
    heap.wasm._free(block);
  }
}

/** The inputs of `'TfmotBatchNormGrad'` (kernels/TfmotBatchNormGrad.ts). */
export interface BatchNormGradInputs {
  x: TensorInfo;
  dy: TensorInfo;
  mean: TensorInfo;
  variance: TensorInfo;
  scale?: TensorInfo;
}

/**
 * BatchNormalization's gradient (`'TfmotBatchNormGrad'`: dx, dMean,
 * dVariance, dScale, dOffset) as `batchNormGradient` of impl/batch_norm_grad_impl.ts
 * computes it: dx bit-identical, the per-channel sums in float64 (row by row
 * rather than four rows at a time). Null where it does not apply: channel
 * counts that are not a multiple of 4, non-float32 data, no SIMD.
 */
export function simdBatchNormGradient(
    backend: object, inputs: BatchNormGradInputs, varianceEpsilon: number): TensorInfo[] | null {
  const simd = trainingSimd(backend);
  const {x, dy, mean, variance, scale} = inputs;
  const channels = x.shape[x.shape.length - 1];
  const perChannel = (t: TensorInfo) => t.shape.length === 1 && t.shape[0] === channels && t.dtype === 'float32';
  if (simd === null || x.shape.length < 1 || channels % 4 !== 0 || channels === 0 || x.dtype !== 'float32' ||
      dy.dtype !== 'float32' || !perChannel(mean) || !perChannel(variance) || (scale != null && !perChannel(scale))) {
    return null;
  }
  const heap = backend as Backend;
  // Float64: mean, sum of dy, sum of dy (x - mean); float32: rsqrt, scale.
  const block = scratch(heap, 8 * 3 * channels + 4 * 2 * channels);
  if (block === null) return null;
  const outputs: TensorInfo[] = [];
  try {
    outputs.push(heap.makeOutput(x.shape, 'float32'));
    for (let i = 0; i < 4; i++) outputs.push(heap.makeOutput(mean.shape, 'float32'));
    const buffer = heap.wasm.HEAPU8.buffer;
    const mean64 = new Float64Array(buffer, block, channels);
    const sums = new Float64Array(buffer, block + 8 * channels, 2 * channels);
    const rsqrt = new Float32Array(buffer, block + 24 * channels, channels);
    const scales = new Float32Array(buffer, block + 28 * channels, channels);
    const meanValues = heap.typedArrayFromHeap(mean) as Float32Array;
    const varianceValues = heap.typedArrayFromHeap(variance) as Float32Array;
    const scaleValues = scale == null ? null : heap.typedArrayFromHeap(scale) as Float32Array;
    for (let k = 0; k < channels; k++) {
      mean64[k] = meanValues[k];
      rsqrt[k] = 1 / Math.sqrt(Math.fround(varianceValues[k] + varianceEpsilon));
      scales[k] = scaleValues == null ? 1 : scaleValues[k];
    }
    sums.fill(0);
    const rows = util.sizeFromShape(x.shape) / channels;
    simd.bnGrad(address(heap, x), address(heap, dy), address(heap, outputs[0]), rows, channels, block,
        block + 24 * channels, block + 28 * channels, block + 8 * channels);
    const [dMean, dVariance, dScale, dOffset] = outputs.slice(1).map((info) => heap.typedArrayFromHeap(info) as Float32Array);
    for (let k = 0; k < channels; k++) {
      const r = rsqrt[k];
      const sumDy = sums[k];
      const sumCentered = sums[channels + k];
      dOffset[k] = sumDy;
      dScale[k] = r * sumCentered;
      dMean[k] = -Math.fround(r * scales[k]) * sumDy;
      dVariance[k] = -0.5 * r * r * r * scales[k] * sumCentered;
    }
    return outputs;
  } catch (error) {
    for (const info of outputs) heap.disposeData(info.dataId);
    throw error;
  } finally {
    heap.wasm._free(block);
  }
}

/** The inputs of FusedBatchNorm: offset and scale are optional. */
export interface BatchNormInputs {
  x: TensorInfo;
  mean: TensorInfo;
  variance: TensorInfo;
  offset?: TensorInfo;
  scale?: TensorInfo;
}

/**
 * BatchNormalization's forward pass (`FusedBatchNorm`), bit-identical to
 * tfjs-backend-wasm's own kernel, which computes
 * `offset + ((x - mean) * scale) / sqrt(variance + epsilon)` one element at a
 * time (5-7 ns per element, as much as a convolution in MobileNet-style
 * models), `(x - mean) * scale` in float32 and the division and the addition
 * in float64 (found by comparing candidate orders with its results): here
 * the square roots once per channel, the rest four channels at a time.
 * Null where it does not apply: parameters of a size other than 1 or the
 * channel count, a channel count that is not a multiple of 4, non-float32
 * data, no SIMD.
 */
export function simdBatchNorm(backend: object, inputs: BatchNormInputs, varianceEpsilon: number): TensorInfo | null {
  const simd = trainingSimd(backend);
  const {x, mean, variance, offset, scale} = inputs;
  const channels = x.shape[x.shape.length - 1];
  const size = util.sizeFromShape(x.shape);
  const params = [mean, variance, offset, scale];
  const fits = (t: TensorInfo | undefined) => t == null ||
    (t.dtype === 'float32' && [1, channels].includes(util.sizeFromShape(t.shape)));
  // A scalar x has no channel axis: channels is undefined and fails `> 0`.
  if (simd === null || x.dtype !== 'float32' || !(channels > 0) || channels % 4 !== 0 || size === 0 ||
      !params.every(fits)) {
    return null;
  }
  const heap = backend as Backend;
  const block = scratch(heap, 24 * channels);
  if (block === null) return null;
  try {
    const out = heap.makeOutput(x.shape, 'float32');
    const buffer = heap.wasm.HEAPU8.buffer;
    const singles = new Float32Array(buffer, block, 6 * channels);
    const doubles = new Float64Array(buffer, block, 3 * channels);
    const read = (t: TensorInfo | undefined, missing: number) =>
      (t == null ? Float32Array.of(missing) : heap.typedArrayFromHeap(t) as Float32Array);
    const [m, v, o, s] = [read(mean, 0), read(variance, 0), read(offset, 0), read(scale, 1)];
    const epsilon = Math.fround(varianceEpsilon);
    for (let c = 0; c < channels; c++) {
      // Quad q = c >> 2 takes 96 bytes: mean and scale as float32, norm and offset as float64.
      const q = c >> 2;
      const lane = c & 3;
      singles[24 * q + lane] = m[c % m.length];
      singles[24 * q + 4 + lane] = s[c % s.length];
      doubles[12 * q + 4 + lane] = Math.fround(Math.sqrt(Math.fround(v[c % v.length] + epsilon)));
      doubles[12 * q + 8 + lane] = o[c % o.length];
    }
    simd.bnForward(address(heap, x), address(heap, out), size / channels, channels, block);
    return out;
  } finally {
    heap.wasm._free(block);
  }
}
