/**
 * The bias and activation steps of the cpu's fused kernels (FusedConv2D,
 * _FusedMatMul), run through the cpu backend's own Add and activation
 * kernels, in the stock kernels' order.
 */
import type {FusedConv2DAttrs, NamedAttrMap, TensorInfo} from '@tensorflow/tfjs-core';

import {runKernel} from '../kernel_util';
import type {CpuBackendLike} from '../kernel_util';

/** A fused activation's name (tfjs-core does not export the type itself). */
type Activation = FusedConv2DAttrs['activation'];

/** The kernel applying each fused activation. */
const ACTIVATION_KERNELS: Readonly<Record<Exclude<Activation, 'linear'>, string>> = {
  relu: 'Relu',
  relu6: 'Relu6',
  elu: 'Elu',
  sigmoid: 'Sigmoid',
  leakyrelu: 'LeakyRelu',
  prelu: 'Prelu',
};

/** Whether {@link addBiasAndActivate} supports an activation name. */
export function isFusableActivation(activation: string | undefined): boolean {
  return activation == null || activation === 'linear' || activation in ACTIVATION_KERNELS;
}

/** The fused inputs and attributes that follow the product. */
export interface FusedEpilogue {
  bias?: TensorInfo;
  preluActivationWeights?: TensorInfo;
  activation?: Activation;
  leakyreluAlpha?: number;
}

/**
 * Adds the bias and applies the activation to `product`, disposing each
 * intermediate result, and returns the final one (`product` itself when there
 * is neither).
 */
export function addBiasAndActivate(backend: CpuBackendLike, product: TensorInfo, epilogue: FusedEpilogue): TensorInfo {
  let result = product;
  if (epilogue.bias != null) {
    const sum = runKernel('Add', 'cpu', {inputs: {a: result, b: epilogue.bias}, backend});
    backend.disposeIntermediateTensorInfo(result);
    result = sum;
  }
  const activation = epilogue.activation ?? 'linear';
  if (activation !== 'linear') {
    const inputs = activation === 'prelu' ? {x: result, alpha: epilogue.preluActivationWeights} : {x: result};
    const attrs: NamedAttrMap = activation === 'leakyrelu' ? {alpha: epilogue.leakyreluAlpha as number} : {};
    const activated = runKernel(ACTIVATION_KERNELS[activation], 'cpu', {inputs, backend, attrs});
    backend.disposeIntermediateTensorInfo(result);
    result = activated;
  }
  return result;
}
