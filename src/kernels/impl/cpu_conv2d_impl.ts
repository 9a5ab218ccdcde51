/**
 * What the cpu kernels of Conv2D, FusedConv2D and both Conv2D gradients
 * (kernels/) share: they run as chunked matrix products (`conv2d_impl.ts`),
 * or for a mostly-zero dy as loops over its nonzero entries
 * (`conv2d_sparse_impl.ts`). The stock kernels loop over one element at a
 * time (Conv2DBackpropFilter through `TensorBuffer.get`, about 105 s of a
 * 111 s training batch of the seed's CNN). NCHW data goes to the stock kernel.
 */
import {backend_util, Conv2DBackpropFilter, Conv2DBackpropInput, util} from '@tensorflow/tfjs-core';
import type {
  Conv2DAttrs, Conv2DBackpropFilterAttrs, Conv2DBackpropInputAttrs, NamedAttrMap, TensorInfo,
} from '@tensorflow/tfjs-core';

import {cpuFloats, delegate} from '../kernel_util';
import type {CpuBackendLike, KernelArgs, KernelBuilder} from '../kernel_util';
import {conv2dFilterGradientValues, conv2dInputGradientValues, conv2dValues} from './conv2d_impl';
import {sparseFilterGradient, sparseInputGradient, sparseLoopsNs} from './conv2d_sparse_impl';
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

/** How each Conv2D gradient reads its call: its kernel name, its two inputs, its geometry. */
const GRADIENTS = {
  filter: {
    kernelName: Conv2DBackpropFilter, names: ['x', 'dy'],
    geometry: (x: TensorInfo, _dy: TensorInfo, attrs: NamedAttrMap) => {
      const {filterShape, strides, pad, dimRoundingMode, dataFormat} = attrs as unknown as Conv2DBackpropFilterAttrs;
      return backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1,
          pad, dimRoundingMode, false, backend_util.convertConv2DDataFormat(dataFormat));
    },
  },
  input: {
    kernelName: Conv2DBackpropInput, names: ['dy', 'filter'],
    geometry: (_dy: TensorInfo, filter: TensorInfo, attrs: NamedAttrMap) => {
      const {inputShape, strides, pad, dimRoundingMode, dataFormat} = attrs as unknown as Conv2DBackpropInputAttrs;
      return backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], strides,
          1, pad, dimRoundingMode, false, backend_util.convertConv2DDataFormat(dataFormat));
    },
  },
} as const;

/** The filter gradient (inputs x, dy) or the input gradient (inputs dy, filter). */
export type ConvGradient = keyof typeof GRADIENTS;

/**
 * A Conv2D gradient kernel for one backend: the call's two inputs and
 * geometry, then `body`; NCHW or non-float32 data goes to the kernel
 * registered before.
 */
export function convGradientKernel(
    gradient: ConvGradient, backendName: 'cpu' | 'wasm',
    body: (a: TensorInfo, b: TensorInfo, info: backend_util.Conv2DInfo, backend: object) => TensorInfo): KernelBuilder {
  const {kernelName, names, geometry} = GRADIENTS[gradient];
  return (replaced) => (args) => {
    const a = args.inputs[names[0]] as TensorInfo;
    const b = args.inputs[names[1]] as TensorInfo;
    const info = geometry(a, b, args.attrs ?? {});
    if (!covered(info, a, b)) return delegate(replaced, args as KernelArgs, kernelName, backendName, 'NCHW or non-float32 data');
    return body(a, b, info, args.backend);
  };
}

/**
 * A Conv2D gradient's cpu kernel: the sparse loops over dy's nonzero entries
 * (into a zeroed output) when {@link sparseDyPays}, else the blocked products
 * of conv2d_impl.ts.
 */
export function cpuConvGradientKernel(gradient: ConvGradient): KernelBuilder {
  const filter = gradient === 'filter';
  return convGradientKernel(gradient, 'cpu', (a, b, info, backendObject) => {
    const backend = backendObject as CpuBackendLike;
    const aValues = cpuFloats(backend, a);
    const bValues = cpuFloats(backend, b);
    const outShape = filter ? info.filterShape : info.inShape;
    let out: Float32Array;
    if (sparseDyPays(info, filter ? bValues : aValues)) {
      out = new Float32Array(util.sizeFromShape(outShape));
      if (filter) sparseFilterGradient(aValues, bValues, info, out); else sparseInputGradient(aValues, bValues, info, out);
    } else {
      out = filter ? conv2dFilterGradientValues(aValues, bValues, info) : conv2dInputGradientValues(aValues, bValues, info);
    }
    return backend.makeTensorInfo(outShape, 'float32', out);
  });
}
