/**
 * Reductions over every axis but the last of a float32 tensor (`[..., c]`
 * -> `[c]`): the bias gradient of Dense and Conv layers (Sum), and the
 * per-channel means of BatchNormalization's `tf.moments` in training (Mean).
 * Stock wasm and cpu transpose the reduced axes innermost first (a full copy
 * of the activation); this is one pass in double precision. Every other
 * reduction, and non-float32 data, goes to the kernel registered before.
 */
import {util} from '@tensorflow/tfjs-core';
import type {MeanAttrs, SumAttrs, TensorInfo} from '@tensorflow/tfjs-core';

import {delegate, withFastPath} from '../kernel_util';
import type {BackendIO, KernelBuilder} from '../kernel_util';
import {simdChannelReduction} from '../wasm/training_simd_channels';

/** The double-precision sums of the rows (`channels` long) of `x`, four rows per pass. */
export function rowSums(x: Float32Array, channels: number): Float64Array {
  const sums = new Float64Array(channels);
  const rows = x.length / channels;
  let r = 0;
  for (; r + 3 < rows; r += 4) {
    const b0 = r * channels;
    const b1 = b0 + channels;
    const b2 = b1 + channels;
    const b3 = b2 + channels;
    for (let c = 0; c < channels; c++) sums[c] += (x[b0 + c] + x[b1 + c]) + (x[b2 + c] + x[b3 + c]);
  }
  for (; r < rows; r++) {
    const b0 = r * channels;
    for (let c = 0; c < channels; c++) sums[c] += x[b0 + c];
  }
  return sums;
}

/**
 * The Sum (`mean` false) or Mean (`mean` true) kernel over every axis but the
 * last; on wasm the SIMD reduction of wasm/training/*.wat runs first.
 */
export function channelReduction(kernelName: string, io: BackendIO, mean: boolean): KernelBuilder {
  const kernel: KernelBuilder = (replaced) => (args) => {
    const {x} = args.inputs as {x: TensorInfo};
    const {axis, keepDims} = args.attrs as unknown as SumAttrs | MeanAttrs;
    const rank = x.shape.length;
    const axes = [...new Set(util.parseAxisParam(axis, x.shape))].sort((a, b) => a - b);
    const leading = rank >= 2 && x.shape[rank - 1] > 0 && util.sizeFromShape(x.shape) > 0 &&
        axes.length === rank - 1 && axes.every((a, i) => a === i);
    if (x.dtype !== 'float32' || !leading) return delegate(replaced, args, kernelName, io.backendName, 'this reduction');
    const channels = x.shape[rank - 1];
    const shape = keepDims ? [...x.shape.slice(0, -1).map(() => 1), channels] : [channels];
    return io.produce(args.backend, shape, (out, read) => {
      const values = read.floats(x);
      const sums = rowSums(values, channels);
      const rows = values.length / channels;
      for (let c = 0; c < channels; c++) out[c] = mean ? sums[c] / rows : sums[c];
    });
  };
  if (io.backendName !== 'wasm') return kernel;
  return withFastPath(kernel, ({inputs, backend, attrs}) => {
    const {axis, keepDims} = attrs as unknown as SumAttrs | MeanAttrs;
    return simdChannelReduction(backend, (inputs as {x: TensorInfo}).x, axis, keepDims, mean);
  });
}
