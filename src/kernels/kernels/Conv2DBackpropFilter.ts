/**
 * Conv2DBackpropFilter. On cpu: `patches(x)ᵀ · dy` in chunks, or the sparse
 * loops over dy's nonzero entries when they are expected to be faster. On
 * wasm (stock has none): see `wasmKernel` below.
 */
import {Conv2DBackpropFilter} from '@tensorflow/tfjs-core';

import {sparseFilterGradient, sparseLoopsNs} from '../impl/conv2d_sparse_impl';
import {convGradientKernel, cpuConvGradientKernel} from '../impl/cpu_conv2d_impl';
import {patchCount, patchLength} from '../impl/im2col_impl';
import {
  filterGradientByConvolution, roundUp4, SIMD_FILTER_NS_PER_MULTIPLY_ADD, sparseBeatsSimd, WASM,
  XNNPACK_NS_PER_MULTIPLY_ADD, XNNPACK_NS_PER_PACKED_ELEMENT,
} from '../impl/wasm_conv2d_impl';
import {WASM_IO, wasmFloats} from '../kernel_util';
import type {KernelDefinition, WasmBackendLike} from '../kernel_util';
import {simdConvFilterGradient, trainingSimd} from '../wasm/training_simd';

/** The cpu kernel: the blocked products, or the sparse loops (impl/cpu_conv2d_impl.ts). */
const cpuKernel = cpuConvGradientKernel('filter');

/**
 * The wasm Conv2DBackpropFilter kernel (missing from stock wasm): the SIMD
 * rank-1 updates of wasm/training.wat (2-8x faster than the XNNPACK
 * convolution on MobileNetV2's and the seed CNN's layers, dense dy), unless
 * the cost model expects the sparse loops to be faster; without SIMD (or
 * with fewer than 4 output channels) the sparse loops or
 * {@link filterGradientByConvolution}, whichever the cost model prefers.
 */
const wasmKernel = convGradientKernel('filter', WASM, (x, dy, info, backendObject) => {
  const backend = backendObject as WasmBackendLike;
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
});

export const conv2DBackpropFilterConfig: KernelDefinition = {
  kernelName: Conv2DBackpropFilter, cpu: cpuKernel, wasm: wasmKernel,
};
