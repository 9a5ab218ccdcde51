/** Add on cpu, float32: a loop written out for the operation (impl/elementwise_impl.ts). */
import {Add} from '@tensorflow/tfjs-core';

import {binaryKernel, ADD} from '../impl/elementwise_impl';
import type {KernelDefinition} from '../kernel_util';

export const addConfig: KernelDefinition = {kernelName: Add, cpu: binaryKernel(ADD)};
