/** Step on cpu, float32: a loop written out for the operation (impl/elementwise_impl.ts). */
import {Step} from '@tensorflow/tfjs-core';

import {STEP, unaryKernel} from '../impl/elementwise_impl';
import type {KernelDefinition} from '../kernel_util';

export const stepConfig: KernelDefinition = {kernelName: Step, cpu: unaryKernel(Step, STEP)};
