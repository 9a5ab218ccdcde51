/**
 * The gradient of FusedBatchNorm (BatchNormalization) in one kernel,
 * {@link BATCH_NORM_GRAD} (kernels/TfmotBatchNormGrad.ts), registered with
 * tfjs-core's gradient registry over the stock gradient, which it keeps and
 * calls for what it does not cover (no kernel on the current backend,
 * non-float32 data, mean or variance not of shape `[channels]`, a scale of
 * another shape).
 */
import {engine} from '@tensorflow/tfjs-core';
import type {GradConfig, Tensor} from '@tensorflow/tfjs-core';

import {BATCH_NORM_GRAD} from '../kernels/TfmotBatchNormGrad';
import {replacingGradient} from './gradient_util';

/** Whether the one-pass kernel covers this FusedBatchNorm (as tfjs-core runs it: x always 4-D). */
function covered(x: Tensor, dy: Tensor, mean: Tensor, variance: Tensor, scale: Tensor | undefined): boolean {
  const channels = x.shape[x.rank - 1];
  const perChannel = (t: Tensor) => t.rank === 1 && t.shape[0] === channels && t.dtype === 'float32';
  return x.rank >= 1 && x.dtype === 'float32' && dy.dtype === 'float32' && channels > 0 &&
      perChannel(mean) && perChannel(variance) && (scale == null || perChannel(scale));
}

/**
 * The gradient config of FusedBatchNorm that runs {@link BATCH_NORM_GRAD}
 * where the current backend has it, and `replaced` (the stock gradient) otherwise.
 */
export function batchNormGradientConfig(replaced: GradConfig): GradConfig {
  return replacingGradient(replaced, BATCH_NORM_GRAD, (dy, saved, attrs) => {
    const [x, mean, variance, scale] = saved;
    if (!covered(x, dy, mean, variance, scale)) return null;
    const inputs: Record<string, Tensor> = {x, dy, mean, variance};
    if (scale != null) inputs.scale = scale;
    // Computed now, not in the thunks: the engine runs each thunk in its own tidy, which
    // would dispose the other outputs. Outputs no thunk returns go with the backward pass's tidy.
    const [dx, dMean, dVariance, dScale, dOffset] = engine().runKernel(
        BATCH_NORM_GRAD, inputs, {varianceEpsilon: (attrs as {varianceEpsilon: number}).varianceEpsilon}) as Tensor[];
    return {x: () => dx, mean: () => dMean, variance: () => dVariance, scale: () => dScale, offset: () => dOffset};
  });
}
