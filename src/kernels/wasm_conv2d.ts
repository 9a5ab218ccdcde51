/**
 * Conv2D gradients for the wasm backend, composed from wasm's own kernels
 * (XNNPACK's Conv2D and BatchMatMul, Transpose, Slice) so that the heavy work
 * runs in SIMD WebAssembly. Stock tfjs-backend-wasm 4.22 has no
 * Conv2DBackpropFilter, and its Conv2DBackpropInput is a scalar loop.
 *
 * When dy is mostly zeros (ReLU then max pooling leave about 10% nonzero)
 * and the patches are short, a JavaScript loop over the nonzero entries
 * (`conv2d_sparse_math.ts`) beats XNNPACK, whose cost for these products is
 * dominated by repacking dy as a filter. A small cost model picks the form.
 */
import {backend_util, Conv2DBackpropFilter, Conv2DBackpropInput} from '@tensorflow/tfjs-core';
import type {Conv2DBackpropFilterAttrs, Conv2DBackpropInputAttrs, TensorInfo} from '@tensorflow/tfjs-core';

import {nonzeroFraction, sparseFilterGradient, sparseInputGradient} from './conv2d_sparse_math';
import {gatherRows, nonzeroRows, patchCount, patchLength, scatterAddPatches} from './im2col';
import {delegate, runKernel, WASM_IO, wasmFloats} from './kernel_util';
import type {TrainingKernel, WasmBackendLike} from './kernel_util';
import {isPointwise, simdConvFilterGradient, simdPointwiseInputGradient, trainingSimd} from './simd/training_simd';

const WASM = 'wasm';

/** Patch-matrix elements per chunk of the strided input gradient (64 MB of float32). */
const PATCH_CHUNK_ELEMENTS = 1 << 24;

// Rough costs on the training machine (Node 20, wasm SIMD, one thread), in
// nanoseconds, for choosing between XNNPACK and the sparse JavaScript loops.
/** One multiply-add of an XNNPACK convolution or product (about 20 GFMA/s). */
const XNNPACK_NS_PER_MULTIPLY_ADD = 0.05;
/** One element of a filter repacked by XNNPACK (dy, in the filter gradient). */
const XNNPACK_NS_PER_PACKED_ELEMENT = 4;
/** One multiply-add of the sparse JavaScript loops, with their bookkeeping. */
const SPARSE_NS_PER_MULTIPLY_ADD = 1.6;
/** One dy entry looked at by the sparse loops (a branch that mispredicts often). */
const SPARSE_NS_PER_DY_ENTRY = 2.2;
/** One patch element scattered back onto the input in JavaScript. */
const SCATTER_NS_PER_ELEMENT = 2.2;
/**
 * One multiply-add of the SIMD filter gradient (simd/training.wat, 16-20
 * GFLOP/s), counted over its 4 x 8 tiles: channel counts rounded up to 4.
 */
const SIMD_FILTER_NS_PER_MULTIPLY_ADD = 0.12;
/** The same for the SIMD product of a 1x1 input gradient (26-30 GFLOP/s). */
const SIMD_PRODUCT_NS_PER_MULTIPLY_ADD = 0.08;
/** One dy entry sampled by `nonzeroFraction` (a random walk over at most 2^16 of them). */
const DENSITY_NS_PER_SAMPLE = 15;

/** `n` rounded up to a multiple of 4 (the SIMD kernels' tiles cover channels four at a time). */
const roundUp4 = (n: number) => Math.ceil(n / 4) * 4;

/** The expected time of the sparse loops: a scan of dy, and one patch-long multiply-add per nonzero entry. */
function sparseNs(info: backend_util.Conv2DInfo, dy: Float32Array): number {
  return dy.length * (SPARSE_NS_PER_DY_ENTRY + nonzeroFraction(dy) * patchLength(info) * SPARSE_NS_PER_MULTIPLY_ADD);
}

