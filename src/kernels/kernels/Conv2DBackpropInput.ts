/**
 * Conv2DBackpropInput (also Conv2DTranspose's forward pass). On cpu:
 * `dy · filterᵀ` scattered back onto the input, or the sparse loops over dy's
 * nonzero entries when they are expected to be faster. On wasm (stock is a
 * scalar loop): see `wasmKernel` below.
 */
import {Conv2DBackpropInput} from '@tensorflow/tfjs-core';

import {nonzeroFraction, sparseInputGradient, sparseLoopsNs} from '../impl/conv2d_sparse_impl';
import {convGradientKernel, cpuConvGradientKernel} from '../impl/cpu_conv2d_impl';
import {nonzeroRows, patchCount, patchLength} from '../impl/im2col_impl';
import {
  convolve, flippedFilter, inputGradientByProduct, release, roundUp4, SCATTER_NS_PER_ELEMENT,
  SIMD_PRODUCT_NS_PER_MULTIPLY_ADD, simdProductInputNs, sparseBeatsSimd, WASM, XNNPACK_NS_PER_MULTIPLY_ADD,
} from '../impl/wasm_conv2d_impl';
import {WASM_IO, wasmFloats} from '../kernel_util';
import type {KernelDefinition, WasmBackendLike} from '../kernel_util';
import {isPointwise, simdPointwiseInputGradient, trainingSimd} from '../wasm/training_simd';
import type {Backend} from '../wasm/training_simd';
import {allFinite, simdInputGradientByProduct} from '../wasm/training_simd_grads';

/** The cpu kernel: the blocked products, or the sparse loops (impl/cpu_conv2d_impl.ts). */
const cpuKernel = cpuConvGradientKernel('input');

/**
 * The wasm Conv2DBackpropInput kernel (also Conv2DTranspose's forward pass).
 * With stride 1, the input gradient is the convolution of dy with the
 * flipped filter (see {@link flippedFilter}), padded by `filterSize - 1 - pad`
 * on the leading side; XNNPACK runs it. Other strides go through
 * {@link inputGradientByProduct}, and a very sparse dy through the sparse
 * loops: these are the paths without SIMD. With SIMD (wasm/training/*.wat), a
 * 1x1 stride-1 convolution's input gradient is a single product; any other
 * geometry is the product `dy · filterᵀ` (dense, or skipping dy's zeros: the
 * seed CNN's second layer in training, 11% nonzero, 18 ms against 106 ms by
 * XNNPACK and 42 ms dense) scattered back onto the input in SIMD. The stock
 * kernel is a scalar loop.
 */
const wasmKernel = convGradientKernel('input', WASM, (dy, filter, info, backendObject) => {
  const backend = backendObject as WasmBackendLike;
  // A 1x1 convolution's input gradient is one product: SIMD, unless the sparse loops are expected to be faster.
  if (isPointwise(info) && info.inChannels >= 4 && trainingSimd(backend) !== null) {
    const simdNs =
      patchCount(info) * roundUp4(info.inChannels) * roundUp4(info.outChannels) * SIMD_PRODUCT_NS_PER_MULTIPLY_ADD;
    const dx = sparseBeatsSimd(info, backend, dy, simdNs) ? null : simdPointwiseInputGradient(backend, dy, filter, info);
    if (dx !== null) return dx;
  }
  // Any other geometry with SIMD: the patch gradients dy · filterᵀ, dense or over dy's nonzero entries
  // (which needs a finite filter: a zero dy times an infinity is NaN), added back onto the input in SIMD.
  const simd = trainingSimd(backend);
  if (simd !== null && patchLength(info) >= 4) {
    const least = simdProductInputNs(info, 0);
    const {dense, sparse} = least.sparse < least.dense ?
      simdProductInputNs(info, nonzeroFraction(wasmFloats(backend, dy))) : least;
    const useSparse = sparse < dense && allFinite(simd, backend as Backend, filter);
    const dx = simdInputGradientByProduct(backend, dy, filter, info, useSparse);
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
  if (sparseLoopsNs(info, dyValues) < Math.min(productNs, convolutionNs)) {
    return WASM_IO.produce(backend, info.inShape,
        (out, read) => sparseInputGradient(read.floats(dy), read.floats(filter), info, out));
  }
  if (productNs < convolutionNs) return inputGradientByProduct(backend, dy, filter, info, rows);
  const flipped = flippedFilter(backend, filter);
  const dx = convolve(backend, dy, flipped, [top, bottom, left, right], [1, 1]);
  release(backend, flipped);
  return dx;
});

export const conv2DBackpropInputConfig: KernelDefinition = {
  kernelName: Conv2DBackpropInput, cpu: cpuKernel, wasm: wasmKernel,
};
