/**
 * The gradient of Mean over every axis but the last in one kernel,
 * {@link MEAN_GRAD} (kernels/TfmotMeanGrad.ts), registered with tfjs-core's
 * gradient registry over the stock gradient, which it calls for every other
 * reduction and where the current backend has no such kernel.
 */
import {engine, util} from '@tensorflow/tfjs-core';
import type {GradConfig, MeanAttrs, Tensor} from '@tensorflow/tfjs-core';

import {MEAN_GRAD} from '../kernels/TfmotMeanGrad';
import {replacingGradient} from './gradient_util';

/** Whether `axis` names exactly the axes of `shape` before the last one. */
function leadingAxes(axis: MeanAttrs['axis'], shape: number[]): boolean {
  const axes = [...new Set(util.parseAxisParam(axis, shape))].sort((a, b) => a - b);
  return shape.length >= 2 && axes.length === shape.length - 1 && axes.every((a, i) => a === i);
}

/**
 * The gradient config of Mean that runs {@link MEAN_GRAD} where it applies,
 * and `replaced` (the stock gradient) otherwise.
 */
export function meanGradientConfig(replaced: GradConfig): GradConfig {
  return replacingGradient(replaced, MEAN_GRAD, (dy, saved, attrs) => {
    const [x] = saved;
    if (x == null || x.dtype !== 'float32' || dy.dtype !== 'float32' ||
        !leadingAxes((attrs as unknown as MeanAttrs).axis, x.shape) || dy.size !== x.shape[x.rank - 1]) {
      return null;
    }
    const count = util.sizeFromShape(x.shape.slice(0, -1));
    return {x: () => engine().runKernel(MEAN_GRAD, {dy}, {shape: x.shape, count}) as Tensor};
  });
}