/**
 * Whether the sparse loops are expected to beat a SIMD kernel that takes
 * `simdNs`. dy's density is sampled only when the sparse loops' least cost
 * (their scan of dy) and the sampling leave them a chance.
 */
function sparseBeatsSimd(info: backend_util.Conv2DInfo, backend: WasmBackendLike, dy: TensorInfo, simdNs: number): boolean {
  const entries = patchCount(info) * info.outChannels;
  const samplingNs = Math.min(entries, 1 << 16) * DENSITY_NS_PER_SAMPLE;
  return entries * SPARSE_NS_PER_DY_ENTRY + samplingNs < simdNs && sparseNs(info, wasmFloats(backend, dy)) < simdNs;
}

/** Padding of a stride-1 helper convolution: top, bottom, left, right. */
type Pads = [number, number, number, number];

function transpose(backend: WasmBackendLike, x: TensorInfo, perm: number[]): TensorInfo {
  return runKernel('Transpose', WASM, {inputs: {x}, backend, attrs: {perm}});
}

/** A stride-1 convolution with explicit padding, run by wasm's Conv2D kernel (XNNPACK). */
function convolve(
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

function release(backend: WasmBackendLike, ...infos: TensorInfo[]): void {
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
function filterGradientByConvolution(
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
 * The wasm Conv2DBackpropFilter kernel (missing from stock wasm): the SIMD
 * rank-1 updates of simd/training.wat (2-8x faster than the XNNPACK
 * convolution on MobileNetV2's and the seed CNN's layers, dense dy), unless
 * the cost model expects the sparse loops to be faster; without SIMD (or
 * with fewer than 4 output channels) the sparse loops or
 * {@link filterGradientByConvolution}, whichever the cost model prefers.
 */
export const wasmConv2DBackpropFilter: TrainingKernel = {
  kernelName: Conv2DBackpropFilter,
  build: (replaced) => (args) => {
    const {x, dy} = args.inputs as {x: TensorInfo; dy: TensorInfo};
    const attrs = args.attrs as unknown as Conv2DBackpropFilterAttrs;
    const info = backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number], attrs.filterShape, attrs.strides, 1, attrs.pad,
        attrs.dimRoundingMode, false, backend_util.convertConv2DDataFormat(attrs.dataFormat));
    if (info.dataFormat !== 'channelsLast' || x.dtype !== 'float32' || dy.dtype !== 'float32') {
      return delegate(replaced, args, Conv2DBackpropFilter, WASM, 'NCHW or non-float32 data');
    }
    const backend = args.backend as WasmBackendLike;
    const sparse = () => WASM_IO.produce(backend, info.filterShape,
        (out, read) => sparseFilterGradient(read.floats(x), read.floats(dy), info, out));
    if (trainingSimd(backend) !== null && info.outChannels >= 4) {
      const simdNs = patchCount(info) * info.filterHeight * info.filterWidth * roundUp4(info.inChannels) *
        roundUp4(info.outChannels) * SIMD_FILTER_NS_PER_MULTIPLY_ADD;
      if (sparseBeatsSimd(info, backend, dy, simdNs)) return sparse();
      const result = simdConvFilterGradient(backend, x, dy, info);
      if (result !== null) return result;
    }
    // The convolution repacks dy as its filter, then multiplies every element.
    const dyElements = patchCount(info) * info.outChannels;
    const convolutionNs = dyElements * (patchLength(info) * XNNPACK_NS_PER_MULTIPLY_ADD + XNNPACK_NS_PER_PACKED_ELEMENT);
    if (sparseNs(info, wasmFloats(backend, dy)) < convolutionNs) return sparse();
    return filterGradientByConvolution(backend, x, dy, info);
  },
};

/**
 * The filter of the convolution that computes a stride-1 input gradient:
 * `filter` rotated by 180 degrees with its channel axes swapped,
 * `[fh, fw, ci, co] -> [fh, fw, co, ci]`.
 */
function flippedFilter(backend: WasmBackendLike, filter: TensorInfo): TensorInfo {
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
function inputGradientByProduct(
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

/**
 * The wasm Conv2DBackpropInput kernel (also Conv2DTranspose's forward pass).
 * With stride 1, the input gradient is the convolution of dy with the
 * flipped filter (see {@link flippedFilter}), padded by `filterSize - 1 - pad`
 * on the leading side; XNNPACK runs it. Other strides go through
 * {@link inputGradientByProduct}, and a very sparse dy through the sparse
 * loops. A 1x1 stride-1 convolution's input gradient, a single product,
 * runs in SIMD (simd/training.wat) when it can. The stock kernel is a scalar loop.
 */
export const wasmConv2DBackpropInput: TrainingKernel = {
  kernelName: Conv2DBackpropInput,
  build: (replaced) => (args) => {
    const {dy, filter} = args.inputs as {dy: TensorInfo; filter: TensorInfo};
    const attrs = args.attrs as unknown as Conv2DBackpropInputAttrs;
    const info = backend_util.computeConv2DInfo(
        attrs.inputShape, filter.shape as [number, number, number, number], attrs.strides, 1, attrs.pad,
        attrs.dimRoundingMode, false, backend_util.convertConv2DDataFormat(attrs.dataFormat));
    if (info.dataFormat !== 'channelsLast' || dy.dtype !== 'float32' || filter.dtype !== 'float32') {
      return delegate(replaced, args, Conv2DBackpropInput, WASM, 'NCHW or non-float32 data');
    }
    const backend = args.backend as WasmBackendLike;
    // A 1x1 convolution's input gradient is one product: SIMD, unless the sparse loops are expected to be faster.
    if (isPointwise(info) && info.inChannels >= 4 && trainingSimd(backend) !== null) {
      const simdNs =
        patchCount(info) * roundUp4(info.inChannels) * roundUp4(info.outChannels) * SIMD_PRODUCT_NS_PER_MULTIPLY_ADD;
      const dx = sparseBeatsSimd(info, backend, dy, simdNs) ? null : simdPointwiseInputGradient(backend, dy, filter, info);
      if (dx !== null) return dx;
    }
    const top = info.filterHeight - 1 - info.padInfo.top;
    const left = info.filterWidth - 1 - info.padInfo.left;
    const bottom = info.inHeight - info.outHeight - top + info.filterHeight - 1;
    const right = info.inWidth - info.outWidth - left + info.filterWidth - 1;
    const byConvolution = info.strideHeight === 1 && info.strideWidth === 1 && Math.min(top, bottom, left, right) >= 0;
    // The convolution runs over every input pixel (padding included); the
    // product over the output pixels with a nonzero dy, then scatters their
    // patches in JavaScript; the sparse loops over the nonzero dy entries.
    const length = patchLength(info);
    const dyValues = wasmFloats(backend, dy);
    const rows = nonzeroRows(dyValues, 0, patchCount(info), info.outChannels);
    const productNs = rows.length * length * (info.outChannels * XNNPACK_NS_PER_MULTIPLY_ADD + SCATTER_NS_PER_ELEMENT);
    const convolutionNs = byConvolution ?
      info.batchSize * info.inHeight * info.inWidth * length * info.outChannels * XNNPACK_NS_PER_MULTIPLY_ADD :
      Infinity;
    if (sparseNs(info, dyValues) < Math.min(productNs, convolutionNs)) {
      return WASM_IO.produce(backend, info.inShape,
          (out, read) => sparseInputGradient(read.floats(dy), read.floats(filter), info, out));
    }
    if (productNs < convolutionNs) return inputGradientByProduct(backend, dy, filter, info, rows);
    const flipped = flippedFilter(backend, filter);
    const dx = convolve(backend, dy, flipped, [top, bottom, left, right], [1, 1]);
    release(backend, flipped);
    return dx;
  },
};
