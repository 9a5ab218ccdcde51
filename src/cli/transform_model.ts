/**
 * What `quantize` and `prune` share: check the output folder, read the model,
 * transform its artifacts with a progress bar, write the result atomically.
 */
import type * as tf from '@tensorflow/tfjs-core';

import {CliError, type CliIO, oneLine} from './command';
import {startProgress} from './progress';
import {readModel} from './read_model';
import {checkOutput, writeModel} from './write_model';

/** The input and output of one transformation. */
export interface Transformed {
  /** The model file read. */
  file: string;
  artifacts: tf.io.ModelArtifacts;
  result: tf.io.ModelArtifacts;
  /** The model file written. */
  written: string;
}

/**
 * Reads `input`, runs `transform` on its artifacts (its progress drawn as `label`), and writes the result
 * into `outDir` (refused when it holds a model, unless `force`). A failure of `transform` becomes one line
 * naming the file, without the API function's name (`apiName`).
 */
export async function transformModel(
    io: CliIO, input: string, outDir: string, force: boolean, label: string, apiName: string,
    transform: (artifacts: tf.io.ModelArtifacts, onProgress: (done: number, total: number) => void) =>
      Promise<tf.io.ModelArtifacts>): Promise<Transformed> {
  await checkOutput(outDir, force);
  const {file, artifacts} = await readModel(input);
  const bar = startProgress(io, label);
  let result;
  try {
    result = await transform(artifacts, (done, total) => bar.update(done, total));
  } catch (e) {
    throw new CliError(`${file}: ${oneLine(e).replace(new RegExp(`^${apiName}: `), '')}`);
  } finally {
    bar.stop();
  }
  return {file, artifacts, result, written: await writeModel(outDir, result)};
}
