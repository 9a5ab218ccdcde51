/** Floor on cpu, float32: a loop written out for the operation (impl/elementwise_impl.ts). */
import {Floor} from '@tensorflow/tfjs-core';

import {FLOOR, unaryKernel} from '../impl/elementwise_impl';
import type {KernelDefinition} from '../kernel_util';

export const floorConfig: KernelDefinition = {kernelName: Floor, cpu: unaryKernel(Floor, FLOOR)};
