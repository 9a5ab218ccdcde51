/**
 * BatchNormalization's gradient in one pass. tfjs-core's gradient of
 * FusedBatchNorm builds dx from a Tile of `1 / sqrt(variance + epsilon)` to
 * the full `[n, h, w, c]` shape and each of dmean, dvariance, dscale and
 * doffset from full-size products reduced by Sum: about ten full-size
 * kernels per BatchNormalization layer, and on wasm the Tile alone is 37% of
 * a MobileNetV2-style training batch. Here the five derivatives come from
 * one kernel, `'TfmotBatchNormGrad'`, which reads x and dy once: per channel
 * it sums dy and dy * (x - mean) (in double precision) and writes
 * dx = dy * rsqrt(variance + epsilon) * scale.
 *
 * The kernel is registered on cpu and wasm with the other training kernels;
 * the gradient config of FusedBatchNorm that calls it is registered with
 * tfjs-core's gradient registry (see training_gradients.ts), replacing the
 * stock one, which it keeps and calls for what it does not cover (no kernel
 * on the current backend, non-float32 data, mean or variance not of shape
 * `[channels]`, a scale of another shape).
 * Unlike the stock gradient it cannot itself be differentiated (no
 * second-order gradients through BatchNormalization).
 *
 * Porting note: TensorFlow's FusedBatchNormGrad kernel does the same, natively.
 */
import {engine, getBackend, getKernel} from '@tensorflow/tfjs-core';
import type {GradConfig, NamedAttrMap, Tensor, TensorInfo} from '@tensorflow/tfjs-core';

import {asFloat32} from './kernel_util';
import type {CpuBackendLike, KernelArgs, TrainingKernel, WasmBackendLike} from './kernel_util';

/** The kernel's name in tfjs's registry. Inputs x, dy, mean, variance and optionally scale; attr varianceEpsilon. */
export const BATCH_NORM_GRAD = 'TfmotBatchNormGrad';

const FUSED_BATCH_NORM = 'FusedBatchNorm';

// Module-level aliases: inside a vm context (Jest) every lookup of the global `Math` is intercepted.
const {fround, sqrt} = Math;

/**
 * The five derivatives of `y = (x - mean) * rsqrt(variance + epsilon) * scale + offset`,
 * x and dy `[m, c]` (channels last), mean, variance and scale `[c]`. Writes
 * into `dx` (`m * c`) and `dMean`, `dVariance`, `dScale`, `dOffset` (`c`).
 * The sums are in double precision; dx rounds as the stock gradient does
 * (`(dy * rsqrt) * scale` in float32).
 */
export function batchNormGradient(
    x: Float32Array, dy: Float32Array, mean: Float32Array, variance: Float32Array, scale: Float32Array | null,
    epsilon: number, channels: number,
    dx: Float32Array, dMean: Float32Array, dVariance: Float32Array, dScale: Float32Array, dOffset: Float32Array): void {
  const c = channels;
  const rsqrt = new Float32Array(c);
  const rsqrtScale = new Float32Array(c);
  for (let k = 0; k < c; k++) {
    rsqrt[k] = 1 / sqrt(fround(variance[k] + epsilon));
    rsqrtScale[k] = scale == null ? rsqrt[k] : rsqrt[k] * scale[k];
  }
  const sumDy = new Float64Array(c);
  const sumDyCentered = new Float64Array(c);
  // Without scale, a scale of ones: the same float32 results (a product by 1 is exact).
  const sc = scale ?? new Float32Array(c).fill(1);
  const rows = x.length / c;
  let r = 0;
  // Four rows at a time: a quarter of the accumulator updates (3-4x faster than row by row).
  for (; r + 3 < rows; r += 4) {
    const b0 = r * c;
    const b1 = b0 + c;
    const b2 = b1 + c;
    const b3 = b2 + c;
    for (let k = 0; k < c; k++) {
      const m = mean[k];
      const q = rsqrt[k];
      const t = sc[k];
      const g0 = dy[b0 + k];
      const g1 = dy[b1 + k];
      const g2 = dy[b2 + k];
      const g3 = dy[b3 + k];
      sumDy[k] += (g0 + g1) + (g2 + g3);
      sumDyCentered[k] += (g0 * (x[b0 + k] - m) + g1 * (x[b1 + k] - m)) + (g2 * (x[b2 + k] - m) + g3 * (x[b3 + k] - m));
      // Rounded to float32 between the products, as the stock mul(mul(dy, tile(rsqrt)), scale).
      dx[b0 + k] = fround(g0 * q) * t;
      dx[b1 + k] = fround(g1 * q) * t;
      dx[b2 + k] = fround(g2 * q) * t;
      dx[b3 + k] = fround(g3 * q) * t;
    }
  }
  for (; r < rows; r++) {
    const b0 = r * c;
    for (let k = 0; k < c; k++) {
      const g = dy[b0 + k];
      sumDy[k] += g;
      sumDyCentered[k] += g * (x[b0 + k] - mean[k]);
      dx[b0 + k] = fround(g * rsqrt[k]) * sc[k];
    }
  }
  for (let k = 0; k < c; k++) {
    const r = rsqrt[k];
    const s = scale == null ? 1 : scale[k];
    dOffset[k] = sumDy[k];
    dScale[k] = r * sumDyCentered[k];
    dMean[k] = -rsqrtScale[k] * sumDy[k];
    dVariance[k] = -0.5 * r * r * r * s * sumDyCentered[k];
  }
}

