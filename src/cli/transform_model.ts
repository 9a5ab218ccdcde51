/**
 * What `quantize` and `prune` share: check the output folder, read the model,
 * transform its artifacts with a progress bar, write the result atomically.
 */
import type * as tf from '@tensorflow/tfjs-core';

import {CliError, type CliIO, type OptionSpecs, type ParsedArgs, oneLine, parseCommandArgs, positionals} from './command';
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

/** The command line of a transforming command, read by {@link parseTransformArgs}. */
export interface TransformArgs {
  /** The option values, the command's own and `exclude`. */
  values: ParsedArgs['values'];
  input: string;
  outDir: string;
  force: boolean;
}

/**
 * Reads `<model.json> <out-dir>`, the command's own `options`, `--exclude`,
 * `--force` and `--help`; null when `--help` was given (the help is printed).
 */
export function parseTransformArgs(
    command: string, help: string, args: string[], io: CliIO, options: OptionSpecs): TransformArgs | null {
  const {values, positionals: given} = parseCommandArgs(command, args, {
    ...options,
    'exclude': {type: 'string', multiple: true},
    'force': {type: 'boolean'},
    'help': {type: 'boolean', short: 'h'},
  });
  if (values['help'] === true) {
    io.out(help);
    return null;
  }
  const [input, outDir] = positionals(command, given, ['model.json', 'out-dir']);
  return {values, input, outDir, force: values['force'] === true};
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
