/// <reference types="node" />
// (The build type-checks with no ambient types; this file alone needs Node's.)
/**
 * fileSystem(dir): a Node IOHandler that saves and loads the model.json +
 * weights.bin pair, for Node users without tfjs-node (whose `file://`
 * handler this replaces). Node only: exported from `tfjs-model-optimization/node`.
 */
import {mkdir, readFile, writeFile} from 'node:fs/promises';
import * as path from 'node:path';

import * as tf from '@tensorflow/tfjs-core';

import {specsByteLength} from '../quantization/manifest';
import {argumentMessage} from '../util/validation';
import {MODEL_FILE, WEIGHTS_FILE, modelJSONBytes, weightBytes} from './model_json';

const CALLER = 'fileSystem';

/**
 * The IOHandler returned by {@link fileSystem}: both `save` and `load` are
 * always present.
 *
 * @category IO
 */
export interface FileSystemHandler extends tf.io.IOHandler {
  /** The directory the handler reads and writes, as an absolute path. */
  readonly dir: string;
  /**
   * Writes `model.json` and `weights.bin` into `dir` (created if missing).
   *
   * @param artifacts The model artifacts, e.g. from `model.save` or `quantizeDynamicRange`.
   * @returns What was written (sizes of the topology, manifest and weights).
   */
  save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult>;
  /**
   * Reads `model.json` and the weight files it lists from `dir`.
   *
   * @returns The artifacts, with the weights of all files in one ArrayBuffer.
   */
  load(): Promise<tf.io.ModelArtifacts>;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function isMissing(e: unknown): boolean {
  return (e as {code?: unknown} | null)?.code === 'ENOENT';
}

/** An ArrayBuffer holding exactly the bytes of `buffer` (Node may hand out views into a shared pool). */
function ownArrayBuffer(buffer: Uint8Array): ArrayBuffer {
  if (buffer.byteOffset === 0 && buffer.byteLength === buffer.buffer.byteLength && buffer.buffer instanceof ArrayBuffer) {
    return buffer.buffer;
  }
  return buffer.slice().buffer;
}

class NodeFileSystemHandler implements FileSystemHandler {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = path.resolve(dir);
  }