interface GradInputs {
  x: TensorInfo;
  dy: TensorInfo;
  mean: TensorInfo;
  variance: TensorInfo;
  scale?: TensorInfo;
}

/** The output shapes: dx like x, the four others like mean. */
function outputShapes(inputs: GradInputs): number[][] {
  return [inputs.x.shape, ...Array.from({length: 4}, () => inputs.mean.shape)];
}

type Fill = (outs: Float32Array[], floats: (info: TensorInfo) => Float32Array) => void;

function compute(inputs: GradInputs, attrs: NamedAttrMap | undefined): Fill {
  const epsilon = Number((attrs as {varianceEpsilon?: number} | undefined)?.varianceEpsilon ?? 0.001);
  const channels = inputs.mean.shape[0];
  return (outs, floats) => batchNormGradient(
      floats(inputs.x), floats(inputs.dy), floats(inputs.mean), floats(inputs.variance),
      inputs.scale == null ? null : floats(inputs.scale), epsilon, channels,
      outs[0], outs[1], outs[2], outs[3], outs[4]);
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** The kernel on the cpu backend. */
export const cpuBatchNormGradKernel: TrainingKernel = {
  kernelName: BATCH_NORM_GRAD,
  build: () => (args: KernelArgs) => {
    const cpu = args.backend as CpuBackendLike;
    const inputs = args.inputs as unknown as GradInputs;
    const shapes = outputShapes(inputs);
    const outs = shapes.map((shape) => new Float32Array(size(shape)));
    compute(inputs, args.attrs)(outs, (info) => asFloat32(cpu.data.get(info.dataId).values));
    return shapes.map((shape, i) => cpu.makeTensorInfo(shape, 'float32', outs[i]));
  },
};

/** The kernel on the wasm backend: reads and writes the wasm heap in place. */
export const wasmBatchNormGradKernel: TrainingKernel = {
  kernelName: BATCH_NORM_GRAD,
  build: () => (args: KernelArgs) => {
    const wasm = args.backend as WasmBackendLike;
    const inputs = args.inputs as unknown as GradInputs;
    const outputs = outputShapes(inputs).map((shape) => wasm.makeOutput(shape, 'float32'));
    try {
      // Views only after every allocation: an allocation may move the heap.
      const outs = outputs.map((info) => wasm.typedArrayFromHeap(info) as Float32Array);
      compute(inputs, args.attrs)(outs, (info) => asFloat32(wasm.typedArrayFromHeap(info)));
    } catch (error) {
      for (const info of outputs) wasm.disposeData(info.dataId);
      throw error;
    }
    return outputs;
  },
};

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
  return {
    kernelName: FUSED_BATCH_NORM,
    // The same saved tensors as the stock gradient, which this one hands some cases to.
    inputsToSave: replaced.inputsToSave,
    outputsToSave: replaced.outputsToSave,
    saveAllInputs: replaced.saveAllInputs,
    gradFunc: (dy, saved, attrs) => {
      const dyTensor = dy as Tensor;
      const [x, mean, variance, scale] = saved;
      if (Array.isArray(dy) || getKernel(BATCH_NORM_GRAD, getBackend()) == null ||
          !covered(x, dyTensor, mean, variance, scale)) {
        return replaced.gradFunc(dy, saved, attrs);
      }
      const inputs: Record<string, Tensor> = {x, dy: dyTensor, mean, variance};
      if (scale != null) inputs.scale = scale;
      // Computed now, not in the thunks: the engine runs each thunk in its own tidy, which
      // would dispose the other outputs. Outputs no thunk returns go with the backward pass's tidy.
      const [dx, dMean, dVariance, dScale, dOffset] = engine().runKernel(
          BATCH_NORM_GRAD, inputs, {varianceEpsilon: (attrs as {varianceEpsilon: number}).varianceEpsilon}) as Tensor[];
      return {x: () => dx, mean: () => dMean, variance: () => dVariance, scale: () => dScale, offset: () => dOffset};
    },
  };
}
