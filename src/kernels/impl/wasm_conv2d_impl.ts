/**
 * What the wasm kernels of both Conv2D gradients (kernels/) share: forms
 * composed from wasm's own kernels (XNNPACK's Conv2D and BatchMatMul,
 * Transpose, Slice) so that the heavy work runs in SIMD WebAssembly, and the
 * costs that choose between them, the SIMD kernels of wasm/training/*.wat and
 * the sparse loops. Stock tfjs-backend-wasm 4.22 has no
 * Conv2DBackpropFilter, and its Conv2DBackpropInput is a scalar loop.
 *
 * When dy is mostly zeros (ReLU then max pooling leave about 10% nonzero)
 * and the patches are short, a JavaScript loop over the nonzero entries
 * (`conv2d_sparse_impl.ts`) beats XNNPACK, whose cost for these products is
 * dominated by repacking dy as a filter.
 */
import type {backend_util, TensorInfo} from '@tensorflow/tfjs-core';

import {runKernel, wasmFloats} from '../kernel_util';
import type {WasmBackendLike} from '../kernel_util';
import {DENSITY_NS_PER_SAMPLE, SPARSE_NS_PER_DY_ENTRY, sparseLoopsNs} from './conv2d_sparse_impl';
import {gatherRows, patchCount, scatterAddPatches, patchLength} from './im2col_impl';

export const WASM = 'wasm';

/** Patch-matrix elements per chunk of the strided input gradient (64 MB of float32). */
const PATCH_CHUNK_ELEMENTS = 1 << 24;

// Rough costs on the training machine (Node 20, wasm SIMD, one thread), in
// nanoseconds, for choosing between XNNPACK and the sparse JavaScript loops.
/** One multiply-add of an XNNPACK convolution or product (about 20 GFMA/s). */
export const XNNPACK_NS_PER_MULTIPLY_ADD = 0.05;
/** One element of a filter repacked by XNNPACK (dy, in the filter gradient). */
export const XNNPACK_NS_PER_PACKED_ELEMENT = 4;
/** One patch element scattered back onto the input in JavaScript. */
export const SCATTER_NS_PER_ELEMENT = 2.2;
/**
 * One multiply-add of the SIMD filter gradient (wasm/training/*.wat, 16-20
 * GFLOP/s), counted over its 4 x 8 tiles: channel counts rounded up to 4.
 */
export const SIMD_FILTER_NS_PER_MULTIPLY_ADD = 0.12;
/** The same for its 1 x 32 tiles (fewer than 4 input channels), counted over output channels rounded up to 4. */
export const SIMD_NARROW_FILTER_NS_PER_MULTIPLY_ADD = 0.16;
/** The same for the SIMD product of a 1x1 input gradient (26-30 GFLOP/s). */
export const SIMD_PRODUCT_NS_PER_MULTIPLY_ADD = 0.08;

/**
 * The sparse SIMD kernels of training/*.wat, over dy's nonzero entries (both
 * gradients): one dy entry listed or scanned; one (nonzero dy, tap) pair of
 * the filter gradient, and each of its quads (or single floats past the
 * quads) of input channels; one nonzero dy times a quad of the patch in the
 * input gradient. Measured on the seed CNN's layers (about 11% nonzero).
 */
export const SIMD_SPARSE_NS_PER_DY_ENTRY = 0.8;
export const SIMD_SPARSE_FILTER_NS_PER_PAIR = 3;
export const SIMD_SPARSE_FILTER_NS_PER_QUAD = 0.6;
export const SIMD_SPARSE_PRODUCT_NS_PER_QUAD = 0.8;
/** One patch-gradient element added back onto the input by training/*.wat's `scatterTaps`. */
export const SIMD_SCATTER_NS_PER_ELEMENT = 0.15;

/** The expected time of the SIMD filter gradient over dy's nonzero entries (a fraction `density` of them). */
export function simdSparseFilterNs(info: backend_util.Conv2DInfo, density: number): number {
  const entries = patchCount(info) * info.outChannels;
  const vectorOps = Math.floor(info.inChannels / 4) + (info.inChannels % 4);
  return entries * (SIMD_SPARSE_NS_PER_DY_ENTRY + density * info.filterHeight * info.filterWidth *
    (SIMD_SPARSE_FILTER_NS_PER_PAIR + vectorOps * SIMD_SPARSE_FILTER_NS_PER_QUAD));
}

