/**
 * What the gradient configs of gradients/ share: each replaces a stock
 * gradient, runs one of the training kernels where it applies and hands every
 * other case to the stock gradient, with the same saved tensors.
 */
import {getBackend, getKernel} from '@tensorflow/tfjs-core';
import type {GradConfig, GradFunc, NamedAttrMap, Tensor} from '@tensorflow/tfjs-core';

/** What a gradient function returns: a thunk per input. */
type Gradients = ReturnType<GradFunc>;

/**
 * A gradient config over `replaced` (same kernel, same saved tensors): `own`
 * runs where the current backend has `gradientKernel` and dy is one tensor,
 * and returns null for what it does not cover, which `replaced` then computes.
 */
export function replacingGradient(
    replaced: GradConfig, gradientKernel: string,
    own: (dy: Tensor, saved: Tensor[], attrs: NamedAttrMap) => Gradients | null): GradConfig {
  return {
    kernelName: replaced.kernelName,
    inputsToSave: replaced.inputsToSave,
    outputsToSave: replaced.outputsToSave,
    saveAllInputs: replaced.saveAllInputs,
    gradFunc: (dy, saved, attrs) => {
      const ours = Array.isArray(dy) || getKernel(gradientKernel, getBackend()) == null ? null :
        own(dy, saved, attrs);
      return ours ?? replaced.gradFunc(dy, saved, attrs);
    },
  };
}