  async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
    if (artifacts == null || typeof artifacts !== 'object') {
      throw new TypeError(argumentMessage(`${CALLER}(...).save`, 'artifacts', 'must be model artifacts', artifacts));
    }
    let json: Uint8Array;
    try {
      json = modelJSONBytes(artifacts);
    } catch (e) {
      throw new TypeError(`${CALLER}: cannot save to ${this.dir}: ${errorText(e)}`);
    }
    const weightsPath = path.join(this.dir, WEIGHTS_FILE);
    const modelPath = path.join(this.dir, MODEL_FILE);
    try {
      await mkdir(this.dir, {recursive: true});
      // Weights first: a model.json on disk always refers to weights that are complete.
      await writeFile(weightsPath, weightBytes(artifacts));
      await writeFile(modelPath, json);
    } catch (e) {
      throw new Error(`${CALLER}: cannot save the model to ${this.dir}: ${errorText(e)}`);
    }
    return {modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts)};
  }

  async load(): Promise<tf.io.ModelArtifacts> {
    const modelPath = path.join(this.dir, MODEL_FILE);
    let text: string;
    try {
      text = await readFile(modelPath, 'utf8');
    } catch (e) {
      if (isMissing(e)) throw new Error(`${CALLER}: no ${MODEL_FILE} at ${modelPath}.`);
      throw new Error(`${CALLER}: cannot read ${modelPath}: ${errorText(e)}`);
    }
    let json: tf.io.ModelJSON;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new Error(`${CALLER}: ${modelPath} is not valid JSON (${errorText(e)}).`);
    }
    if (json == null || typeof json !== 'object' || json.modelTopology == null) {
      throw new Error(`${CALLER}: ${modelPath} has no 'modelTopology'; it is not a model.json file.`);
    }
    const artifacts: tf.io.ModelArtifacts = {
      modelTopology: json.modelTopology,
      format: json.format,
      generatedBy: json.generatedBy,
      convertedBy: json.convertedBy,
    };
    if (json.trainingConfig != null) artifacts.trainingConfig = json.trainingConfig;
    if (json.userDefinedMetadata != null) artifacts.userDefinedMetadata = json.userDefinedMetadata;
    if (json.signature != null) artifacts.signature = json.signature;
    if (json.modelInitializer != null) artifacts.modelInitializer = json.modelInitializer;
    if (json.initializerSignature != null) artifacts.initializerSignature = json.initializerSignature;
    if (json.weightsManifest != null) {
      const {weightSpecs, weightData} = await this.loadWeights(json.weightsManifest, modelPath);
      artifacts.weightSpecs = weightSpecs;
      artifacts.weightData = weightData;
    }
    return artifacts;
  }

  private async loadWeights(manifest: tf.io.WeightsManifestConfig, modelPath: string):
      Promise<{weightSpecs: tf.io.WeightsManifestEntry[]; weightData: ArrayBuffer}> {
    const malformed = (what: string) =>
      new Error(`${CALLER}: ${modelPath} has a malformed 'weightsManifest' (${what}).`);
    if (!Array.isArray(manifest)) throw malformed('not an array');
    const weightSpecs: tf.io.WeightsManifestEntry[] = [];
    const files: Array<{file: string; bytes: Uint8Array}> = [];
    for (const group of manifest) {
      if (group == null || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
        throw malformed('every group needs a "paths" and a "weights" array');
      }
      weightSpecs.push(...group.weights);
      for (const relative of group.paths) {
        const file = path.resolve(this.dir, String(relative));
        const inside = path.relative(this.dir, file);
        if (path.isAbsolute(String(relative)) || inside === '..' || inside.startsWith(`..${path.sep}`)) {
          throw malformed(`weight path ${JSON.stringify(relative)} points outside ${this.dir}`);
        }
        try {
          files.push({file, bytes: await readFile(file)});
        } catch (e) {
          if (isMissing(e)) throw new Error(`${CALLER}: the weights file ${file} listed in ${modelPath} is missing.`);
          throw new Error(`${CALLER}: cannot read ${file}: ${errorText(e)}`);
        }
      }
    }
    const total = files.reduce((sum, f) => sum + f.bytes.byteLength, 0);
    const expected = specsByteLength(weightSpecs);
    if (expected !== null && expected !== total) {
      const names = files.map((f) => f.file).join(', ');
      throw new Error(`${CALLER}: ${names} ${files.length === 1 ? 'is' : 'are'} corrupt: ${modelPath} lists ` +
          `${expected} bytes of weights, but ${files.length === 1 ? 'the file holds' : 'the files hold'} ${total}.`);
    }
    if (files.length === 1) return {weightSpecs, weightData: ownArrayBuffer(files[0].bytes)};
    const joined = new Uint8Array(total);
    let offset = 0;
    for (const {bytes} of files) {
      joined.set(bytes, offset);
      offset += bytes.byteLength;
    }
    return {weightSpecs, weightData: joined.buffer};
  }
}

/**
 * An IOHandler that saves a model to, and loads it from, a directory on
 * disk, for Node without `@tensorflow/tfjs-node`. It writes `model.json`
 * (`{modelTopology, format, generatedBy, convertedBy, weightsManifest: [{paths:
 * ['weights.bin'], weights}]}`, plus `trainingConfig` and `userDefinedMetadata`
 * when present) and `weights.bin`, the layout tfjs-node and the converter use,
 * and reads that layout back (including sharded weight files listed in the
 * manifest). Bytes and topology round-trip exactly, so quantized and pruned
 * models come back unchanged.
 *
 * @param dir The directory (relative to the working directory or absolute);
 *     created, with its parents, on save.
 * @returns A handler for `model.save(...)`, `tf.loadLayersModel(...)` and
 *     `loadQuantizedLayersModel(...)`.
 * @throws TypeError when `dir` is not a non-empty string. The handler's `save`
 *     and `load` reject with an Error naming the path when a file is missing,
 *     unreadable, not JSON, or holds fewer or more weight bytes than its manifest lists.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import {quantizeDynamicRange} from 'tfjs-model-optimization';
 * import {fileSystem} from 'tfjs-model-optimization/node';
 *
 * const model = tf.sequential({layers: [tf.layers.dense({units: 10, inputShape: [784]})]});
 * await model.save(fileSystem('models/float'));
 * await fileSystem('models/int8').save(await quantizeDynamicRange(model));
 * const restored = await tf.loadLayersModel(fileSystem('models/int8'));
 * ```
 *
 * @category IO
 */
export function fileSystem(dir: string): FileSystemHandler {
  if (typeof dir !== 'string' || dir.length === 0) {
    throw new TypeError(argumentMessage(CALLER, 'dir', 'must be a non-empty string', dir));
  }
  return new NodeFileSystemHandler(dir);
}
