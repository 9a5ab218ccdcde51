/**
 * ReLU6's gradient (ClipByValue's) in one kernel. tfjs-core's gradient runs
 * GreaterEqual, LessEqual, LogicalAnd, ZerosLike and Select over the full
 * tensor, five kernels and four full-size intermediates, 10-16% of a
 * MobileNetV2-style training batch on wasm. `'TfmotClipByValueGrad'` writes
 * dx = (min <= x <= max) ? dy : 0 in one pass over x and dy (bit-identical;
 * NaN in x gives 0, as in stock).
 */
import {engine, getBackend, getKernel} from '@tensorflow/tfjs-core';
import type {GradConfig, Tensor, TensorInfo} from '@tensorflow/tfjs-core';

import type {BackendIO, TrainingKernel} from './kernel_util';

/** The kernel's name in tfjs's registry. Inputs x and dy (float32, same shape); attrs clipValueMin, clipValueMax. */
export const CLIP_GRAD = 'TfmotClipByValueGrad';

interface ClipAttrs {
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

/** The kernel on a backend. */
export function clipGradKernel(io: BackendIO): TrainingKernel {
  return {
    kernelName: CLIP_GRAD,
    build: () => (args) => {
      const {x, dy} = args.inputs as {x: TensorInfo; dy: TensorInfo};
      const {clipValueMin, clipValueMax} = args.attrs as unknown as ClipAttrs;
      return io.produce(args.backend, x.shape,
          (out, read) => clipGradient(read.floats(x), read.floats(dy), clipValueMin, clipValueMax, out));
    },
  };
}

const sameShape = (a: Tensor, b: Tensor) => a.rank === b.rank && a.shape.every((d, i) => d === b.shape[i]);

/**
 * The gradient config of ClipByValue that runs {@link CLIP_GRAD} where the
 * current backend has it, and `replaced` (the stock gradient) otherwise.
 */
export function clipGradientConfig(replaced: GradConfig): GradConfig {
  return {
    kernelName: 'ClipByValue',
    inputsToSave: replaced.inputsToSave,
    outputsToSave: replaced.outputsToSave,
    saveAllInputs: replaced.saveAllInputs,
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      if (Array.isArray(dy) || getKernel(CLIP_GRAD, getBackend()) == null || x == null ||
          x.dtype !== 'float32' || dy.dtype !== 'float32' || !sameShape(x, dy)) {
        return replaced.gradFunc(dy, saved, attrs);
      }
      const {clipValueMin, clipValueMax} = attrs as unknown as ClipAttrs;
      return {x: () => engine().runKernel(CLIP_GRAD, {x, dy}, {clipValueMin, clipValueMax}) as Tensor};
    },
  };
}
