/**
 * DepthwiseConv2dNativeBackpropFilter: stock wasm has none; stock cpu reads
 * through TensorBuffer.get. On wasm the SIMD kernel of wasm/training/*.wat runs
 * first; the JavaScript math (impl/depthwise_impl.ts) everywhere else.
 */
import {DepthwiseConv2dNativeBackpropFilter} from '@tensorflow/tfjs-core';

import {depthwiseGradientKernel} from '../impl/depthwise_impl';
import {CPU_IO, WASM_IO} from '../kernel_util';
import type {KernelDefinition} from '../kernel_util';
import {simdDepthwiseFilterGradient} from '../wasm/training_simd';

export const depthwiseConv2dNativeBackpropFilterConfig: KernelDefinition = {
  kernelName: DepthwiseConv2dNativeBackpropFilter,
  cpu: depthwiseGradientKernel('filter', CPU_IO),
  wasm: depthwiseGradientKernel('filter', WASM_IO, simdDepthwiseFilterGradient),
};
