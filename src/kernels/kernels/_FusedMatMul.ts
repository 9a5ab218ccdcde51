/** _FusedMatMul on cpu: the product of impl/matmul_impl.ts, then the bias and activation. */
import {_FusedMatMul} from '@tensorflow/tfjs-core';
import type {_FusedMatMulAttrs, TensorInfo} from '@tensorflow/tfjs-core';

import {addBiasAndActivate, isFusableActivation} from '../impl/fused_impl';
import {cpuMatMul} from '../impl/matmul_impl';
import {delegate} from '../kernel_util';
import type {CpuBackendLike, KernelArgs, KernelDefinition} from '../kernel_util';

export const fusedMatMulConfig: KernelDefinition = {
  kernelName: _FusedMatMul,
  cpu: (replaced) => (args) => {
    const {bias, preluActivationWeights} = args.inputs as Record<string, TensorInfo | undefined>;
    const attrs = args.attrs as unknown as _FusedMatMulAttrs;
    const product = isFusableActivation(attrs.activation) ?
      cpuMatMul(args as KernelArgs, attrs.transposeA, attrs.transposeB) : null;
    if (product == null) return delegate(replaced, args as KernelArgs, _FusedMatMul, 'cpu', 'this product');
    return addBiasAndActivate(args.backend as CpuBackendLike, product,
        {bias, preluActivationWeights, activation: attrs.activation, leakyreluAlpha: attrs.leakyreluAlpha});
  },
};
