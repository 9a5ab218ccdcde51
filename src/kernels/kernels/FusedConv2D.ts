/**
 * FusedConv2D on cpu (used by layers with a bias or activation during
 * inference, and with a linear activation during training): the convolution
 * of kernels/Conv2D.ts, then the cpu backend's own Add and activation kernels.
 */
import {FusedConv2D} from '@tensorflow/tfjs-core';
import type {FusedConv2DAttrs, TensorInfo} from '@tensorflow/tfjs-core';

import {cpuConvolve} from '../impl/cpu_conv2d_impl';
import {addBiasAndActivate, isFusableActivation} from '../impl/fused_impl';
import {delegate} from '../kernel_util';
import type {CpuBackendLike, KernelArgs, KernelBuilder, KernelDefinition} from '../kernel_util';

/**
 * The cpu FusedConv2D kernel (used by layers with a bias or activation during
 * inference, and with a linear activation during training): the convolution
 * above, then the cpu backend's own Add and activation kernels.
 */
const cpuKernel: KernelBuilder = (replaced) => (args) => {
  const {bias, preluActivationWeights} = args.inputs as Record<string, TensorInfo | undefined>;
  const attrs = args.attrs as unknown as FusedConv2DAttrs;
  const product = isFusableActivation(attrs.activation) ? cpuConvolve(args as KernelArgs) : null;
  if (product == null) return delegate(replaced, args as KernelArgs, FusedConv2D, 'cpu', 'NCHW or non-float32 data');
  return addBiasAndActivate(args.backend as CpuBackendLike, product,
      {bias, preluActivationWeights, activation: attrs.activation, leakyreluAlpha: attrs.leakyreluAlpha});
};

export const fusedConv2DConfig: KernelDefinition = {kernelName: FusedConv2D, cpu: cpuKernel};
