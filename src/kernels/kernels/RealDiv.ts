/** RealDiv on cpu, float32: a loop written out for the operation (impl/elementwise_impl.ts). */
import {RealDiv} from '@tensorflow/tfjs-core';

import {binaryKernel, REAL_DIV} from '../impl/elementwise_impl';
import type {KernelDefinition} from '../kernel_util';

export const realDivConfig: KernelDefinition = {kernelName: RealDiv, cpu: binaryKernel(REAL_DIV)};
