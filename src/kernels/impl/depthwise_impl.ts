/**
 * The two gradients of an NHWC depthwise convolution over typed arrays.
 * Output channel `c * multiplier + m` reads input channel `c` through filter
 * entry `[kh, kw, c, m]`, so both gradients walk the output pixels once and
 * touch contiguous channel runs. Shared by the cpu and wasm kernels;
 * backend-independent. Supports any strides, dilations and padding.
 */
import {backend_util, DepthwiseConv2dNativeBackpropFilter, DepthwiseConv2dNativeBackpropInput} from '@tensorflow/tfjs-core';
import type {
  DepthwiseConv2dNativeBackpropFilterAttrs, DepthwiseConv2dNativeBackpropInputAttrs, NamedAttrMap, TensorInfo,
} from '@tensorflow/tfjs-core';

import {allFloat32, delegate} from '../kernel_util';
import type {BackendIO, KernelArgs, KernelBuilder} from '../kernel_util';

/**
 * The filter gradient: `dFilter[kh, kw, c, m] = sum over batch and output
 * pixels of x[b, ih, iw, c] * dy[b, oh, ow, c * multiplier + m]`, summed in
 * double precision.
 *
 * @param x Input values, `[batch, inHeight, inWidth, inChannels]`.
 * @param dy Output gradient values, `[batch, outHeight, outWidth, inChannels * multiplier]`.
 * @param info The geometry from `computeConv2DInfo(..., depthwise = true)`.
 * @param out Receives the filter gradient, `[filterHeight, filterWidth, inChannels, multiplier]`.
 */
export function depthwiseFilterGradient(
    x: Float32Array, dy: Float32Array, info: backend_util.Conv2DInfo, out: Float32Array): void {
  const {batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels} = info;
  const {filterHeight, filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth} = info;
  const multiplier = outChannels / inChannels;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  const sums = new Float64Array(filterHeight * filterWidth * outChannels);
  for (let b = 0; b < batchSize; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        const dyBase = ((b * outHeight + oh) * outWidth + ow) * outChannels;
        for (let kh = 0; kh < filterHeight; kh++) {
          const ih = oh * strideHeight - padTop + kh * dilationHeight;
          if (ih < 0 || ih >= inHeight) continue;
          for (let kw = 0; kw < filterWidth; kw++) {
            const iw = ow * strideWidth - padLeft + kw * dilationWidth;
            if (iw < 0 || iw >= inWidth) continue;
            const xBase = ((b * inHeight + ih) * inWidth + iw) * inChannels;
            const sumBase = (kh * filterWidth + kw) * outChannels;
            if (multiplier === 1) {
              for (let c = 0; c < inChannels; c++) {
                sums[sumBase + c] += x[xBase + c] * dy[dyBase + c];
              }
            } else {
              for (let c = 0; c < inChannels; c++) {
                const value = x[xBase + c];
                const o = c * multiplier;
                for (let m = 0; m < multiplier; m++) {
                  sums[sumBase + o + m] += value * dy[dyBase + o + m];
                }
              }
            }
          }
        }
      }
    }
  }
  out.set(sums);
}

/**
 * The input gradient: `dx[b, ih, iw, c] = sum over the output pixels that
 * read it and over m of dy[b, oh, ow, c * multiplier + m] * filter[kh, kw, c, m]`.
 *
 * @param dy Output gradient values, `[batch, outHeight, outWidth, inChannels * multiplier]`.
 * @param filter Filter values, `[filterHeight, filterWidth, inChannels, multiplier]`.
 * @param info The geometry from `computeConv2DInfo(..., depthwise = true)`.
 * @param dx Receives the input gradient, `[batch, inHeight, inWidth, inChannels]`; starts zeroed.
 */
export function depthwiseInputGradient(
    dy: Float32Array, filter: Float32Array, info: backend_util.Conv2DInfo, dx: Float32Array): void {
  const {batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels} = info;
  const {filterHeight, filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth} = info;
  const multiplier = outChannels / inChannels;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  for (let b = 0; b < batchSize; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        const dyBase = ((b * outHeight + oh) * outWidth + ow) * outChannels;
        for (let kh = 0; kh < filterHeight; kh++) {
          const ih = oh * strideHeight - padTop + kh * dilationHeight;
          if (ih < 0 || ih >= inHeight) continue;
          for (let kw = 0; kw < filterWidth; kw++) {
            const iw = ow * strideWidth - padLeft + kw * dilationWidth;
            if (iw < 0 || iw >= inWidth) continue;
            const dxBase = ((b * inHeight + ih) * inWidth + iw) * inChannels;
            const filterBase = (kh * filterWidth + kw) * outChannels;
            if (multiplier === 1) {
              for (let c = 0; c < inChannels; c++) {
                dx[dxBase + c] += dy[dyBase + c] * filter[filterBase + c];
              }
            } else {
              for (let c = 0; c < inChannels; c++) {
                const o = c * multiplier;
                let sum = 0;
                for (let m = 0; m < multiplier; m++) {
                  sum += dy[dyBase + o + m] * filter[filterBase + o + m];
                }
                dx[dxBase + c] += sum;
              }
            }
          }
        }
      }
    }
  }
}

/** How each depthwise gradient reads its call: its kernel name, its two inputs, its geometry and its math. */
const GRADIENTS = {
  filter: {
    kernelName: DepthwiseConv2dNativeBackpropFilter, names: ['x', 'dy'], math: depthwiseFilterGradient,
    geometry: (x: TensorInfo, _dy: TensorInfo, attrs: NamedAttrMap) => {
      const {filterShape, strides, dilations, pad, dimRoundingMode} =
        attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
      return backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides,
          dilations, pad, dimRoundingMode, true);
    },
  },
  input: {
    kernelName: DepthwiseConv2dNativeBackpropInput, names: ['dy', 'filter'], math: depthwiseInputGradient,
    geometry: (_dy: TensorInfo, filter: TensorInfo, attrs: NamedAttrMap) => {
      const {inputShape, strides, dilations, pad, dimRoundingMode} =
        attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
      return backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], strides,
          dilations, pad, dimRoundingMode, true);
    },
  },
} as const;

/** A backend's own form of a gradient, tried first: null where it does not apply. */
export type DepthwiseGradientFast =
    (backend: object, a: TensorInfo, b: TensorInfo, info: backend_util.Conv2DInfo) => TensorInfo | null;

/**
 * The kernel of the depthwise filter gradient (inputs x, dy) or input
 * gradient (inputs dy, filter) on one backend: `fast` first when given, the
 * JavaScript math above otherwise; non-float32 data goes to the kernel
 * registered before.
 */
export function depthwiseGradientKernel(
    gradient: keyof typeof GRADIENTS, io: BackendIO, fast?: DepthwiseGradientFast): KernelBuilder {
  const {kernelName, names, math, geometry} = GRADIENTS[gradient];
  return (replaced) => (args) => {
    const a = args.inputs[names[0]] as TensorInfo;
    const b = args.inputs[names[1]] as TensorInfo;
    if (!allFloat32(a, b)) return delegate(replaced, args as KernelArgs, kernelName, io.backendName, 'non-float32 data');
    const info = geometry(a, b, args.attrs ?? {});
    const result = fast?.(args.backend, a, b, info);
    if (result != null) return result;
    const outShape = gradient === 'filter' ? info.filterShape : info.inShape;
    return io.produce(args.backend, outShape, (out, read) => math(read.floats(a), read.floats(b), info, out));
  };
}
