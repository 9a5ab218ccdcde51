/**
 * The training kernels registered on the wasm backend: the gradient kernels
 * that stock tfjs-backend-wasm 4.22 lacks, and faster versions of the ones
 * that dominate a training step.
 */
import {wasmBatchNormGradKernel} from './batch_norm_grad';
import {clipGradKernel} from './clip_grad';
import {channelMeanKernel} from './mean_kernel';
import {WASM_IO} from './kernel_util';
import type {TrainingKernel} from './kernel_util';
import {
  avgPoolGradKernel, biasGradientSumKernel, depthwiseFilterGradientKernel, depthwiseInputGradientKernel, maxPoolGradKernel,
  unsortedSegmentSumKernel,
} from './typed_kernels';
import {wasmConv2DBackpropFilter, wasmConv2DBackpropInput} from './wasm_conv2d';
import {wasmBatchMatMul} from './wasm_matmul';

export const WASM_TRAINING_KERNELS: readonly TrainingKernel[] = [
  // Missing from stock wasm: Conv2D, DepthwiseConv2D and Embedding layers cannot train.
  wasmConv2DBackpropFilter,
  depthwiseFilterGradientKernel(WASM_IO),
  depthwiseInputGradientKernel(WASM_IO),
  unsortedSegmentSumKernel(WASM_IO),
  // Stock ones are scalar loops: 4-10x slower than these.
  wasmConv2DBackpropInput,
  wasmBatchMatMul,
  maxPoolGradKernel(WASM_IO),
  avgPoolGradKernel(WASM_IO),
  biasGradientSumKernel(WASM_IO),
  // BatchNormalization's gradient in one pass: the stock one's Tile is 37% of a MobileNetV2-style batch.
  wasmBatchNormGradKernel,
  // ReLU6's gradient in one pass (stock: GreaterEqual, LessEqual, LogicalAnd, ZerosLike, Select).
  clipGradKernel(WASM_IO),
  // BatchNormalization's per-channel means in training (tf.moments): one pass, where stock transposes first.
  channelMeanKernel(WASM_IO),
];
