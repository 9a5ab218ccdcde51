/** Conv2D on cpu: chunked patch-matrix products (impl/cpu_conv2d_impl.ts); NCHW data goes to the stock kernel. */
import {Conv2D} from '@tensorflow/tfjs-core';

import {cpuConvolve} from '../impl/cpu_conv2d_impl';
import {delegate} from '../kernel_util';
import type {KernelArgs, KernelDefinition} from '../kernel_util';

export const conv2DConfig: KernelDefinition = {
  kernelName: Conv2D,
  cpu: (replaced) => (args) => cpuConvolve(args as KernelArgs) ??
    delegate(replaced, args as KernelArgs, Conv2D, 'cpu', 'NCHW or non-float32 data'),
};
