/**
 * loadQuantizedGraphModel: loads graph-model artifacts written by
 * quantizeArtifacts, including per-channel weights that stock tfjs cannot decode.
 *
 * Porting note: `@tensorflow/tfjs-converter` (which `@tensorflow/tfjs` includes)
 * is an optional peer dependency, imported when this function is first called,
 * so that users of layers models alone need not install it.
 */
import * as tf from '@tensorflow/tfjs-core';
import type {GraphModel} from '@tensorflow/tfjs-converter';

import {isPerChannel} from '../quantization/manifest';
import {loadModelArtifacts} from '../io/load_artifacts';
import {encodeRaw} from './encode_weight';
import {detectModelFormat} from './model_format';
import {concatBytes, decodeFloat32, readWeightEntries} from './weight_values';

const CALLER = 'loadQuantizedGraphModel';

/** The artifacts with every per-channel weight replaced by its float32 values (others passed through). */
function dequantizePerChannel(artifacts: tf.io.ModelArtifacts): tf.io.ModelArtifacts {
  const entries = readWeightEntries(CALLER, artifacts);
  if (!entries.some((e) => isPerChannel(e.spec))) return artifacts;
  const specs: tf.io.WeightsManifestEntry[] = [];
  const parts: Uint8Array[] = [];
  for (const entry of entries) {
    const encoded = isPerChannel(entry.spec) ? encodeRaw(entry.spec, decodeFloat32(entry)) : entry;
    specs.push(encoded.spec);
    parts.push(encoded.bytes);
  }
  return {...artifacts, weightSpecs: specs, weightData: concatBytes(parts)};
}

/**
 * Loads a graph model whose weights were quantized per channel by
 * {@link quantizeArtifacts} (stock `tf.loadGraphModel` rejects their
 * `uint8-per-channel` entries). Per-channel weights are decoded here
 * (`(code - zeroPoint[c]) * scale[c]` for channel `c`); everything else is left
 * to tfjs, so this also loads any graph model `tf.loadGraphModel` loads.
 *
 * @param source An IOHandler (e.g. `fileSystem(dir)` from `tfjs-model-optimization/node`,
 *     `tf.io.fromMemory(artifacts)`, `tf.io.browserHTTPRequest(url)`), the artifacts
 *     themselves, or a URL string one of tfjs's registered handlers accepts.
 * @param options Passed to `tf.loadGraphModel` and, for a URL, to `tf.io.getLoadHandlers`.
 * @returns The model, with float32 weights.
 * @throws TypeError when `source` is none of the above or its topology is not a graph model's;
 *     RangeError or Error naming the weight when a manifest entry or the weight data is
 *     inconsistent (see {@link loadQuantizedLayersModel}); Error when
 *     `@tensorflow/tfjs-converter` is not installed.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import {quantizeArtifacts, loadQuantizedGraphModel} from 'tfjs-model-optimization';
 *
 * // A graph model as tfjs-converter writes it: y = x . W for a 32 x 64 weight W.
 * const w = tf.randomNormal([32, 64]);
 * const artifacts: tf.io.ModelArtifacts = {
 *   format: 'graph-model',
 *   modelTopology: {versions: {producer: 1395}, node: [
 *     {name: 'x', op: 'Placeholder', attr: {dtype: {type: 'DT_FLOAT'}, shape: {shape: {dim: [{size: '-1'}, {size: '32'}]}}}},
 *     {name: 'w', op: 'Const', attr: {dtype: {type: 'DT_FLOAT'}, value: {tensor: {dtype: 'DT_FLOAT'}}}},
 *     {name: 'y', op: 'MatMul', input: ['x', 'w'], attr: {T: {type: 'DT_FLOAT'}, transpose_a: {b: false}, transpose_b: {b: false}}},
 *   ]},
 *   weightSpecs: [{name: 'w', shape: [32, 64], dtype: 'float32'}],
 *   weightData: (await w.data() as Float32Array).slice().buffer,
 * };
 * const perChannel = await quantizeArtifacts(artifacts, {perChannel: true});
 * const model = await loadQuantizedGraphModel(perChannel);
 * (model.predict(tf.ones([1, 32])) as tf.Tensor).print();
 * ```
 *
 * @category Artifacts
 */
export async function loadQuantizedGraphModel(
    source: string | tf.io.IOHandler | tf.io.ModelArtifacts, options?: tf.io.LoadOptions): Promise<GraphModel> {
  const artifacts = await loadModelArtifacts(CALLER, source, options);
  if (detectModelFormat(CALLER, artifacts) !== 'graph') {
    throw new TypeError(`${CALLER}: the artifacts hold a layers model; load it with loadQuantizedLayersModel.`);
  }
  const decoded = dequantizePerChannel(artifacts);
  let converter: typeof import('@tensorflow/tfjs-converter');
  try {
    converter = await import('@tensorflow/tfjs-converter');
  } catch (e) {
    throw new Error(`${CALLER}: cannot import @tensorflow/tfjs-converter (${(e as Error).message}); install it, ` +
        'or @tensorflow/tfjs, which includes it.');
  }
  return converter.loadGraphModel(tf.io.fromMemory(decoded), options);
}
