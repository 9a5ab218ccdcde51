/// <reference types="node" />
// (The build type-checks with no ambient types; this file alone needs Node's.)
/**
 * fileSystem(dir): a Node IOHandler that saves and loads a model folder
 * (model.json and the weights file it lists), for Node users without
 * tfjs-node (whose `file://` handler this replaces). Node only: exported from
 * `tfjs-model-optimization/node`. How a save stays atomic is in atomic_save.ts;
 * how a load stays inside the folder, in folder_files.ts.
 */
import {realpath} from 'node:fs/promises';
import * as path from 'node:path';

import * as tf from '@tensorflow/tfjs-core';

import {checkWeightSpecs, checkWeights, declaredByteLength} from '../quantization/manifest_check';
import {argumentMessage, describeValue} from '../util/validation';
import {MODEL_JSON_MAX_BYTES, newSaveId, saveAtomically, weightsFileName} from './atomic_save';
import {FileChangedError, FolderFile, errorCode, readFolderFile, resolveInFolder} from './folder_files';
import {MODEL_FILE, modelJSONBytes, weightBytes} from './model_json';

const CALLER = 'fileSystem';

/** How many times a load starts again when a save replaced the model while it was being read. */
const LOAD_ATTEMPTS = 5;

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
   * Replaces the model in `dir` (created if missing) atomically: `model.json` and a new
   * `weights.<id>.bin`, model.json renamed into place last.
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

/** The message of an error (by shape: errors from another realm, e.g. a vm context, fail `instanceof Error`). */
function errorText(e: unknown): string {
  const message = (e as {message?: unknown} | null)?.message;
  return typeof message === 'string' ? message : String(e);
}

/**
 * A listed file vanished or changed while a load read the folder: a save may have
 * replaced the model meanwhile. `load` then starts again if model.json changed.
 */