/**
 * The expected times of the SIMD input gradient by product, dense and over
 * dy's nonzero entries (a fraction `density` of them).
 */
export function simdProductInputNs(info: backend_util.Conv2DInfo, density: number): {dense: number; sparse: number} {
  const pixels = patchCount(info);
  const length = patchLength(info);
  const scatter = pixels * length * SIMD_SCATTER_NS_PER_ELEMENT;
  return {
    dense: pixels * Math.ceil(length / 8) * 8 * info.outChannels * SIMD_PRODUCT_NS_PER_MULTIPLY_ADD + scatter,
    sparse: pixels * info.outChannels * (SIMD_SPARSE_NS_PER_DY_ENTRY +
      density * Math.ceil(length / 4) * SIMD_SPARSE_PRODUCT_NS_PER_QUAD) + scatter,
  };
}

/** `n` rounded up to a multiple of 4 (the SIMD kernels' tiles cover channels four at a time). */
export const roundUp4 = (n: number) => Math.ceil(n / 4) * 4;

/**
 * Whether the sparse loops are expected to beat a SIMD kernel that takes
 * `simdNs`. dy's density is sampled only when the sparse loops' least cost
 * (their scan of dy) and the sampling leave them a chance.
 */
export function sparseBeatsSimd(info: backend_util.Conv2DInfo, backend: WasmBackendLike, dy: TensorInfo, simdNs: number): boolean {
  const entries = patchCount(info) * info.outChannels;
  const samplingNs = Math.min(entries, 1 << 16) * DENSITY_NS_PER_SAMPLE;
  return entries * SPARSE_NS_PER_DY_ENTRY + samplingNs < simdNs && sparseLoopsNs(info, wasmFloats(backend, dy)) < simdNs;
}

/** Padding of a stride-1 helper convolution: top, bottom, left, right. */
type Pads = [number, number, number, number];

function transpose(backend: WasmBackendLike, x: TensorInfo, perm: number[]): TensorInfo {
  return runKernel('Transpose', WASM, {inputs: {x}, backend, attrs: {perm}});
}

/** A stride-1 convolution with explicit padding, run by wasm's Conv2D kernel (XNNPACK). */
export function convolve(
    backend: WasmBackendLike, x: TensorInfo, filter: TensorInfo, [top, bottom, left, right]: Pads,
    dilations: [number, number]): TensorInfo {
  return runKernel('Conv2D', WASM, {
    inputs: {x, filter},
    backend,
    attrs: {strides: 1, pad: [[0, 0], [top, bottom], [left, right], [0, 0]], dataFormat: 'NHWC', dilations},
  });
}

/** `a · b` for 2D float32 tensors, by wasm's BatchMatMul kernel (XNNPACK without transposes). */
function matMul(backend: WasmBackendLike, a: TensorInfo, b: TensorInfo): TensorInfo {
  return runKernel('BatchMatMul', WASM, {inputs: {a, b}, backend, attrs: {transposeA: false, transposeB: false}});
}

