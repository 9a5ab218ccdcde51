/**
 * The training kernels registered on the cpu backend, each replacing a stock
 * kernel that is correct but slow (see each kernel's file for the reason).
 */
import {cpuBatchNormGradKernel} from './batch_norm_grad';
import {clipGradKernel} from './clip_grad';
import {channelMeanKernel} from './mean_kernel';
import {cpuConv2D, cpuConv2DBackpropFilter, cpuConv2DBackpropInput, cpuFusedConv2D} from './cpu_conv2d';
import {cpuBinaryKernels, cpuUnaryKernels} from './cpu_elementwise';
import {cpuBatchMatMul, cpuFusedMatMul} from './cpu_matmul';
import {CPU_IO} from './kernel_util';
import type {TrainingKernel} from './kernel_util';
import {
  avgPoolGradKernel, biasGradientSumKernel, depthwiseFilterGradientKernel, depthwiseInputGradientKernel,
  maxPoolGradKernel, unsortedSegmentSumKernel,
} from './typed_kernels';

export const CPU_TRAINING_KERNELS: readonly TrainingKernel[] = [
  // Convolutions as matrix products on patches: ~5 GFLOP/s against 0.01-0.6.
  cpuConv2D,
  cpuFusedConv2D,
  cpuConv2DBackpropFilter,
  cpuConv2DBackpropInput,
  depthwiseFilterGradientKernel(CPU_IO),
  depthwiseInputGradientKernel(CPU_IO),
  // Dense layers, and RNN cells.
  cpuBatchMatMul,
  cpuFusedMatMul,
  // Pooling gradients without TensorBuffer.get; Embedding gradient in one pass.
  maxPoolGradKernel(CPU_IO),
  avgPoolGradKernel(CPU_IO),
  unsortedSegmentSumKernel(CPU_IO),
  // Bias gradients, optimizer updates, ReLU and Dropout: one closure call per element in stock.
  biasGradientSumKernel(CPU_IO),
  ...cpuBinaryKernels,
  ...cpuUnaryKernels,
  // BatchNormalization's gradient in one pass (stock: a Tile and full-size products reduced by Sum).
  cpuBatchNormGradKernel,
  // ReLU6's gradient in one pass (stock: GreaterEqual, LessEqual, LogicalAnd, ZerosLike, Select).
  clipGradKernel(CPU_IO),
  // BatchNormalization's per-channel means in training (tf.moments): one pass, where stock transposes first.
  channelMeanKernel(CPU_IO),
];
