/** Relu on cpu, float32: a loop written out for the operation (impl/elementwise_impl.ts). */
import {Relu} from '@tensorflow/tfjs-core';

import {RELU, unaryKernel} from '../impl/elementwise_impl';
import type {KernelDefinition} from '../kernel_util';

export const reluConfig: KernelDefinition = {kernelName: Relu, cpu: unaryKernel(Relu, RELU)};