export function release(backend: WasmBackendLike, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/**
 * A float32 tensor on the wasm heap, left as malloc gave it or written by
 * `fill` (views taken inside `fill` are valid).
 */
function heapTensor(backend: WasmBackendLike, shape: number[], fill?: (out: Float32Array) => void): TensorInfo {
  const info = backend.makeOutput(shape, 'float32');
  fill?.(backend.typedArrayFromHeap(info) as Float32Array);
  return info;
}

/**
 * The filter gradient as a convolution. `dFilter[kh, kw, ci, co] = sum over
 * b, oh, ow of x[b, oh*sh + kh - top, ow*sw + kw - left, ci] * dy[b, oh, ow, co]`
 * is itself a convolution once batch and channels swap places: the input is
 * x as `[ci, h, w, b]`, the filter is dy as `[oh, ow, b, co]` dilated by the
 * strides, and the `[ci, kh, kw, co]` output is transposed back. Rows and
 * columns that no window reaches (valid padding with stride 2) are cropped
 * first, since a convolution cannot take negative padding.
 */
export function filterGradientByConvolution(
    backend: WasmBackendLike, x: TensorInfo, dy: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const {batchSize, inHeight, inWidth, inChannels, outHeight, outWidth} = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const bottom = info.filterHeight + (outHeight - 1) * info.strideHeight - inHeight - top;
  const right = info.filterWidth + (outWidth - 1) * info.strideWidth - inWidth - left;
  const temporaries: TensorInfo[] = [];
  let input = x;
  if (bottom < 0 || right < 0) {
    input = runKernel('Slice', WASM, {
      inputs: {x},
      backend,
      attrs: {begin: [0, 0, 0, 0], size: [batchSize, inHeight + Math.min(bottom, 0), inWidth + Math.min(right, 0), inChannels]},
    });
    temporaries.push(input);
  }
  const xT = transpose(backend, input, [3, 1, 2, 0]);
  const dyT = transpose(backend, dy, [1, 2, 0, 3]);
  const product = convolve(backend, xT, dyT, [top, Math.max(bottom, 0), left, Math.max(right, 0)],
      [info.strideHeight, info.strideWidth]);
  const dFilter = transpose(backend, product, [1, 2, 0, 3]);
  release(backend, ...temporaries, xT, dyT, product);
  return dFilter;
}

/**
 * The filter of the convolution that computes a stride-1 input gradient:
 * `filter` rotated by 180 degrees with its channel axes swapped,
 * `[fh, fw, ci, co] -> [fh, fw, co, ci]`.
 */
export function flippedFilter(backend: WasmBackendLike, filter: TensorInfo): TensorInfo {
  const [fh, fw, ci, co] = filter.shape;
  const values = wasmFloats(backend, filter);
  const flipped = new Float32Array(values.length);
  for (let kh = 0; kh < fh; kh++) {
    for (let kw = 0; kw < fw; kw++) {
      const src = ((fh - 1 - kh) * fw + (fw - 1 - kw)) * ci * co;
      const dst = (kh * fw + kw) * co * ci;
      for (let i = 0; i < ci; i++) {
        for (let o = 0; o < co; o++) {
          flipped[dst + o * ci + i] = values[src + i * co + o];
        }
      }
    }
  }
  return backend.makeOutput([fh, fw, co, ci], 'float32', undefined, flipped);
}

/**
 * The input gradient for any geometry: patch gradients `dy · filterᵀ`
 * (XNNPACK, through wasm's BatchMatMul) for the output pixels `rows` whose dy
 * is not all zeros, scattered back onto the input in JavaScript, in chunks.
 */
export function inputGradientByProduct(
    backend: WasmBackendLike, dy: TensorInfo, filter: TensorInfo, info: backend_util.Conv2DInfo,
    rows: Int32Array): TensorInfo {
  const length = patchLength(info);
  const outChannels = info.outChannels;
  const chunk = Math.max(1, Math.floor(PATCH_CHUNK_ELEMENTS / length));
  // filter as [length, outChannels] -> filterᵀ as [outChannels, length].
  const filterT = transpose(backend, {...filter, shape: [length, outChannels]}, [1, 0]);
  const dx = heapTensor(backend, info.inShape, (out) => out.fill(0));
  for (let first = 0; first < rows.length; first += chunk) {
    const count = Math.min(chunk, rows.length - first);
    const dyPart = heapTensor(backend, [count, outChannels]);
    gatherRows(wasmFloats(backend, dy), outChannels, rows, first, count, wasmFloats(backend, dyPart));
    const patchGrads = matMul(backend, dyPart, filterT);
    // Views only now: the allocations above may have moved the heap.
    scatterAddPatches(wasmFloats(backend, patchGrads), info, rows, first, count, wasmFloats(backend, dx));
    release(backend, dyPart, patchGrads);
  }
  release(backend, filterT);
  return dx;
}