class ReplacedWhileLoading extends Error {
  constructor(readonly failure: Error, readonly modelJSON: Uint8Array) {
    super(failure.message);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.from(a.buffer, a.byteOffset, a.byteLength)
      .equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
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
    // Everything is checked before the first file is created: an error writes nothing.
    const id = newSaveId();
    let json: Uint8Array;
    try {
      json = modelJSONBytes(artifacts, weightsFileName(id));
    } catch (e) {
      throw new TypeError(`${CALLER}: cannot save to ${this.dir}: ${errorText(e)}`);
    }
    const weights = weightBytes(artifacts);
    checkWeights(`${CALLER}: cannot save to ${this.dir}`, artifacts.weightSpecs ?? [], weights, true);
    try {
      await saveAtomically(this.dir, id, [weights], json);
    } catch (e) {
      throw new Error(`${CALLER}: cannot save the model to ${this.dir}: ${errorText(e)} ` +
          '(any model the folder held before is unchanged).');
    }
    return {modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts)};
  }

  async load(): Promise<tf.io.ModelArtifacts> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.loadOnce();
      } catch (e) {
        if (!(e instanceof ReplacedWhileLoading)) throw e;
        if (attempt >= LOAD_ATTEMPTS || !(await this.modelJSONChanged(e.modelJSON))) throw e.failure;
      }
    }
  }

  private async modelJSONChanged(before: Uint8Array): Promise<boolean> {
    try {
      return !sameBytes(before, (await this.readModelJSON()).bytes);
    } catch {
      return true;
    }
  }

  /**
   * The folder's real path and model.json's bytes: a regular file inside the folder, at most
   * 256 MiB. A model.json replaced between its stat and its read (a save renamed a new one into
   * place) is read again.
   */
  private async readModelJSON(): Promise<{realDir: string; bytes: Uint8Array}> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.readModelJSONOnce();
      } catch (e) {
        if (!(e instanceof ReplacedWhileLoading)) throw e;
        if (attempt >= LOAD_ATTEMPTS) throw e.failure;
      }
    }
  }

  private async readModelJSONOnce(): Promise<{realDir: string; bytes: Uint8Array}> {
    const modelPath = path.join(this.dir, MODEL_FILE);
    const missing = () => new Error(`${CALLER}: no ${MODEL_FILE} at ${modelPath}.`);
    const cannotRead = (e: unknown) => {
      const failure = new Error(`${CALLER}: cannot read ${modelPath}: ${errorText(e)}`);
      // Gone or changed between the stat and the read: a save renamed a new model.json into place.
      const replaced = e instanceof FileChangedError || errorCode(e) === 'ENOENT';
      return replaced ? new ReplacedWhileLoading(failure, new Uint8Array(0)) : failure;
    };
    let realDir: string;
    let file: FolderFile;
    try {
      realDir = await realpath(this.dir);
      file = await resolveInFolder(path.join(realDir, MODEL_FILE), realDir);
    } catch (e) {
      throw errorCode(e) === 'ENOENT' ? missing() : cannotRead(e);
    }
    if (file.kind === 'missing') throw missing();
    if (file.kind === 'outside') {
      throw new Error(`${CALLER}: ${modelPath} resolves to ${file.real}, outside ${this.dir}; only files inside ` +
          "the model's folder are read.");
    }
    if (file.kind !== 'file') {
      throw new Error(`${CALLER}: ${modelPath} is ${file.what}, not a regular file; only regular files are read.`);
    }
    if (file.size > MODEL_JSON_MAX_BYTES) {
      throw new Error(`${CALLER}: ${modelPath} holds ${file.size} bytes; a model.json is at most ` +
          `${MODEL_JSON_MAX_BYTES} bytes (256 MiB).`);
    }
    const bytes = new Uint8Array(file.size);
    try {
      await readFolderFile(file, bytes);
    } catch (e) {
      throw cannotRead(e);
    }
    return {realDir, bytes};
  }

  private async loadOnce(): Promise<tf.io.ModelArtifacts> {
    const modelPath = path.join(this.dir, MODEL_FILE);
    const {realDir, bytes} = await this.readModelJSON();
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
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
      const {weightSpecs, weightData} = await this.loadWeights(json.weightsManifest, modelPath, realDir, bytes);
      artifacts.weightSpecs = weightSpecs;
      artifacts.weightData = weightData;
    }
    return artifacts;
  }

  /**
   * Checks the manifest and the files it lists (each inside the folder, a regular file,
   * listed once; their sizes summing to what the entries declare) before reading any of
   * them, then reads exactly those sizes and checks the data.
   */
  private async loadWeights(manifest: tf.io.WeightsManifestConfig, modelPath: string, realDir: string,
      modelJSON: Uint8Array): Promise<{weightSpecs: tf.io.WeightsManifestEntry[]; weightData: ArrayBuffer}> {
    const malformed = (what: string) =>
      new Error(`${CALLER}: ${modelPath} has a malformed 'weightsManifest' (${what}).`);
    const replaced = (failure: Error) => new ReplacedWhileLoading(failure, modelJSON);
    if (!Array.isArray(manifest)) throw malformed('not an array');
    const weightSpecs: tf.io.WeightsManifestEntry[] = [];
    const relatives: string[] = [];
    for (const group of manifest) {
      if (group == null || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
        throw malformed('every group needs a "paths" and a "weights" array');
      }
      weightSpecs.push(...group.weights);
      for (const relative of group.paths as unknown[]) {
        if (typeof relative !== 'string') throw malformed(`weight path ${describeValue(relative)} is not a string`);
        const inside = path.relative(this.dir, path.resolve(this.dir, relative));
        if (path.isAbsolute(relative) || inside === '..' || inside.startsWith(`..${path.sep}`)) {
          throw malformed(`weight path ${JSON.stringify(relative)} points outside ${this.dir}`);
        }
        relatives.push(relative);
      }
    }
    checkWeightSpecs(`${CALLER}: ${modelPath}`, weightSpecs, false);

    const files: Array<{file: string; real: string; size: number; dev: number; ino: number}> = [];
    const seen = new Map<string, string>();
    for (const relative of relatives) {
      const file = path.resolve(this.dir, relative);
      let found: FolderFile;
      try {
        found = await resolveInFolder(path.resolve(realDir, relative), realDir);
      } catch (e) {
        throw new Error(`${CALLER}: cannot read ${file}: ${errorText(e)}`);
      }
      if (found.kind === 'missing') {
        throw replaced(new Error(`${CALLER}: the weights file ${file} listed in ${modelPath} is missing.`));
      }
      if (found.kind === 'outside') {
        throw new Error(`${CALLER}: the weights file ${file} listed in ${modelPath} resolves to ${found.real}, ` +
            `outside ${this.dir}; only files inside the model's folder are read.`);
      }
      if (found.kind !== 'file') {
        throw new Error(`${CALLER}: the weights file ${file} listed in ${modelPath} is ${found.what}, not a regular ` +
            'file; only regular files are read.');
      }
      const identity = `${found.dev}:${found.ino}`;
      const first = seen.get(identity);
      if (first !== undefined) {
        throw malformed(first === file ? `it lists ${file} twice` : `${first} and ${file} are the same file`);
      }
      seen.set(identity, file);
      files.push({file, ...found});
    }

    // Sizes first: nothing is read unless the files hold what the entries declare.
    const total = files.reduce((sum, f) => sum + f.size, 0);
    const declared = declaredByteLength(weightSpecs);
    if (declared.exact ? total !== declared.bytes : total < declared.bytes) {
      const names = files.length === 0 ? 'the weights' : files.map((f) => f.file).join(', ');
      throw new Error(`${CALLER}: ${names} ${files.length === 1 ? 'is' : 'are'} corrupt: ${modelPath} lists ` +
          `${declared.exact ? '' : 'at least '}${declared.bytes} bytes of weights, but ` +
          `${files.length === 1 ? 'the file holds' : 'the files hold'} ${total}.`);
    }
    let data: Uint8Array;
    try {
      data = new Uint8Array(total);
    } catch (e) {
      throw new Error(`${CALLER}: ${modelPath} lists ${total} bytes of weights, more than this process can hold in ` +
          `one buffer (${errorText(e)}).`);
    }
    let offset = 0;
    for (const f of files) {
      try {
        await readFolderFile(f, data.subarray(offset, offset + f.size));
      } catch (e) {
        if (e instanceof FileChangedError || errorCode(e) === 'ENOENT') {
          throw replaced(new Error(`${CALLER}: the weights file ${f.file} listed in ${modelPath} changed while it ` +
              `was read (${errorText(e)}).`));
        }
        throw new Error(`${CALLER}: cannot read ${f.file}: ${errorText(e)}`);
      }
      offset += f.size;
    }
    checkWeights(`${CALLER}: ${modelPath}`, weightSpecs, data, false);
    return {weightSpecs, weightData: data.buffer as ArrayBuffer};
  }
}

