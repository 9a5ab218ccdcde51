/**
 * Gradient configs that registerTrainingKernels puts in tfjs-core's gradient
 * registry (one registry for every backend; one file per gradient in `gradients/`): each replaces the stock
 * gradient of a kernel, runs one of the training kernels where the current
 * backend has it and hands everything else to the stock gradient, which it
 * keeps and which {@link uninstallTrainingGradients} registers back as the
 * same object. Unlike the stock gradients they cannot themselves be
 * differentiated (no second-order gradients through these kernels).
 */
import {getGradient, registerGradient} from '@tensorflow/tfjs-core';
import type {GradConfig} from '@tensorflow/tfjs-core';

import {clipGradientConfig} from './gradients/ClipByValue_grad';
import {batchNormGradientConfig} from './gradients/FusedBatchNorm_grad';
import {meanGradientConfig} from './gradients/Mean_grad';
import {BATCH_NORM_GRAD} from './kernels/TfmotBatchNormGrad';
import {CLIP_GRAD} from './kernels/TfmotClipByValueGrad';
import {MEAN_GRAD} from './kernels/TfmotMeanGrad';

interface TrainingGradient {
  /** The forward kernel whose gradient is replaced. */
  kernelName: string;
  /** The training kernel the gradient runs (on cpu and wasm). */
  gradientKernel: string;
  make(replaced: GradConfig): GradConfig;
}

export const TRAINING_GRADIENTS: readonly TrainingGradient[] = [
  {kernelName: 'FusedBatchNorm', gradientKernel: BATCH_NORM_GRAD, make: batchNormGradientConfig},
  {kernelName: 'ClipByValue', gradientKernel: CLIP_GRAD, make: clipGradientConfig},
  {kernelName: 'Mean', gradientKernel: MEAN_GRAD, make: meanGradientConfig},
];

/** Marks our gradient configs and keeps the ones they replaced (`Symbol.for`: shared by copies of this package). */
const INSTALLED = Symbol.for('tfjs-model-optimization.trainingGradient');

type InstalledGradConfig = GradConfig & {[INSTALLED]: {replaced: GradConfig}};

function isInstalled(config: GradConfig | undefined): config is InstalledGradConfig {
  return config != null && INSTALLED in config;
}

/**
 * Registers each gradient over the current one, unless it is already ours.
 * Skips a kernel with no gradient registered (tfjs-core's Node bundle
 * registers none; importing tfjs-layers does).
 */
export function installTrainingGradients(): void {
  for (const gradient of TRAINING_GRADIENTS) {
    const current = getGradient(gradient.kernelName);
    if (current == null || isInstalled(current)) continue;
    registerGradient({...gradient.make(current), [INSTALLED]: {replaced: current}} as InstalledGradConfig);
  }
}

/**
 * Registers back, as the same objects, the gradients ours replaced, for each
 * whose gradient kernel `stillRegistered` says no backend has any more. A
 * gradient registered over ours since is left alone.
 */
export function uninstallTrainingGradients(stillRegistered: (gradientKernel: string) => boolean): void {
  for (const gradient of TRAINING_GRADIENTS) {
    const current = getGradient(gradient.kernelName);
    if (!isInstalled(current) || stillRegistered(gradient.gradientKernel)) continue;
    registerGradient(current[INSTALLED].replaced);
  }
}

/**
 * The gradient config ours replaced for `kernelName` (the stock one), or
 * undefined when ours is not the one registered. For benchmarks that time
 * both.
 */
export function replacedGradient(kernelName: string): GradConfig | undefined {
  const current = getGradient(kernelName);
  return isInstalled(current) ? current[INSTALLED].replaced : undefined;
}
