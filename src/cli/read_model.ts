/// <reference types="node" />
// (The build type-checks with no ambient types; the command line needs Node's.)
/**
 * Reads a model.json (any file name: converters write `model.json`, packages
 * ship `blazeface.json`) and the weight files its manifest lists, into model
 * artifacts. Every failure is a CliError of one line that names the file and
 * what is wrong with it.
 */
import {readFile, stat} from 'node:fs/promises';
import * as path from 'node:path';

import type * as tf from '@tensorflow/tfjs-core';

import {MODEL_JSON_MAX_BYTES} from '../io/atomic_save';
import {MODEL_FILE} from '../io/model_json';
import {detectModelFormat} from '../artifacts/model_format';
import {readWeightEntries} from '../artifacts/weight_values';
import {CliError, oneLine} from './command';

/** A model read from disk. */
export interface ModelFile {
  /** The model.json path, as given (a folder resolves to its model.json). */
  file: string;
  artifacts: tf.io.ModelArtifacts;
}

function describeFsError(e: unknown): string {
  const code = (e as {code?: unknown} | null)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return oneLine(e);
}

async function readBytes(file: string, what: string, maxBytes = Infinity): Promise<Buffer> {
  let size: number;
  try {
    const stats = await stat(file);
    if (stats.isDirectory()) throw new CliError(`cannot read ${what} ${file}: it is a directory`);
    if (!stats.isFile()) throw new CliError(`cannot read ${what} ${file}: not a regular file`);
    size = stats.size;
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`cannot read ${what} ${file}: ${describeFsError(e)}`);
  }
  if (size > maxBytes) throw new CliError(`cannot read ${what} ${file}: ${size} bytes is more than a model.json holds`);
  try {
    return await readFile(file);
  } catch (e) {
    throw new CliError(`cannot read ${what} ${file}: ${describeFsError(e)}`);
  }
}

/** Where the model.json is: the path itself, or `<folder>/model.json` for a folder. */
async function modelJSONPath(given: string): Promise<string> {
  try {
    if ((await stat(given)).isDirectory()) return path.join(given, MODEL_FILE);
  } catch {
    // Reported by readBytes with the path as given.
  }
  return given;
}

/**
 * Reads the model at `given` (a model.json file or a folder holding one) with its weights.
 *
 * @throws CliError naming the file when it is missing, unreadable, not JSON, not a model.json
 *     of a layers or graph model, or when a weights file is missing or does not hold what the
 *     manifest lists.
 */
export async function readModel(given: string): Promise<ModelFile> {
  const file = await modelJSONPath(given);
  const text = (await readBytes(file, 'the model', MODEL_JSON_MAX_BYTES)).toString('utf8');
  let json: tf.io.ModelJSON;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CliError(`${file} is not valid JSON (${oneLine(e)})`);
  }
  if (json == null || typeof json !== 'object' || Array.isArray(json) || json.modelTopology == null) {
    throw new CliError(`${file} has no 'modelTopology'; it is not a model.json file`);
  }
  const {weightsManifest, ...rest} = json;
  const artifacts: tf.io.ModelArtifacts = {...rest} as tf.io.ModelArtifacts;
  try {
    detectModelFormat(file, artifacts);
  } catch (e) {
    throw new CliError(oneLine(e));
  }
  if (weightsManifest != null) {
    if (!Array.isArray(weightsManifest) ||
        !weightsManifest.every((g) => g != null && Array.isArray(g.paths) && Array.isArray(g.weights))) {
      throw new CliError(`${file} has a malformed 'weightsManifest' (every group needs a "paths" and a "weights" array)`);
    }
    const chunks: Buffer[] = [];
    for (const group of weightsManifest) {
      for (const relative of group.paths as unknown[]) {
        if (typeof relative !== 'string') throw new CliError(`${file} lists a weights path that is not a string`);
        const weightsFile = path.join(path.dirname(file), relative);
        chunks.push(await readBytes(weightsFile, `the weights file listed in ${file},`));
      }
    }
    const data = Buffer.concat(chunks);
    artifacts.weightSpecs = weightsManifest.flatMap((g) => g.weights);
    artifacts.weightData = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
    try {
      readWeightEntries(file, artifacts);
    } catch (e) {
      throw new CliError(oneLine(e));
    }
  }
  return {file, artifacts};
}
