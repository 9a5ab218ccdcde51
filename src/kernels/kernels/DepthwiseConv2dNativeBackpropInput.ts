/**
 * DepthwiseConv2dNativeBackpropInput: stock wasm has none. Honours
 * dilations, which the stock cpu kernel ignores (tfjs never asks for a
 * dilated depthwise gradient). On wasm the SIMD kernel of wasm/training/*.wat
 * runs first; the JavaScript math (impl/depthwise_impl.ts) everywhere else.
 */
import {DepthwiseConv2dNativeBackpropInput} from '@tensorflow/tfjs-core';

import {depthwiseGradientKernel} from '../impl/depthwise_impl';
import {CPU_IO, WASM_IO} from '../kernel_util';
import type {KernelDefinition} from '../kernel_util';
import {simdDepthwiseInputGradient} from '../wasm/training_simd';

export const depthwiseConv2dNativeBackpropInputConfig: KernelDefinition = {
  kernelName: DepthwiseConv2dNativeBackpropInput,
  cpu: depthwiseGradientKernel('input', CPU_IO),
  wasm: depthwiseGradientKernel('input', WASM_IO, simdDepthwiseInputGradient),
};
