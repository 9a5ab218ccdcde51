/**
 * What the cpu kernels of Conv2D, FusedConv2D and both Conv2D gradients
 * (kernels/) share: they run as chunked matrix products (`conv2d_impl.ts`),
 * or for a mostly-zero dy as loops over its nonzero entries
 * (`conv2d_sparse_impl.ts`). The stock kernels loop over one element at a
 * time (Conv2DBackpropFilter through `TensorBuffer.get`, about 105 s of a
 * 111 s training batch of the seed's CNN). NCHW data goes to the stock kernel.
 */
import {backend_util} from '@tensorflow/tfjs-core';
import type {Conv2DAttrs, TensorInfo} from '@tensorflow/tfjs-core';

import {cpuFloats} from '../kernel_util';
import type {CpuBackendLike, KernelArgs} from '../kernel_util';
import {conv2dValues} from './conv2d_impl';
import {sparseLoopsNs} from './conv2d_sparse_impl';
import {patchCount, patchLength} from './im2col_impl';

/** One multiply-add of the blocked products of `gemm_impl.ts` (about 5.8 GFLOP/s). */
const GEMM_NS_PER_MULTIPLY_ADD = 0.34;

/**
 * Whether a gradient's sparse loops are expected to beat the blocked
 * products: the rule of `conv2d_sparse_impl.ts` (measured 2-3x faster at 11%
 * nonzero dy, the seed CNN in training, 3.5x slower at 100%).
 */
export function sparseDyPays(info: backend_util.Conv2DInfo, dy: Float32Array): boolean {
  return sparseLoopsNs(info, dy) < patchCount(info) * info.outChannels * patchLength(info) * GEMM_NS_PER_MULTIPLY_ADD;
}

/** Whether the fast path covers a geometry: channels-last float32 data. */
export function covered(info: backend_util.Conv2DInfo, ...tensors: TensorInfo[]): boolean {
  return info.dataFormat === 'channelsLast' && tensors.every((t) => t.dtype === 'float32');
}

export function conv2dInfo(x: TensorInfo, filter: TensorInfo, attrs: Conv2DAttrs): backend_util.Conv2DInfo {
  return backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number], filter.shape as [number, number, number, number],
      attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, false,
      backend_util.convertConv2DDataFormat(attrs.dataFormat));
}

/** The convolution as a cpu tensor, or null when the fast path does not cover it. */
export function cpuConvolve(args: KernelArgs): TensorInfo | null {
  const {x, filter} = args.inputs as {x: TensorInfo; filter: TensorInfo};
  const info = conv2dInfo(x, filter, args.attrs as unknown as Conv2DAttrs);
  if (!covered(info, x, filter)) return null;
  const backend = args.backend as CpuBackendLike;
  const y = conv2dValues(cpuFloats(backend, x), cpuFloats(backend, filter), info);
  return backend.makeTensorInfo(info.outShape, 'float32', y);
}
