/**
 * loadQuantizedLayersModel: loads artifacts written by quantizeDynamicRange,
 * including per-channel weights that stock tfjs cannot decode.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {argumentMessage, describeValue} from '../util/validation';
import {channelLayout, decodeAffine} from './codecs';
import {PerChannelQuantization, elementCount, isPerChannel, specByteLength} from './manifest';

const CALLER = 'loadQuantizedLayersModel';

function asBytes(weightData: tf.io.WeightData): Uint8Array {
  if (!Array.isArray(weightData)) return new Uint8Array(weightData);
  return new Uint8Array(tf.io.concatenateArrayBuffers(weightData));
}

/** Byte length of a string weight, read from its length prefixes (4-byte little-endian each). */
function stringWeightByteLength(bytes: Uint8Array, offset: number, count: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  let length = 0;
  for (let i = 0; i < count; i++) length += 4 + view.getUint32(offset + length, true);
  return length;
}

function decodePerChannel(spec: tf.io.WeightsManifestEntry, bytes: Uint8Array): Float32Array {
  const q = spec.quantization as unknown as PerChannelQuantization;
  const shape = spec.shape;
  const n = elementCount(shape);
  const valid = Number.isInteger(q.axis) && q.axis >= 0 && q.axis < shape.length && Array.isArray(q.scale) &&
      Array.isArray(q.zeroPoint) && q.scale.length === shape[q.axis] && q.zeroPoint.length === shape[q.axis];
  if (!valid) {
    throw new Error(`${CALLER}: weight '${spec.name}' has a malformed per-channel quantization ` +
        `(axis ${describeAxis(q.axis)} of shape [${shape.join(', ')}] needs one scale and one zero point per channel).`);
  }
  // A scale that is not a positive number (null in a damaged file) would decode the channel to zeros or NaN.
  const highestCode = q.dtype === 'uint8-per-channel' ? 255 : 65535;
  const bad = q.scale.findIndex((s, c) => !(typeof s === 'number' && s > 0 && Number.isFinite(s)) ||
      !(Number.isInteger(q.zeroPoint[c]) && q.zeroPoint[c] >= 0 && q.zeroPoint[c] <= highestCode));
  if (bad >= 0) {
    throw new Error(`${CALLER}: weight '${spec.name}' has a malformed per-channel quantization (channel ${bad} has ` +
        `scale ${describeValue(q.scale[bad])} and zero point ${describeValue(q.zeroPoint[bad])}; a scale is a finite ` +
        `number > 0 and a zero point an integer in [0, ${highestCode}]).`);
  }
  // slice() copies to a fresh, aligned buffer (the codes may start at an odd offset).
  const codes = q.dtype === 'uint8-per-channel' ? bytes.subarray(0, n) : new Uint16Array(bytes.slice(0, 2 * n).buffer);
  const out = new Float32Array(n);
  decodeAffine(codes, channelLayout(shape, q.axis), q, out);
  return out;
}

function describeAxis(axis: unknown): string {
  return typeof axis === 'number' ? String(axis) : JSON.stringify(axis);
}

/**
 * Returns artifacts in which every per-channel weight is replaced by its
 * float32 values; all other entries (float32, int32 and tfjs's own
 * uint8/uint16/float16 quantization) are passed through for tfjs to decode.
 */
export function dequantizePerChannel(artifacts: tf.io.ModelArtifacts): tf.io.ModelArtifacts {
  const specs = artifacts.weightSpecs;
  if (specs == null || artifacts.weightData == null || !specs.some(isPerChannel)) return artifacts;
  const bytes = asBytes(artifacts.weightData);
  const parts: Uint8Array[] = [];
  const outSpecs: tf.io.WeightsManifestEntry[] = [];
  let offset = 0;
  for (const spec of specs) {
    const byteLength = spec.dtype === 'string' && spec.quantization == null ?
      stringWeightByteLength(bytes, offset, elementCount(spec.shape)) : specByteLength(spec);
    if (byteLength === null) {
      throw new Error(`${CALLER}: weight '${spec.name}' has an unknown dtype ` +
          `(${JSON.stringify(spec.quantization?.dtype ?? spec.dtype)}).`);
    }
    if (offset + byteLength > bytes.byteLength) {
      throw new Error(`${CALLER}: the weight data ends before weight '${spec.name}' ` +
          `(${bytes.byteLength} bytes, the manifest needs at least ${offset + byteLength}).`);
    }
    const slice = bytes.subarray(offset, offset + byteLength);
    if (isPerChannel(spec)) {
      const values = decodePerChannel(spec, slice);
      parts.push(new Uint8Array(values.buffer));
      const {quantization: _dropped, ...plain} = spec;
      outSpecs.push(plain);
    } else {
      parts.push(slice);
      outSpecs.push(spec);
    }
    offset += byteLength;
  }
  const total = parts.reduce((sum, p) => sum + p.byteLength, 0);
  const weightData = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    weightData.set(part, at);
    at += part.byteLength;
  }
  return {...artifacts, weightSpecs: outSpecs, weightData: weightData.buffer};
}

