/// <reference types="node" />
// (The build type-checks with no ambient types; the command line needs Node's.)
/**
 * Writes a command's result into its output folder with the package's atomic
 * save (src/io/atomic_save.ts, through the Node `fileSystem` handler): the
 * folder holds its previous model or the new one, never a mix, and an error
 * writes nothing. A folder that already holds a model.json is replaced only
 * with `--force`.
 */
import {lstat} from 'node:fs/promises';
import * as path from 'node:path';

import type * as tf from '@tensorflow/tfjs-core';

import {fileSystem} from '../io/file_system';
import {MODEL_FILE} from '../io/model_json';
import {CliError, oneLine} from './command';

/**
 * Fails unless `outDir` can receive a model: not a file, and (unless `force`) holding no
 * model.json. Run before any work, so that a refusal costs nothing.
 */
export async function checkOutput(outDir: string, force: boolean): Promise<void> {
  try {
    const stats = await lstat(outDir);
    if (!stats.isDirectory()) throw new CliError(`cannot write to ${outDir}: it exists and is not a folder`);
  } catch (e) {
    if (e instanceof CliError) throw e;
    return; // missing: created on save
  }
  const target = path.join(outDir, MODEL_FILE);
  try {
    await lstat(target);
  } catch {
    return;
  }
  if (!force) throw new CliError(`${target} already exists; pass --force to replace it`);
}

/** Saves `artifacts` into `outDir` atomically; returns the path of the written model.json. */
export async function writeModel(outDir: string, artifacts: tf.io.ModelArtifacts): Promise<string> {
  try {
    await fileSystem(outDir).save(artifacts);
  } catch (e) {
    throw new CliError(oneLine(e));
  }
  return path.join(outDir, MODEL_FILE);
}