/**
 * An IOHandler that saves a model to, and loads it from, a directory on
 * disk, for Node without `@tensorflow/tfjs-node`. Bytes and topology
 * round-trip exactly, so quantized and pruned models come back unchanged.
 *
 * **Layout.** `model.json` (`{modelTopology, format, generatedBy, convertedBy,
 * weightsManifest: [{paths: ['weights.<id>.bin'], weights}]}`, plus
 * `trainingConfig` and `userDefinedMetadata` when present) and one weights
 * file, `weights.<id>.bin`, whose 16 hex digits are new for every save. tfjs's
 * loaders (tfjs-node's `file://` included) read the file the manifest names.
 * `load` also reads the layouts of tfjs-node (`weights.bin`) and the converter
 * (sharded `group1-shard1of2.bin`...).
 *
 * **Saving is atomic.** The weights and model.json are written beside the
 * folder's current files, fsynced, and model.json is renamed into place last;
 * then the weights files no model.json lists any more are deleted. At every
 * instant the folder holds its previous model or the new one, complete: a
 * killed process, a full disk or a file-size limit leave the previous model
 * loadable (and on an error, no new file). Of two saves into one folder at
 * once, the last to rename its model.json wins, whole. Before writing, `save`
 * checks that the weight data is as long as the specs declare and that every
 * quantization entry is one a codec writes (a finite float32 scale > 0, a
 * finite min, codes that decode to finite values); on an error it writes
 * nothing. A save killed half way leaves two hidden files, which a later save
 * deletes after an hour.
 *
 * **Loading stays inside the folder.** model.json and every weights file must
 * resolve (symlinks followed) to a regular file inside the folder's real path:
 * a symlink leading outside, a FIFO, a device or a directory is refused before
 * it is opened, and a file listed twice too. The sizes must add up to what the
 * weight specs declare before anything is read, and no more than that is
 * read; model.json itself may be at most 256 MiB.
 *
 * @param dir The directory (relative to the working directory or absolute);
 *     created, with its parents, on save.
 * @returns A handler for `model.save(...)`, `tf.loadLayersModel(...)` and
 *     `loadQuantizedLayersModel(...)`.
 * @throws TypeError when `dir` is not a non-empty string. The handler's `save`
 *     rejects, writing nothing, with a TypeError or RangeError naming the weight,
 *     the field and the value when the artifacts are inconsistent, and with an
 *     Error naming the folder when the file system fails (ENOSPC, EFBIG...). `load`
 *     rejects with an Error naming the file when it is missing, outside the folder,
 *     not a regular file, not JSON, or holds fewer or more weight bytes than its
 *     manifest lists.
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
 * // models/int8 now holds model.json and weights.<16 hex digits>.bin
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
