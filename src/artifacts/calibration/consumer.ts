/**
 * What calibration needs to know about each use of a kernel: how the op
 * applies it ({@link KernelOp}), how the kernel is laid out, and where its
 * activations come from in the model, so that one run of the model per
 * calibration batch can hand every op's activations to its Hessian.
 */
import type * as tf from '@tensorflow/tfjs-core';

import type {KernelOp} from './hessian';

/**
 * How the kernel's values map to the `[inputs, outputs]` matrix GPTQ rounds:
 * `'inputs-outputs'` (a `[k, n]` matrix, or a `[kh, kw, in, out]` filter),
 * `'outputs-inputs'` (`[n, k]`: a MatMul with `transpose_b`), `'depthwise'`
 * (`[kh, kw, channels, multiplier]`: one matrix per channel).
 */
export type CalibratedLayout = 'inputs-outputs' | 'outputs-inputs' | 'depthwise';

/** One op that reads a kernel. */
export interface KernelUse {
  /** The kernel's name in the weights manifest. */
  weight: string;
  op: KernelOp;
  layout: CalibratedLayout;
  /** The key of the op's activations in what {@link ActivationSource.run} returns. */
  activations: string;
}

/** Runs the model on a calibration batch and returns each key's activations. */
export interface ActivationSource {
  /** The uses of every kernel it can calibrate (kernels read by anything else are left out). */
  uses: KernelUse[];
  /**
   * The activations of `keys` (of `uses`) on one batch (a source may return more). Tensors the caller
   * passed in (a model input read directly by an op) come back as they are and
   * must not be disposed: `owned` holds the ones to dispose.
   */
  run(batch: CalibrationBatch, keys: readonly string[]): Promise<{activations: Map<string, tf.Tensor>; owned: tf.Tensor[]}>;
  dispose(): void;
}

/**
 * One calibration batch: what the model's `predict` (layers) or `execute` (graph) takes.
 *
 * @category Artifacts
 */
export type CalibrationBatch = tf.Tensor | tf.Tensor[] | tf.NamedTensorMap;
