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
 * tfjs-core's gradient registry (gradients/FusedBatchNorm_grad.ts, listed in training_gradients.ts), replacing the
 * stock one, which it keeps and calls for what it does not cover (no kernel
 * on the current backend, non-float32 data, mean or variance not of shape
 * `[channels]`, a scale of another shape).
 * Unlike the stock gradient it cannot itself be differentiated (no
 * second-order gradients through BatchNormalization).
 *
 * Porting note: TensorFlow's FusedBatchNormGrad kernel does the same, natively.
 */
import type {NamedAttrMap, TensorInfo} from '@tensorflow/tfjs-core';

import {batchNormGradient} from '../impl/batch_norm_grad_impl';
import {asFloat32, withFastPath} from '../kernel_util';
import type {CpuBackendLike, KernelArgs, KernelBuilder, KernelDefinition, WasmBackendLike} from '../kernel_util';
import {simdBatchNormGradient} from '../wasm/training_simd_channels';
import type {BatchNormGradInputs} from '../wasm/training_simd_channels';

/** The kernel's name in tfjs's registry. Inputs x, dy, mean, variance and optionally scale; attr varianceEpsilon. */
export const BATCH_NORM_GRAD = 'TfmotBatchNormGrad';

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
const cpuKernel: KernelBuilder = () => (args: KernelArgs) => {
  const cpu = args.backend as CpuBackendLike;
  const inputs = args.inputs as unknown as GradInputs;
  const shapes = outputShapes(inputs);
  const outs = shapes.map((shape) => new Float32Array(size(shape)));
  compute(inputs, args.attrs)(outs, (info) => asFloat32(cpu.data.get(info.dataId).values));
  return shapes.map((shape, i) => cpu.makeTensorInfo(shape, 'float32', outs[i]));
};

/** The kernel on the wasm backend: reads and writes the wasm heap in place. */
const wasmKernel: KernelBuilder = () => (args: KernelArgs) => {
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
};

export const tfmotBatchNormGradConfig: KernelDefinition = {
  kernelName: BATCH_NORM_GRAD,
  cpu: cpuKernel,
  // The SIMD kernel of wasm/training/*.wat first; the JavaScript one where it cannot run.
  wasm: withFastPath(wasmKernel, ({inputs, backend, attrs}) => simdBatchNormGradient(
      backend, inputs as unknown as BatchNormGradInputs,
      Number((attrs as {varianceEpsilon?: number} | undefined)?.varianceEpsilon ?? 0.001))),
};
