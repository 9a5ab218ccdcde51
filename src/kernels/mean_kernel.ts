/**
 * Mean over every axis but the last: the per-channel means of BatchNormalization's
 * `tf.moments` in training (two per layer, over the whole `[n, h, w, c]` activation).
 * Stock wasm and cpu transpose the reduced axes innermost first (a full copy of the
 * activation); this is one pass in double precision. Every other reduction, and
 * non-float32 data, goes to the stock kernel.
 */
import {Mean, util} from '@tensorflow/tfjs-core';
import type {MeanAttrs, TensorInfo} from '@tensorflow/tfjs-core';

import {delegate} from './kernel_util';
import {rowSums} from './typed_kernels';
import type {BackendIO, TrainingKernel} from './kernel_util';

/** `out[c]` = the mean of `x[r * channels + c]` over the rows `r`. */
export function meanRows(x: Float32Array, channels: number, out: Float32Array): void {
  const sums = rowSums(x, channels);
  const rows = x.length / channels;
  for (let c = 0; c < channels; c++) out[c] = sums[c] / rows;
}

/** Mean over every axis but the last (tf.moments in BatchNormalization's training). */
export function channelMeanKernel(io: BackendIO): TrainingKernel {
  return {
    kernelName: Mean,
    build: (replaced) => (args) => {
      const {x} = args.inputs as {x: TensorInfo};
      const {axis, keepDims} = args.attrs as unknown as MeanAttrs;
      const rank = x.shape.length;
      const axes = [...new Set(util.parseAxisParam(axis, x.shape))].sort((a, b) => a - b);
      const leading = rank >= 2 && x.shape[rank - 1] > 0 && util.sizeFromShape(x.shape) > 0 &&
          axes.length === rank - 1 && axes.every((a, i) => a === i);
      if (x.dtype !== 'float32' || !leading) return delegate(replaced, args, Mean, io.backendName, 'this reduction');
      const channels = x.shape[rank - 1];
      const shape = keepDims ? [...x.shape.slice(0, -1).map(() => 1), channels] : [channels];
      return io.produce(args.backend, shape, (out, read) => meanRows(read.floats(x), channels, out));
    },
  };
}
