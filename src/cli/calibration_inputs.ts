/// <reference types="node" />
// (The build type-checks with no ambient types; the command line needs Node's.)
/**
 * `quantize --calibrate <n>`: seeded uniform random inputs for every input of
 * the model, in the range `--calibrate-range` gives (images scaled to [0, 1]
 * by default), on tfjs's cpu backend (the other commands need no backend).
 */
import * as tf from '@tensorflow/tfjs-core';

import {loadQuantizedGraphModel} from '../artifacts/load_graph_model';
import {detectModelFormat} from '../artifacts/model_format';
import type {CalibrationBatch} from '../artifacts/calibration/consumer';
import {loadQuantizedLayersModel} from '../quantization/load';
import {CliError} from './command';

/** Rows of a random batch when the model leaves its batch size open. */
export const CALIBRATION_BATCH = 8;

/** Values of one input's random batch at most (256 MiB of float32). */
const MAX_BATCH_VALUES = 64 * 1024 * 1024;

/** Registers and selects tfjs's cpu backend. */
async function ensureBackend(command: string): Promise<void> {
  try {
    await import('@tensorflow/tfjs-backend-cpu');
  } catch (e) {
    throw new CliError(`${command}: --calibrate runs the model and needs tfjs's cpu backend (${(e as Error).message}); ` +
        'install @tensorflow/tfjs or @tensorflow/tfjs-backend-cpu');
  }
  await tf.setBackend('cpu');
  // tfjs-backend-cpu's first tensor prints a suggestion to install tfjs-node; a command's output is not the place.
  const backend = tf.backend() as {firstUse?: boolean};
  if (backend.firstUse === true) backend.firstUse = false;
}

interface InputSpec {
  name: string;
  shape: number[];
  dtype: string;
}

async function inputsOf(artifacts: tf.io.ModelArtifacts): Promise<{specs: InputSpec[]; named: boolean}> {
  if (detectModelFormat('quantize', artifacts) === 'graph') {
    const model = await loadQuantizedGraphModel(artifacts);
    try {
      return {
        specs: model.inputs.map((i) => ({name: i.name, shape: i.shape ?? [], dtype: i.dtype ?? 'float32'})),
        named: true,
      };
    } finally {
      model.dispose();
    }
  }
  const model = await loadQuantizedLayersModel(artifacts);
  try {
    return {
      specs: model.inputs.map((i) => ({name: i.name, shape: i.shape.map((d) => d ?? -1), dtype: i.dtype})),
      named: false,
    };
  } finally {
    model.dispose();
  }
}

/**
 * `batches` batches of uniform random values in `[lo, hi)` for the model of
 * `artifacts` (seeded: the same command gives the same result). The caller
 * disposes them.
 *
 * @throws CliError naming the input when one has a dtype other than float32
 *     or an unknown size besides the batch axis.
 */
export async function randomCalibrationInputs(command: string, artifacts: tf.io.ModelArtifacts, batches: number,
    range: [number, number]): Promise<CalibrationBatch[]> {
  await ensureBackend(command);
  const {specs, named} = await inputsOf(artifacts);
  for (const spec of specs) {
    if (spec.dtype !== 'float32') {
      throw new CliError(`${command}: --calibrate makes float32 inputs, but input '${spec.name}' is ${spec.dtype}`);
    }
    if (spec.shape.length === 0 || spec.shape.slice(1).some((d) => !(d > 0))) {
      throw new CliError(`${command}: --calibrate cannot make inputs for '${spec.name}' of shape ` +
          `[${spec.shape.join(', ')}]: only the batch size may be unknown`);
    }
  }
  const shapes = specs.map((spec) => spec.shape.map((d, axis) => (axis === 0 && !(d > 0) ? CALIBRATION_BATCH : d)));
  shapes.forEach((shape, i) => {
    const size = shape.reduce((a, d) => a * d, 1);
    if (size > MAX_BATCH_VALUES) {
      throw new CliError(`${command}: --calibrate would make batches of ${size} values for input '${specs[i].name}' ` +
          `of shape [${specs[i].shape.join(', ')}] (at most ${MAX_BATCH_VALUES}); calibrate from JavaScript with ` +
          'smaller batches');
    }
  });
  const out: CalibrationBatch[] = [];
  for (let b = 0; b < batches; b++) {
    const tensors = shapes.map((shape, i) => tf.randomUniform(shape, range[0], range[1], 'float32', 1000 * (b + 1) + i));
    if (!named) out.push(tensors.length === 1 ? tensors[0] : tensors);
    else out.push(Object.fromEntries(specs.map((spec, i) => [spec.name, tensors[i]])));
  }
  return out;
}
