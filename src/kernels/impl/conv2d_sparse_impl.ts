/**
 * Both Conv2D gradients driven by the nonzero entries of dy. In training,
 * the dy of a convolution followed by ReLU and max pooling is about 90%
 * zeros (pooling routes each window's gradient to one pixel per channel, and
 * ReLU masks half of the rest), yet almost every pixel keeps a nonzero
 * channel, so only an entry-wise skip pays. Each nonzero `dy[m, o]` costs one
 * `patchLength`-long multiply-add over a contiguous row. Backend-independent;
 * the cpu and wasm kernels pick it when dy is sparse enough. One difference
 * from a dense product: a zero dy times an infinite input adds 0, not NaN.
 */
import type {backend_util} from '@tensorflow/tfjs-core';

import {transposeInto} from './gemm_impl';
import {gatherPatchAt, patchLength, scatterAddPatchAt} from './im2col_impl';

// The one rule for sparse versus dense on both backends: the sparse loops run when their
// modelled time (the same JavaScript on cpu and wasm) beats the dense path's, in nanoseconds on
// the training machine (Node 20, one thread).
/** One multiply-add of the sparse loops, with their bookkeeping. */
const SPARSE_NS_PER_MULTIPLY_ADD = 1.6;
/** One dy entry looked at by the sparse loops (a branch that mispredicts often). */
export const SPARSE_NS_PER_DY_ENTRY = 2.2;
/** One dy entry sampled by {@link nonzeroFraction} (a random walk over at most 2^16 of them). */
export const DENSITY_NS_PER_SAMPLE = 15;

/**
 * The expected time of the sparse loops for a dy: a scan of dy, and one
 * patch-long multiply-add per nonzero entry. The kernels compare it with
 * their dense path's expected time and take the faster.
 */
export function sparseLoopsNs(info: backend_util.Conv2DInfo, dy: Float32Array): number {
  return dy.length * (SPARSE_NS_PER_DY_ENTRY + nonzeroFraction(dy) * patchLength(info) * SPARSE_NS_PER_MULTIPLY_ADD);
}

/** Entries read to estimate a density: enough for about 0.5% accuracy. */
const DENSITY_SAMPLES = 1 << 16;

/**
 * The fraction of nonzero entries of `values` (NaN counts as nonzero): exact
 * for small arrays, else from a fixed pseudo-random sample, so that the
 * estimate costs a fraction of a millisecond and is reproducible.
 */
export function nonzeroFraction(values: Float32Array): number {
  const n = values.length;
  if (n === 0) return 0;
  let count = 0;
  if (n <= DENSITY_SAMPLES) {
    for (let i = 0; i < n; i++) {
      if (values[i] !== 0) count++;
    }
    return count / n;
  }
  // A linear congruential walk (Numerical Recipes constants) over the indices.
  let state = 12345;
  for (let i = 0; i < DENSITY_SAMPLES; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    if (values[state % n] !== 0) count++;
  }
  return count / DENSITY_SAMPLES;
}

/**
 * The filter gradient: for each nonzero `dy[m, o]`, `dFilterᵀ[o] += dy[m, o] *
 * patch(m)`, summed in double precision.
 *
 * @param x Input values, `[batch, inHeight, inWidth, inChannels]`.
 * @param dy Output gradient values, `info.outShape`.
 * @param info The convolution's geometry.
 * @param out Receives the filter gradient, `[filterHeight, filterWidth, inChannels, outChannels]`.
 */
export function sparseFilterGradient(
    x: Float32Array, dy: Float32Array, info: backend_util.Conv2DInfo, out: Float32Array): void {
  const length = patchLength(info);
  const {batchSize, outHeight, outWidth, outChannels} = info;
  const sums = new Float64Array(outChannels * length);
  const patch = new Float32Array(length);
  let base = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++, base += outChannels) {
        let gathered = false;
        for (let o = 0; o < outChannels; o++) {
          const d = dy[base + o];
          if (d === 0) continue;
          if (!gathered) {
            gatherPatchAt(x, info, b, oh, ow, patch, 0);
            gathered = true;
          }
          const row = o * length;
          for (let k = 0; k < length; k++) sums[row + k] += d * patch[k];
        }
      }
    }
  }
  for (let o = 0; o < outChannels; o++) {
    for (let k = 0; k < length; k++) out[k * outChannels + o] = sums[o * length + k];
  }
}

/**
 * The input gradient: for each output pixel with a nonzero dy, the patch
 * gradient `sum over nonzero dy[m, o] of dy[m, o] * filterᵀ[o]`, scattered
 * back onto the pixel's receptive field.
 *
 * @param dy Output gradient values, `info.outShape`.
 * @param filter Filter values, `[filterHeight, filterWidth, inChannels, outChannels]`.
 * @param info The convolution's geometry.
 * @param dx Receives the input gradient, `info.inShape`; starts zeroed.
 */
export function sparseInputGradient(
    dy: Float32Array, filter: Float32Array, info: backend_util.Conv2DInfo, dx: Float32Array): void {
  const length = patchLength(info);
  const {batchSize, outHeight, outWidth, outChannels} = info;
  const filterT = new Float32Array(length * outChannels);
  transposeInto(filter, 0, filterT, length, outChannels);
  const patchGrad = new Float64Array(length);
  let base = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++, base += outChannels) {
        let any = false;
        for (let o = 0; o < outChannels; o++) {
          const d = dy[base + o];
          if (d === 0) continue;
          if (!any) {
            patchGrad.fill(0);
            any = true;
          }
          const row = o * length;
          for (let k = 0; k < length; k++) patchGrad[k] += d * filterT[row + k];
        }
        if (any) scatterAddPatchAt(patchGrad, 0, info, b, oh, ow, dx);
      }
    }
  }
}
