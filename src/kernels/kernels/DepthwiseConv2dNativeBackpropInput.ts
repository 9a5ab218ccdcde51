/**
 * DepthwiseConv2dNativeBackpropInput: stock wasm has none. Honours
 * dilations, which the stock cpu kernel ignores (tfjs never asks for a
 * dilated depthwise gradient). On wasm the SIMD kernel of wasm/training.wat
 * runs first; the JavaScript math (impl/depthwise_impl.ts) everywhere else.
 */
import {backend_util, DepthwiseConv2dNativeBackpropInput} from '@tensorflow/tfjs-core';
import type {DepthwiseConv2dNativeBackpropInputAttrs, TensorInfo} from '@tensorflow/tfjs-core';

import {depthwiseInputGradient} from '../impl/depthwise_impl';
import {allFloat32, CPU_IO, delegate, WASM_IO} from '../kernel_util';
import type {BackendIO, KernelBuilder, KernelDefinition} from '../kernel_util';
import {simdDepthwiseInputGradient} from '../wasm/training_simd';

type Fast = typeof simdDepthwiseInputGradient;

function depthwiseInputGradientKernel(io: BackendIO, fast?: Fast): KernelBuilder {
  return (replaced) => (args) => {
    const {dy, filter} = args.inputs as {dy: TensorInfo; filter: TensorInfo};
    const attrs = args.attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
    if (!allFloat32(dy, filter)) {
      return delegate(replaced, args, DepthwiseConv2dNativeBackpropInput, io.backendName, 'non-float32 data');
    }
    const info = backend_util.computeConv2DInfo(attrs.inputShape, filter.shape as [number, number, number, number],
        attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, true);
    const result = fast?.(args.backend, dy, filter, info);
    if (result != null) return result;
    return io.produce(args.backend, info.inShape,
        (out, read) => depthwiseInputGradient(read.floats(dy), read.floats(filter), info, out));
  };
}

export const depthwiseConv2dNativeBackpropInputConfig: KernelDefinition = {
  kernelName: DepthwiseConv2dNativeBackpropInput,
  cpu: depthwiseInputGradientKernel(CPU_IO),
  wasm: depthwiseInputGradientKernel(WASM_IO, simdDepthwiseInputGradient),
};
