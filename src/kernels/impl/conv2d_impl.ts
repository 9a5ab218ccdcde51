/**
 * NHWC Conv2D and its two gradients over typed arrays, as matrix products on
 * patch matrices (see `im2col_impl.ts`), processed in chunks of output pixels so
 * that the working set stays in cache and memory stays bounded. The gradients
 * skip the output pixels whose dy is all zeros (most of them under ReLU and
 * max pooling). Shared by the cpu kernels; backend-independent.
 */
import type {backend_util} from '@tensorflow/tfjs-core';

import {multiplyTransposed, transposeInto} from './gemm_impl';
import {allRows, gatherPatches, gatherRows, nonzeroRows, patchCount, patchLength, scatterAddPatches} from './im2col_impl';

/** Patch-matrix elements per chunk (256 KB of float32). */
const CHUNK_ELEMENTS = 1 << 16;
/** Fewest patch rows per chunk, so that the products keep long inner loops. */
const MIN_CHUNK_ROWS = 64;

function chunkRows(length: number): number {
  return Math.max(MIN_CHUNK_ROWS, Math.floor(CHUNK_ELEMENTS / length));
}

/**
 * The convolution itself: `y = patches(x) · filter`.
 *
 * @param x Input values, `[batch, inHeight, inWidth, inChannels]`.
 * @param filter Filter values, `[filterHeight, filterWidth, inChannels, outChannels]`.
 * @param info The convolution's geometry (NHWC; any strides, dilations, padding).
 * @returns The output values, `info.outShape`.
 */
export function conv2dValues(
    x: Float32Array, filter: Float32Array, info: backend_util.Conv2DInfo): Float32Array {
  const length = patchLength(info);
  const outChannels = info.outChannels;
  const pixels = patchCount(info);
  const y = new Float32Array(pixels * outChannels);
  const filterT = new Float32Array(length * outChannels);
  transposeInto(filter, 0, filterT, length, outChannels);
  const rows = allRows(pixels);
  const step = chunkRows(length);
  const patches = new Float32Array(step * length);
  for (let first = 0; first < pixels; first += step) {
    const count = Math.min(step, pixels - first);
    gatherPatches(x, info, rows, first, count, patches);
    multiplyTransposed(patches, 0, filterT, 0, y, first * outChannels, count, outChannels, length, false);
  }
  return y;
}

/**
 * The filter gradient: `dFilter = patches(x)ᵀ · dy` over the output pixels
 * whose dy is not all zeros, accumulated in double precision.
 *
 * @param x Input values, `[batch, inHeight, inWidth, inChannels]`.
 * @param dy Output gradient values, `info.outShape`.
 * @param info The convolution's geometry.
 * @returns The filter gradient values, `[filterHeight, filterWidth, inChannels, outChannels]`.
 */
export function conv2dFilterGradientValues(
    x: Float32Array, dy: Float32Array, info: backend_util.Conv2DInfo): Float32Array {
  const length = patchLength(info);
  const outChannels = info.outChannels;
  const rows = nonzeroRows(dy, 0, patchCount(info), outChannels);
  // Accumulates dFilterᵀ: row `o` holds the gradient of output channel `o`.
  const sums = new Float64Array(outChannels * length);
  const step = chunkRows(length);
  const patches = new Float32Array(step * length);
  const patchesT = new Float32Array(step * length);
  const dyRows = new Float32Array(step * outChannels);
  const dyT = new Float32Array(step * outChannels);
  for (let first = 0; first < rows.length; first += step) {
    const count = Math.min(step, rows.length - first);
    gatherPatches(x, info, rows, first, count, patches);
    transposeInto(patches, 0, patchesT, count, length);
    gatherRows(dy, outChannels, rows, first, count, dyRows);
    transposeInto(dyRows, 0, dyT, count, outChannels);
    multiplyTransposed(dyT, 0, patchesT, 0, sums, 0, outChannels, length, count, true);
  }
  const dFilter = new Float32Array(length * outChannels);
  for (let o = 0; o < outChannels; o++) {
    for (let k = 0; k < length; k++) {
      dFilter[k * outChannels + o] = sums[o * length + k];
    }
  }
  return dFilter;
}

/**
 * The input gradient: `dx = scatter(dy · filterᵀ)`, each patch row added
 * back onto the input pixels it came from; output pixels whose dy is all
 * zeros add nothing and are skipped.
 *
 * @param dy Output gradient values, `info.outShape`.
 * @param filter Filter values, `[filterHeight, filterWidth, inChannels, outChannels]`.
 * @param info The convolution's geometry.
 * @returns The input gradient values, `info.inShape`.
 */
export function conv2dInputGradientValues(
    dy: Float32Array, filter: Float32Array, info: backend_util.Conv2DInfo): Float32Array {
  const length = patchLength(info);
  const outChannels = info.outChannels;
  const rows = nonzeroRows(dy, 0, patchCount(info), outChannels);
  const dx = new Float32Array(info.batchSize * info.inHeight * info.inWidth * info.inChannels);
  const step = chunkRows(length);
  const dyRows = new Float32Array(step * outChannels);
  const patchGrads = new Float32Array(step * length);
  for (let first = 0; first < rows.length; first += step) {
    const count = Math.min(step, rows.length - first);
    gatherRows(dy, outChannels, rows, first, count, dyRows);
    multiplyTransposed(dyRows, 0, filter, 0, patchGrads, 0, count, length, outChannels, false);
    scatterAddPatches(patchGrads, info, rows, first, count, dx);
  }
  return dx;
}
