/**
 * Conv2DBackpropFilter. On cpu: `patches(x)ᵀ · dy` in chunks, or the sparse
 * loops over dy's nonzero entries when they are expected to be faster. On
 * wasm (stock has none): see `wasmKernel` below.
 */
import {backend_util, Conv2DBackpropFilter, util} from '@tensorflow/tfjs-core';
import type {Conv2DBackpropFilterAttrs, TensorInfo} from '@tensorflow/tfjs-core';

import {conv2dFilterGradientValues} from '../impl/conv2d_impl';
import {sparseFilterGradient, sparseLoopsNs} from '../impl/conv2d_sparse_impl';
import {covered, sparseDyPays} from '../impl/cpu_conv2d_impl';
import {patchCount, patchLength} from '../impl/im2col_impl';
import {
  filterGradientByConvolution, roundUp4, SIMD_FILTER_NS_PER_MULTIPLY_ADD, sparseBeatsSimd, WASM,
  XNNPACK_NS_PER_MULTIPLY_ADD, XNNPACK_NS_PER_PACKED_ELEMENT,
} from '../impl/wasm_conv2d_impl';
import {cpuFloats, delegate, WASM_IO, wasmFloats} from '../kernel_util';
import type {CpuBackendLike, KernelArgs, KernelBuilder, KernelDefinition, WasmBackendLike} from '../kernel_util';
import {simdConvFilterGradient, trainingSimd} from '../wasm/training_simd';

/** The cpu Conv2DBackpropFilter kernel: `patches(x)ᵀ · dy`, in chunks. */
const cpuKernel: KernelBuilder = (replaced) => (args) => {
  const {x, dy} = args.inputs as {x: TensorInfo; dy: TensorInfo};
  const attrs = args.attrs as unknown as Conv2DBackpropFilterAttrs;
  const info = backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number], attrs.filterShape, attrs.strides, 1, attrs.pad,
      attrs.dimRoundingMode, false, backend_util.convertConv2DDataFormat(attrs.dataFormat));
  if (!covered(info, x, dy)) return delegate(replaced, args as KernelArgs, Conv2DBackpropFilter, 'cpu', 'NCHW or non-float32 data');
  const backend = args.backend as CpuBackendLike;
  const xValues = cpuFloats(backend, x);
  const dyValues = cpuFloats(backend, dy);
  let dFilter: Float32Array;
  if (sparseDyPays(info, dyValues)) {
    dFilter = new Float32Array(util.sizeFromShape(info.filterShape));
    sparseFilterGradient(xValues, dyValues, info, dFilter);
  } else {
    dFilter = conv2dFilterGradientValues(xValues, dyValues, info);
  }
  return backend.makeTensorInfo(info.filterShape, 'float32', dFilter);
};

/**
 * The wasm Conv2DBackpropFilter kernel (missing from stock wasm): the SIMD
 * rank-1 updates of wasm/training.wat (2-8x faster than the XNNPACK
 * convolution on MobileNetV2's and the seed CNN's layers, dense dy), unless
 * the cost model expects the sparse loops to be faster; without SIMD (or
 * with fewer than 4 output channels) the sparse loops or
 * {@link filterGradientByConvolution}, whichever the cost model prefers.
 */
const wasmKernel: KernelBuilder = (replaced) => (args) => {
  const {x, dy} = args.inputs as {x: TensorInfo; dy: TensorInfo};
  const attrs = args.attrs as unknown as Conv2DBackpropFilterAttrs;
  const info = backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number], attrs.filterShape, attrs.strides, 1, attrs.pad,
      attrs.dimRoundingMode, false, backend_util.convertConv2DDataFormat(attrs.dataFormat));
  if (info.dataFormat !== 'channelsLast' || x.dtype !== 'float32' || dy.dtype !== 'float32') {
    return delegate(replaced, args as KernelArgs, Conv2DBackpropFilter, WASM, 'NCHW or non-float32 data');
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
  if (sparseLoopsNs(info, wasmFloats(backend, dy)) < convolutionNs) return sparse();
  return filterGradientByConvolution(backend, x, dy, info);
};

export const conv2DBackpropFilterConfig: KernelDefinition = {
  kernelName: Conv2DBackpropFilter, cpu: cpuKernel, wasm: wasmKernel,
};
