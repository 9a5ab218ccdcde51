/** Multiply on cpu, float32: a loop written out for the operation (impl/elementwise_impl.ts). */
import {Multiply} from '@tensorflow/tfjs-core';

import {binaryKernel, MULTIPLY} from '../impl/elementwise_impl';
import type {KernelDefinition} from '../kernel_util';

export const multiplyConfig: KernelDefinition = {kernelName: Multiply, cpu: binaryKernel(MULTIPLY)};
