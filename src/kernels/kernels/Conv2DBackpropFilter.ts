/**
 * Conv2DBackpropFilter. On cpu: `patches(x)ᵀ · dy` in chunks, or the sparse
 * loops over dy's nonzero entries when they are expected to be faster. On
 * wasm (stock has none): see `wasmKernel` below.
 */
import {Conv2DBackpropFilter} from '@tensorflow/tfjs-core';

import {nonzeroFraction, sparseFilterGradient, sparseLoopsNs} from '../impl/conv2d_sparse_impl';
import {convGradientKernel, cpuConvGradientKernel} from '../impl/cpu_conv2d_impl';
import {patchCount, patchLength} from '../impl/im2col_impl';
import {
  filterGradientByConvolution, roundUp4, SIMD_FILTER_NS_PER_MULTIPLY_ADD, SIMD_NARROW_FILTER_NS_PER_MULTIPLY_ADD,
  simdSparseFilterNs, WASM, XNNPACK_NS_PER_MULTIPLY_ADD, XNNPACK_NS_PER_PACKED_ELEMENT,
} from '../impl/wasm_conv2d_impl';
import {WASM_IO, wasmFloats} from '../kernel_util';
import type {KernelDefinition, WasmBackendLike} from '../kernel_util';
import {simdConvFilterGradient, trainingSimd} from '../wasm/training_simd';
import {simdSparseFilterGradient} from '../wasm/training_simd_grads';

/** The cpu kernel: the blocked products, or the sparse loops (impl/cpu_conv2d_impl.ts). */
const cpuKernel = cpuConvGradientKernel('filter');

/**
 * The wasm Conv2DBackpropFilter kernel (missing from stock wasm), with SIMD
 * (wasm/training/*.wat) the faster by the cost model of two kernels: the
 * dense rank-1 updates (tiles of 4 x 8 channels, or 1 x 32 for fewer than 4
 * input channels; 2-8x faster than the XNNPACK convolution on MobileNetV2's
 * and the seed CNN's layers), and the sparse kernel over dy's nonzero
 * entries (the seed CNN's second layer in training, about 11% nonzero: 5x
 * faster than the dense one), which declines an x holding NaN or infinities.
 * Without SIMD, the sparse JavaScript loops or
 * {@link filterGradientByConvolution}, whichever the cost model prefers.
 */
const wasmKernel = convGradientKernel('filter', WASM, (x, dy, info, backendObject) => {
  const backend = backendObject as WasmBackendLike;
  if (trainingSimd(backend) !== null) {
    // Fewer than 4 input channels: tiles of 1 x 32 channels rather than 4 x 8 (which round them up to 4).
    const narrow = info.inChannels < 4;
    const denseNs = info.outChannels < 4 ? Infinity :
      patchCount(info) * info.filterHeight * info.filterWidth * roundUp4(info.outChannels) *
      (narrow ? info.inChannels * SIMD_NARROW_FILTER_NS_PER_MULTIPLY_ADD :
        roundUp4(info.inChannels) * SIMD_FILTER_NS_PER_MULTIPLY_ADD);
    // dy's density is sampled only when the sparse kernel's least cost (its scan of dy) leaves it a chance.
    const sparseNs = simdSparseFilterNs(info, 0) < denseNs ?
      simdSparseFilterNs(info, nonzeroFraction(wasmFloats(backend, dy))) : Infinity;
    const result = (sparseNs < denseNs ? simdSparseFilterGradient(backend, x, dy, info) : null) ??
      (denseNs < Infinity ? simdConvFilterGradient(backend, x, dy, info, narrow) : null);
    if (result !== null) return result;
  }
  // The convolution repacks dy as its filter, then multiplies every element.
  const dyElements = patchCount(info) * info.outChannels;
  const convolutionNs = dyElements * (patchLength(info) * XNNPACK_NS_PER_MULTIPLY_ADD + XNNPACK_NS_PER_PACKED_ELEMENT);
  if (sparseLoopsNs(info, wasmFloats(backend, dy)) < convolutionNs) {
    return WASM_IO.produce(backend, info.filterShape,
        (out, read) => sparseFilterGradient(read.floats(x), read.floats(dy), info, out));
  }
  return filterGradientByConvolution(backend, x, dy, info);
});

export const conv2DBackpropFilterConfig: KernelDefinition = {
  kernelName: Conv2DBackpropFilter, cpu: cpuKernel, wasm: wasmKernel,
};
