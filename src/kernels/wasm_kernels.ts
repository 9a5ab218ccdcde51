/**
 * The training kernels registered on the wasm backend: the gradient kernels
 * that stock tfjs-backend-wasm 4.22 lacks, and faster versions of the ones
 * that dominate a training step.
 */
import type {MeanAttrs, SumAttrs, TensorInfo} from '@tensorflow/tfjs-core';

import {wasmBatchNormGradKernel} from './batch_norm_grad';
import {clipGradKernel} from './clip_grad';
import {channelMeanKernel} from './mean_kernel';
import {
  simdBatchNormGradient, simdChannelReduction, simdClipGradient, simdDepthwiseFilterGradient, simdDepthwiseInputGradient,
} from './simd/training_simd';
import type {BatchNormGradInputs} from './simd/training_simd';
import {WASM_IO} from './kernel_util';
import type {KernelArgs, TrainingKernel} from './kernel_util';
import {
  avgPoolGradKernel, biasGradientSumKernel, depthwiseFilterGradientKernel, depthwiseInputGradientKernel, maxPoolGradKernel,
  unsortedSegmentSumKernel,
} from './typed_kernels';
import {wasmConv2DBackpropFilter, wasmConv2DBackpropInput} from './wasm_conv2d';
import {wasmBatchMatMul} from './wasm_matmul';

/**
 * `kernel`, with `fast` tried first: `fast` returns null where it does not
 * apply (no SIMD, for one), and `kernel` runs instead.
 */
function withFastPath(kernel: TrainingKernel, fast: (args: KernelArgs) => TensorInfo | TensorInfo[] | null): TrainingKernel {
  return {
    kernelName: kernel.kernelName,
    build: (replaced) => {
      const fallback = kernel.build(replaced);
      return (args) => fast(args as KernelArgs) ?? fallback(args);
    },
  };
}

export const WASM_TRAINING_KERNELS: readonly TrainingKernel[] = [
  // Missing from stock wasm: Conv2D, DepthwiseConv2D and Embedding layers cannot train.
  wasmConv2DBackpropFilter,
  // Both SIMD (simd/training.wat), or JavaScript where SIMD cannot run.
  depthwiseFilterGradientKernel(WASM_IO, simdDepthwiseFilterGradient),
  depthwiseInputGradientKernel(WASM_IO, simdDepthwiseInputGradient),
  unsortedSegmentSumKernel(WASM_IO),
  // Stock ones are scalar loops: 4-10x slower than these.
  wasmConv2DBackpropInput,
  wasmBatchMatMul,
  maxPoolGradKernel(WASM_IO),
  avgPoolGradKernel(WASM_IO),
  withFastPath(biasGradientSumKernel(WASM_IO), ({inputs, backend, attrs}) => {
    const {axis, keepDims} = attrs as unknown as SumAttrs;
    return simdChannelReduction(backend, (inputs as {x: TensorInfo}).x, axis, keepDims, false);
  }),
  // BatchNormalization's gradient in one pass: the stock one's Tile is 37% of a MobileNetV2-style batch.
  withFastPath(wasmBatchNormGradKernel, ({inputs, backend, attrs}) => simdBatchNormGradient(
      backend, inputs as unknown as BatchNormGradInputs,
      Number((attrs as {varianceEpsilon?: number} | undefined)?.varianceEpsilon ?? 0.001))),
  // ReLU6's gradient in one pass (stock: GreaterEqual, LessEqual, LogicalAnd, ZerosLike, Select), in SIMD.
  withFastPath(clipGradKernel(WASM_IO), ({inputs, backend, attrs}) => {
    const {x, dy} = inputs as {x: TensorInfo; dy: TensorInfo};
    const {clipValueMin, clipValueMax} = attrs as unknown as {clipValueMin: number; clipValueMax: number};
    return simdClipGradient(backend, x, dy, clipValueMin, clipValueMax);
  }),
  // BatchNormalization's per-channel means in training (tf.moments): one pass, where stock transposes first.
  withFastPath(channelMeanKernel(WASM_IO), ({inputs, backend, attrs}) => {
    const {axis, keepDims} = attrs as unknown as MeanAttrs;
    return simdChannelReduction(backend, (inputs as {x: TensorInfo}).x, axis, keepDims, true);
  }),
];
