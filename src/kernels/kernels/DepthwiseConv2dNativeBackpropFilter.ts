/**
 * DepthwiseConv2dNativeBackpropFilter: stock wasm has none; stock cpu reads
 * through TensorBuffer.get. On wasm the SIMD kernel of wasm/training.wat runs
 * first; the JavaScript math (impl/depthwise_impl.ts) everywhere else.
 */
import {backend_util, DepthwiseConv2dNativeBackpropFilter} from '@tensorflow/tfjs-core';
import type {DepthwiseConv2dNativeBackpropFilterAttrs, TensorInfo} from '@tensorflow/tfjs-core';

import {depthwiseFilterGradient} from '../impl/depthwise_impl';
import {allFloat32, CPU_IO, delegate, WASM_IO} from '../kernel_util';
import type {BackendIO, KernelBuilder, KernelDefinition} from '../kernel_util';
import {simdDepthwiseFilterGradient} from '../wasm/training_simd';

type Fast = typeof simdDepthwiseFilterGradient;

function depthwiseFilterGradientKernel(io: BackendIO, fast?: Fast): KernelBuilder {
  return (replaced) => (args) => {
    const {x, dy} = args.inputs as {x: TensorInfo; dy: TensorInfo};
    const attrs = args.attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
    if (!allFloat32(x, dy)) {
      return delegate(replaced, args, DepthwiseConv2dNativeBackpropFilter, io.backendName, 'non-float32 data');
    }
    const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], attrs.filterShape,
        attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, true);
    const result = fast?.(args.backend, x, dy, info);
    if (result != null) return result;
    return io.produce(args.backend, info.filterShape,
        (out, read) => depthwiseFilterGradient(read.floats(x), read.floats(dy), info, out));
  };
}

export const depthwiseConv2dNativeBackpropFilterConfig: KernelDefinition = {
  kernelName: DepthwiseConv2dNativeBackpropFilter,
  cpu: depthwiseFilterGradientKernel(CPU_IO),
  wasm: depthwiseFilterGradientKernel(WASM_IO, simdDepthwiseFilterGradient),
};