function byteLengthOf(weightData: tf.io.WeightData): number {
  return Array.isArray(weightData) ? weightData.reduce((sum, b) => sum + b.byteLength, 0) : weightData.byteLength;
}

/**
 * Rejects artifacts that cannot give the model they describe: a topology that is not a layers
 * model's JSON, weights listed without weight data (tfjs would keep the random initial weights), or
 * weight data whose length is not what the manifest lists (a weights file from another model).
 */
function checkArtifacts(artifacts: tf.io.ModelArtifacts): void {
  const topology = artifacts.modelTopology;
  if (topology == null || typeof topology !== 'object' || topology instanceof ArrayBuffer) {
    throw new TypeError(argumentMessage(
        CALLER, 'modelTopology', 'must be the JSON topology of a layers model', topology));
  }
  const specs = artifacts.weightSpecs ?? [];
  if (artifacts.weightData == null) {
    if (specs.length > 0) {
      throw new Error(`${CALLER}: the manifest lists ${specs.length} weight(s) (the first is '${specs[0].name}'), ` +
          'but the artifacts hold no weight data.');
    }
    return;
  }
  const actual = byteLengthOf(artifacts.weightData);
  let offset = 0;
  for (const spec of specs) {
    const byteLength = specByteLength(spec);
    if (byteLength === null) return; // string weights: their length is in the data
    offset += byteLength;
    if (offset > actual) {
      throw new Error(`${CALLER}: the weight data ends before weight '${spec.name}' ` +
          `(${actual} bytes, the manifest needs at least ${offset}).`);
    }
  }
  if (offset !== actual) {
    throw new Error(`${CALLER}: the weight data holds ${actual} bytes, but the manifest lists ${offset}; ` +
        'the weights do not belong to this model.');
  }
}

function isArtifacts(value: unknown): value is tf.io.ModelArtifacts {
  return value != null && typeof value === 'object' && 'modelTopology' in value &&
      typeof (value as tf.io.IOHandler).load !== 'function';
}

async function loadArtifacts(
    source: string | tf.io.IOHandler | tf.io.ModelArtifacts, options?: tf.io.LoadOptions): Promise<tf.io.ModelArtifacts> {
  if (typeof source === 'string') {
    const handlers = tf.io.getLoadHandlers(source, options);
    if (handlers.length !== 1) {
      throw new Error(`${CALLER}: found ${handlers.length} load handlers for URL "${source}" (need exactly one); ` +
          'pass an IOHandler instead.');
    }
    source = handlers[0];
  }
  if (isArtifacts(source)) return source;
  if (source == null || typeof source !== 'object' || typeof source.load !== 'function') {
    throw new TypeError(argumentMessage(
        CALLER, 'source', 'must be a URL, an IOHandler with a load() method, or model artifacts', source));
  }
  return source.load();
}

/**
 * Loads a layers model whose weights were quantized by
 * {@link quantizeDynamicRange}, including per-channel weights, which stock
 * `tf.loadLayersModel` rejects. Per-channel weights are decoded here
 * (`(code - zeroPoint[c]) * scale[c]` for channel `c`); everything else is decoded by
 * tfjs as usual, so this also loads any ordinary layers model.
 *
 * @param source Where the model comes from: an IOHandler (e.g. `fileSystem(dir)`
 *     from `tfjs-model-optimization/node`, `tf.io.fromMemory(artifacts)`,
 *     `tf.io.browserHTTPRequest(url)`), the artifacts themselves, or a URL string
 *     that one of tfjs's registered handlers accepts (`http://`, `indexeddb://`...).
 * @param options Passed to `tf.loadLayersModel` (e.g. `strict`) and, for a URL, to
 *     `tf.io.getLoadHandlers`.
 * @returns The model, with float32 weights.
 * @throws TypeError when `source` is none of the above or its topology is not a layers model's JSON;
 *     Error when the URL matches no handler or several, a per-channel entry is malformed, or the
 *     weight data is missing or shorter or longer than the manifest lists.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import {quantizeDynamicRange, loadQuantizedLayersModel} from 'tfjs-model-optimization';
 *
 * const model = tf.sequential({layers: [tf.layers.dense({units: 64, inputShape: [32]})]});
 * const artifacts = await quantizeDynamicRange(model, {perChannel: true});
 * // tf.loadLayersModel(tf.io.fromMemory(artifacts)) would throw
 * // "Weight dense_Dense1/kernel has unknown quantization dtype uint8-per-channel. ..."
 * const restored = await loadQuantizedLayersModel(tf.io.fromMemory(artifacts));
 * restored.predict(tf.ones([1, 32]));
 * ```
 *
 * @category Quantization
 */
export async function loadQuantizedLayersModel(
    source: string | tf.io.IOHandler | tf.io.ModelArtifacts, options?: tf.io.LoadOptions): Promise<tfl.LayersModel> {
  const loaded = await loadArtifacts(source, options);
  if (loaded == null || typeof loaded !== 'object') {
    throw new TypeError(`${CALLER}: the handler's load() must give model artifacts, but gave ${describeValue(loaded)}.`);
  }
  checkArtifacts(loaded);
  const artifacts = dequantizePerChannel(loaded);
  return tfl.loadLayersModel(tf.io.fromMemory(artifacts), options);
}
