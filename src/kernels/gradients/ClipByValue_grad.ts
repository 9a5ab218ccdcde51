/**
 * The gradient of ClipByValue (ReLU6) in one kernel, {@link CLIP_GRAD}
 * (kernels/TfmotClipByValueGrad.ts), registered with tfjs-core's gradient
 * registry over the stock gradient, which it calls for what it does not cover.
 */
import {engine} from '@tensorflow/tfjs-core';
import type {GradConfig, Tensor} from '@tensorflow/tfjs-core';

import {CLIP_GRAD} from '../kernels/TfmotClipByValueGrad';
import type {ClipAttrs} from '../kernels/TfmotClipByValueGrad';
import {replacingGradient} from './gradient_util';

const sameShape = (a: Tensor, b: Tensor) => a.rank === b.rank && a.shape.every((d, i) => d === b.shape[i]);

/**
 * The gradient config of ClipByValue that runs {@link CLIP_GRAD} where the
 * current backend has it, and `replaced` (the stock gradient) otherwise.
 */
export function clipGradientConfig(replaced: GradConfig): GradConfig {
  return replacingGradient(replaced, CLIP_GRAD, (dy, saved, attrs) => {
    const [x] = saved;
    if (x == null || x.dtype !== 'float32' || dy.dtype !== 'float32' || !sameShape(x, dy)) return null;
    const {clipValueMin, clipValueMax} = attrs as unknown as ClipAttrs;
    return {x: () => engine().runKernel(CLIP_GRAD, {x, dy}, {clipValueMin, clipValueMax}) as Tensor};
  });
}
