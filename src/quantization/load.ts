/**
 * loadQuantizedLayersModel: loads artifacts written by quantizeDynamicRange,
 * including per-channel weights that stock tfjs cannot decode.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {loadModelArtifacts} from '../io/load_artifacts';
import {argumentMessage} from '../util/validation';
import {formatOf} from './codecs';
import {concatBytes, isPerChannel} from './manifest';
import {WeightSlot, checkWeights} from './manifest_check';

const CALLER = 'loadQuantizedLayersModel';

function asBytes(weightData: tf.io.WeightData): Uint8Array {
  if (!Array.isArray(weightData)) return new Uint8Array(weightData);
  return new Uint8Array(tf.io.concatenateArrayBuffers(weightData));
}

/**
 * Artifacts in which every per-channel weight is replaced by its float32 values; all
 * other entries (float32, int32, string and tfjs's own uint8/uint16/float16
 * quantization) are passed through for tfjs to decode. `slots` place every entry in
 * `bytes` (string weights included).
 */
function dequantize(artifacts: tf.io.ModelArtifacts, bytes: Uint8Array, slots: readonly WeightSlot[]):
    tf.io.ModelArtifacts {
  const parts: Uint8Array[] = [];
  const outSpecs: tf.io.WeightsManifestEntry[] = [];
  for (const {spec, offset, byteLength} of slots) {
    const slice = bytes.subarray(offset, offset + byteLength);
    if (isPerChannel(spec)) {
      // Checked by checkWeights: the format is known.
      const values = formatOf(spec.quantization!.dtype)!.decode(spec, slice);
      parts.push(new Uint8Array(values.buffer));
      const {quantization: _dropped, ...plain} = spec;
      outSpecs.push(plain);
    } else {
      parts.push(slice);
      outSpecs.push(spec);
    }
  }
  return {...artifacts, weightSpecs: outSpecs, weightData: concatBytes(parts)};
}

/** Per-channel weights are decoded here, so every entry must be placed, also those after an unknown one. */
function unknownDtype(spec: tf.io.WeightsManifestEntry): Error {
  return new Error(`${CALLER}: weight '${spec.name}' has an unknown dtype ` +
      `(${JSON.stringify(spec.quantization?.dtype ?? spec.dtype)}).`);
}

/**
 * Rejects artifacts that cannot give the model they describe: a topology that is not a layers
 * model's JSON, weights listed without weight data (tfjs would keep the random initial weights),
 * weight data whose length is not what the manifest lists (a weights file from another model), or a
 * manifest entry that no codec writes (a NaN or zero scale, codes that decode to infinities; see
 * manifest_check.ts). Returns the artifacts tfjs can load: per-channel weights decoded.
 */
function checkAndDequantize(artifacts: tf.io.ModelArtifacts): tf.io.ModelArtifacts {
  const topology = artifacts.modelTopology;
  if (topology == null || typeof topology !== 'object' || topology instanceof ArrayBuffer) {
    throw new TypeError(argumentMessage(
        CALLER, 'modelTopology', 'must be the JSON topology of a layers model', topology));
  }
  const specs = artifacts.weightSpecs ?? [];
  if (artifacts.weightData == null) {
    if (Array.isArray(specs) && specs.length > 0) {
      throw new Error(`${CALLER}: the manifest lists ${specs.length} weight(s) (the first is '${specs[0]?.name}'), ` +
          'but the artifacts hold no weight data.');
    }
    return artifacts;
  }
  const bytes = asBytes(artifacts.weightData);
  const {slots, complete} = checkWeights(CALLER, specs, bytes, false);
  if (!specs.some(isPerChannel)) return artifacts;
  if (!complete) throw unknownDtype(specs[slots.length]);
  return dequantize(artifacts, bytes, slots);
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
 * @throws TypeError when `source` is none of the above, its topology is not a layers model's JSON
 *     or a manifest entry is malformed (no name, a bad shape);
 *     RangeError naming the weight and the field when a quantization entry holds what no codec
 *     writes: a scale that is not a finite float32 > 0 (NaN, 0, 1e300, `null`, a string) or so small
 *     that the highest code's step is 0 in float32 (1e-50), a `min` that is not finite, or codes
 *     that decode to an infinity;
 *     Error when the URL matches no handler or several, a per-channel entry is malformed, or the
 *     weight data is missing or shorter or longer than the manifest lists (string weights
 *     included).
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
  const loaded = await loadModelArtifacts(CALLER, source, options);
  return tfl.loadLayersModel(tf.io.fromMemory(checkAndDequantize(loaded)), options);
}
