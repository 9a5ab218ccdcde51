/**
 * Conv2D, FusedConv2D and both Conv2D gradients for the cpu backend, as
 * chunked matrix products (`conv2d_math.ts`), or for a mostly-zero dy as
 * loops over its nonzero entries (`conv2d_sparse_math.ts`). The stock kernels
 * loop over one element at a time (Conv2DBackpropFilter through
 * `TensorBuffer.get`, about 105 s of a 111 s training batch of the seed's
 * CNN). NCHW data goes to the stock kernel.
 */
import {backend_util, Conv2D, Conv2DBackpropFilter, Conv2DBackpropInput, FusedConv2D, util} from '@tensorflow/tfjs-core';
import type {
  Conv2DAttrs, Conv2DBackpropFilterAttrs, Conv2DBackpropInputAttrs, FusedConv2DAttrs, TensorInfo,
} from '@tensorflow/tfjs-core';

import {conv2dFilterGradientValues, conv2dInputGradientValues, conv2dValues} from './conv2d_math';
import {nonzeroFraction, sparseFilterGradient, sparseInputGradient} from './conv2d_sparse_math';
import {addBiasAndActivate, isFusableActivation} from './cpu_fused';
import {cpuFloats, delegate} from './kernel_util';
import type {CpuBackendLike, KernelArgs, TrainingKernel} from './kernel_util';

const CPU = 'cpu';

/**
 * Below this fraction of nonzero dy entries the gradients take the sparse
 * loops (`conv2d_sparse_math.ts`): measured 2-3x faster than the blocked
 * products at 11% (the seed CNN in training), 3.5x slower at 100%.
 */
const SPARSE_BELOW = 0.2;

function isSparse(dy: Float32Array): boolean {
  return nonzeroFraction(dy) < SPARSE_BELOW;
}

/** Whether the fast path covers a geometry: channels-last float32 data. */
function covered(info: backend_util.Conv2DInfo, ...tensors: TensorInfo[]): boolean {
  return info.dataFormat === 'channelsLast' && tensors.every((t) => t.dtype === 'float32');
}

function conv2dInfo(x: TensorInfo, filter: TensorInfo, attrs: Conv2DAttrs): backend_util.Conv2DInfo {
  return backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number], filter.shape as [number, number, number, number],
      attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, false,
      backend_util.convertConv2DDataFormat(attrs.dataFormat));
}

/** The convolution as a cpu tensor, or null when the fast path does not cover it. */
function convolve(args: KernelArgs): TensorInfo | null {
  const {x, filter} = args.inputs as {x: TensorInfo; filter: TensorInfo};
  const info = conv2dInfo(x, filter, args.attrs as unknown as Conv2DAttrs);
  if (!covered(info, x, filter)) return null;
  const backend = args.backend as CpuBackendLike;
  const y = conv2dValues(cpuFloats(backend, x), cpuFloats(backend, filter), info);
  return backend.makeTensorInfo(info.outShape, 'float32', y);
}

/** The cpu Conv2D kernel: a convolution as chunked patch-matrix products. */
export const cpuConv2D: TrainingKernel = {
  kernelName: Conv2D,
  build: (replaced) => (args) => convolve(args) ?? delegate(replaced, args, Conv2D, CPU, 'NCHW or non-float32 data'),
};

/**
 * The cpu FusedConv2D kernel (used by layers with a bias or activation during
 * inference, and with a linear activation during training): the convolution
 * above, then the cpu backend's own Add and activation kernels.
 */
export const cpuFusedConv2D: TrainingKernel = {
  kernelName: FusedConv2D,
  build: (replaced) => (args) => {
    const {bias, preluActivationWeights} = args.inputs as Record<string, TensorInfo | undefined>;
    const attrs = args.attrs as unknown as FusedConv2DAttrs;
    const product = isFusableActivation(attrs.activation) ? convolve(args) : null;
    if (product == null) return delegate(replaced, args, FusedConv2D, CPU, 'NCHW or non-float32 data');
    return addBiasAndActivate(args.backend as CpuBackendLike, product,
        {bias, preluActivationWeights, activation: attrs.activation, leakyreluAlpha: attrs.leakyreluAlpha});
  },
};

/** The cpu Conv2DBackpropFilter kernel: `patches(x)ᵀ · dy`, in chunks. */
export const cpuConv2DBackpropFilter: TrainingKernel = {
  kernelName: Conv2DBackpropFilter,
  build: (replaced) => (args) => {
    const {x, dy} = args.inputs as {x: TensorInfo; dy: TensorInfo};
    const attrs = args.attrs as unknown as Conv2DBackpropFilterAttrs;
    const info = backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number], attrs.filterShape, attrs.strides, 1, attrs.pad,
        attrs.dimRoundingMode, false, backend_util.convertConv2DDataFormat(attrs.dataFormat));
    if (!covered(info, x, dy)) return delegate(replaced, args, Conv2DBackpropFilter, CPU, 'NCHW or non-float32 data');
    const backend = args.backend as CpuBackendLike;
    const xValues = cpuFloats(backend, x);
    const dyValues = cpuFloats(backend, dy);
    let dFilter: Float32Array;
    if (isSparse(dyValues)) {
      dFilter = new Float32Array(util.sizeFromShape(info.filterShape));
      sparseFilterGradient(xValues, dyValues, info, dFilter);
    } else {
      dFilter = conv2dFilterGradientValues(xValues, dyValues, info);
    }
    return backend.makeTensorInfo(info.filterShape, 'float32', dFilter);
  },
};

/** The cpu Conv2DBackpropInput kernel: `dy · filterᵀ`, scattered back onto the input. */
export const cpuConv2DBackpropInput: TrainingKernel = {
  kernelName: Conv2DBackpropInput,
  build: (replaced) => (args) => {
    const {dy, filter} = args.inputs as {dy: TensorInfo; filter: TensorInfo};
    const attrs = args.attrs as unknown as Conv2DBackpropInputAttrs;
    const info = backend_util.computeConv2DInfo(
        attrs.inputShape, filter.shape as [number, number, number, number], attrs.strides, 1, attrs.pad,
        attrs.dimRoundingMode, false, backend_util.convertConv2DDataFormat(attrs.dataFormat));
    if (!covered(info, dy, filter)) return delegate(replaced, args, Conv2DBackpropInput, CPU, 'NCHW or non-float32 data');
    const backend = args.backend as CpuBackendLike;
    const dyValues = cpuFloats(backend, dy);
    const filterValues = cpuFloats(backend, filter);
    let dx: Float32Array;
    if (isSparse(dyValues)) {
      dx = new Float32Array(util.sizeFromShape(info.inShape));
      sparseInputGradient(dyValues, filterValues, info, dx);
    } else {
      dx = conv2dInputGradientValues(dyValues, filterValues, info);
    }
    return backend.makeTensorInfo(info.inShape, 'float32', dx);
  },
};
