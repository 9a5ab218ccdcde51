/** Sub on cpu, float32: a loop written out for the operation (impl/elementwise_impl.ts). */
import {Sub} from '@tensorflow/tfjs-core';

import {binaryKernel, SUB} from '../impl/elementwise_impl';
import type {KernelDefinition} from '../kernel_util';

export const subConfig: KernelDefinition = {kernelName: Sub, cpu: binaryKernel(SUB)};
