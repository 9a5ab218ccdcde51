/**
 * The `calibration` option of quantizeArtifacts: checked before anything
 * runs, every message naming the option, the batch and what it received.
 */
import type * as tf from '@tensorflow/tfjs-core';

import {argumentMessage, checkKnownKeys, checkOptionsObject} from '../../util/validation';
import type {CalibrationBatch} from './consumer';

/**
 * Calibrated rounding for int8 (see {@link QuantizeArtifactsOptions.calibration}).
 *
 * @category Artifacts
 */
export interface CalibrationOptions {
  /**
   * Batches of typical inputs, each what the model's `predict` (layers) or `execute` (graph)
   * takes: a tensor, an array of tensors, or a map from input name to tensor. A few hundred
   * samples in all is plenty; the tensors are read, never disposed or changed.
   */
  inputs: ReadonlyArray<CalibrationBatch>;
}

/** Whether `value` is a tensor (by shape, not class: a tensor from another copy of tfjs-core counts too). */
export function isTensor(value: unknown): value is tf.Tensor {
  return value != null && typeof value === 'object' && typeof (value as tf.Tensor).dataSync === 'function' &&
      Array.isArray((value as tf.Tensor).shape);
}

function checkTensor(caller: string, arg: string, value: unknown): void {
  if (!isTensor(value)) throw new TypeError(argumentMessage(caller, arg, 'must be a tensor', value));
  if (value.isDisposed) throw new Error(`${caller}: '${arg}' is a disposed tensor.`);
}

/**
 * The calibration batches, or undefined when the option is absent.
 *
 * @throws TypeError for a malformed option; RangeError when `dtype` is not int8 or there is no batch;
 *     Error for a disposed tensor.
 */
export function resolveCalibration(caller: string, value: unknown, dtype: string): CalibrationBatch[] | undefined {
  if (value === undefined) return undefined;
  checkOptionsObject(caller, 'calibration', value, false);
  checkKnownKeys(caller, 'calibration key', value as object, ['inputs']);
  if (dtype !== 'int8') {
    throw new RangeError(`${caller}: 'calibration' chooses how int8 codes round; it needs dtype 'int8', but got ` +
        `${JSON.stringify(dtype)}.`);
  }
  const inputs = (value as {inputs?: unknown}).inputs;
  if (!Array.isArray(inputs)) {
    throw new TypeError(argumentMessage(caller, 'calibration.inputs', 'must be an array of batches', inputs));
  }
  if (inputs.length === 0) throw new RangeError(`${caller}: 'calibration.inputs' must hold at least one batch, but got none.`);
  inputs.forEach((batch: unknown, b) => {
    const arg = `calibration.inputs[${b}]`;
    if (Array.isArray(batch)) {
      if (batch.length === 0) throw new RangeError(`${caller}: '${arg}' must hold at least one tensor, but got none.`);
      batch.forEach((t, i) => checkTensor(caller, `${arg}[${i}]`, t));
    } else if (isTensor(batch)) {
      checkTensor(caller, arg, batch);
    } else if (batch !== null && typeof batch === 'object') {
      const entries = Object.entries(batch);
      if (entries.length === 0) throw new RangeError(`${caller}: '${arg}' must name at least one input, but got none.`);
      for (const [name, t] of entries) checkTensor(caller, `${arg}.${name}`, t);
    } else {
      throw new TypeError(argumentMessage(caller, arg,
          'must be a tensor, an array of tensors or a map from input name to tensor', batch));
    }
  });
  return [...inputs] as CalibrationBatch[];
}
