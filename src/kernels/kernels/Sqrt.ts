/** Sqrt on cpu, float32: a loop written out for the operation (impl/elementwise_impl.ts). */
import {Sqrt} from '@tensorflow/tfjs-core';

import {SQRT, unaryKernel} from '../impl/elementwise_impl';
import type {KernelDefinition} from '../kernel_util';

export const sqrtConfig: KernelDefinition = {kernelName: Sqrt, cpu: unaryKernel(Sqrt, SQRT)};
