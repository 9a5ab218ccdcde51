/**
 * The one registration list of {@link registerTrainingKernels}: every kernel
 * name it registers, each with its cpu and wasm functions (one file per
 * kernel name in `kernels/`, the math they share in `impl/`, the
 * WebAssembly modules in `wasm/`). Each replaces a stock kernel that is
 * missing or slow; see each kernel's file for why.
 */
import {addConfig} from './kernels/Add';
import {avgPoolGradConfig} from './kernels/AvgPoolGrad';
import {batchMatMulConfig} from './kernels/BatchMatMul';
import {castConfig} from './kernels/Cast';
import {conv2DConfig} from './kernels/Conv2D';
import {conv2DBackpropFilterConfig} from './kernels/Conv2DBackpropFilter';
import {conv2DBackpropInputConfig} from './kernels/Conv2DBackpropInput';
import {depthwiseConv2dNativeBackpropFilterConfig} from './kernels/DepthwiseConv2dNativeBackpropFilter';
import {depthwiseConv2dNativeBackpropInputConfig} from './kernels/DepthwiseConv2dNativeBackpropInput';
import {floorConfig} from './kernels/Floor';
import {fusedBatchNormConfig} from './kernels/FusedBatchNorm';
import {fusedConv2DConfig} from './kernels/FusedConv2D';
import {gatherV2Config} from './kernels/GatherV2';
import {identityConfig} from './kernels/Identity';
import {fusedMatMulConfig} from './kernels/_FusedMatMul';
import {maxPoolGradConfig} from './kernels/MaxPoolGrad';
import {meanConfig} from './kernels/Mean';
import {multiplyConfig} from './kernels/Multiply';
import {realDivConfig} from './kernels/RealDiv';
import {reluConfig} from './kernels/Relu';
import {sqrtConfig} from './kernels/Sqrt';
import {stepConfig} from './kernels/Step';
import {subConfig} from './kernels/Sub';
import {sumConfig} from './kernels/Sum';
import {tfmotBatchNormGradConfig} from './kernels/TfmotBatchNormGrad';
import {tfmotClipByValueGradConfig} from './kernels/TfmotClipByValueGrad';
import {tfmotMeanGradConfig} from './kernels/TfmotMeanGrad';
import {unsortedSegmentSumConfig} from './kernels/UnsortedSegmentSum';
import type {KernelDefinition} from './kernel_util';

export const TRAINING_KERNELS: readonly KernelDefinition[] = [
  // Convolutions: stock wasm cannot train them; stock cpu loops over one element at a time.
  conv2DConfig,
  fusedConv2DConfig,
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
  // Dense layers and RNN cells.
  batchMatMulConfig,
  fusedMatMulConfig,
  // Pooling gradients without TensorBuffer.get; the Embedding gradient in one pass.
  maxPoolGradConfig,
  avgPoolGradConfig,
  unsortedSegmentSumConfig,
  // BatchNormalization's forward pass: stock wasm takes a square root per element.
  fusedBatchNormConfig,
  // Bias gradients and BatchNormalization's means: one pass where stock transposes first.
  sumConfig,
  meanConfig,
  // The batches model.fit slices out of its data: row copies where stock computes an index per value.
  gatherV2Config,
  // The tensors every gradient keeps (tfjs-core clones them) and casts to the same dtype: shared on
  // wasm, where stock copies.
  identityConfig,
  castConfig,
  // Optimizer updates, ReLU and Dropout on cpu: one closure call per element in stock.
  addConfig,
  subConfig,
  multiplyConfig,
  realDivConfig,
  reluConfig,
  stepConfig,
  sqrtConfig,
  floorConfig,
  // The kernels of the gradients registered over tfjs-core's (training_gradients.ts).
  tfmotBatchNormGradConfig,
  tfmotClipByValueGradConfig,
  tfmotMeanGradConfig,
];
