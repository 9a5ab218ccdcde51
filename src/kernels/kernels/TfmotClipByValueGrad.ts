/**
 * ReLU6's gradient (ClipByValue's) in one kernel. tfjs-core's gradient runs
 * GreaterEqual, LessEqual, LogicalAnd, ZerosLike and Select over the full
 * tensor, five kernels and four full-size intermediates, 10-16% of a
 * MobileNetV2-style training batch on wasm. `'TfmotClipByValueGrad'` writes
 * dx = (min <= x <= max) ? dy : 0 in one pass over x and dy (bit-identical;
 * NaN in x gives 0, as in stock). Its gradient config is gradients/ClipByValue_grad.ts.
 */
import type {TensorInfo} from '@tensorflow/tfjs-core';

import {onCpuAndWasm, withFastPath} from '../kernel_util';
import type {KernelBuilder, KernelDefinition} from '../kernel_util';
import {simdClipGradient} from '../wasm/training_simd_channels';

/** The kernel's name in tfjs's registry. Inputs x and dy (float32, same shape); attrs clipValueMin, clipValueMax. */
export const CLIP_GRAD = 'TfmotClipByValueGrad';

export interface ClipAttrs {
  clipValueMin: number;
  clipValueMax: number;
}

/**
 * dx = dy where `low <= x <= high`, else 0. The bounds are compared as
 * float32, as the stock gradient's scalar tensors hold them (x = fround(0.2) passes a bound of 0.2).
 */
export function clipGradient(x: Float32Array, dy: Float32Array, lowBound: number, highBound: number, out: Float32Array): void {
  const low = Math.fround(lowBound);
  const high = Math.fround(highBound);
  for (let i = 0; i < out.length; i++) {
    const v = x[i];
    out[i] = v >= low && v <= high ? dy[i] : 0;
  }
}

export const tfmotClipByValueGradConfig: KernelDefinition = onCpuAndWasm(CLIP_GRAD, (io) => {
  const kernel: KernelBuilder = () => (args) => {
    const {x, dy} = args.inputs as {x: TensorInfo; dy: TensorInfo};
    const {clipValueMin, clipValueMax} = args.attrs as unknown as ClipAttrs;
    return io.produce(args.backend, x.shape,
        (out, read) => clipGradient(read.floats(x), read.floats(dy), clipValueMin, clipValueMax, out));
  };
  if (io.backendName !== 'wasm') return kernel;
  // The SIMD kernel of wasm/training/*.wat first.
  return withFastPath(kernel, ({inputs, backend, attrs}) => {
    const {x, dy} = inputs as {x: TensorInfo; dy: TensorInfo};
    const {clipValueMin, clipValueMax} = attrs as unknown as ClipAttrs;
    return simdClipGradient(backend, x, dy, clipValueMin, clipValueMax);
  });
});
