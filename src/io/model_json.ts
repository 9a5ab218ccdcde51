/**
 * The on-disk form of model artifacts: a `model.json` and the one weights file
 * it lists. Shared by the Node file handler and getGzippedModelSize, so that
 * the measured bytes are the written bytes. getGzippedModelSize measures the
 * tfjs-node layout (`weights.bin`); the Node handler names each save's weights
 * file `weights.<16 hex digits>.bin` (see atomic_save.ts), which makes its
 * model.json 17 bytes longer. Browser-safe (no Node imports).
 */
import * as tf from '@tensorflow/tfjs-core';

/** File name of the topology and manifest. */
export const MODEL_FILE = 'model.json';
/** File name of the weight data in the tfjs-node layout (getGzippedModelSize measures it). */
export const WEIGHTS_FILE = 'weights.bin';

/**
 * The `model.json` object for `artifacts`, with all weights in one file:
 * `{modelTopology, format, generatedBy, convertedBy, weightsManifest: [{paths:
 * [weightsPath], weights}]}`, plus `trainingConfig`, `userDefinedMetadata`,
 * `signature`, `modelInitializer` and `initializerSignature` when present.
 */
export function toModelJSON(artifacts: tf.io.ModelArtifacts, weightsPath = WEIGHTS_FILE): tf.io.ModelJSON {
  if (artifacts.modelTopology instanceof ArrayBuffer) {
    throw new TypeError('a binary (GraphDef) model topology cannot be written as model.json; ' +
        'only JSON topologies (layers models) are supported.');
  }
  const json: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology ?? {},
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy,
    weightsManifest: [{paths: [weightsPath], weights: artifacts.weightSpecs ?? []}],
  };
  if (artifacts.trainingConfig != null) json.trainingConfig = artifacts.trainingConfig;
  if (artifacts.userDefinedMetadata != null) json.userDefinedMetadata = artifacts.userDefinedMetadata;
  if (artifacts.signature != null) json.signature = artifacts.signature;
  if (artifacts.modelInitializer != null) json.modelInitializer = artifacts.modelInitializer;
  if (artifacts.initializerSignature != null) json.initializerSignature = artifacts.initializerSignature;
  return json;
}

/** The text of `model.json` as it is written: compact JSON, UTF-8. */
export function modelJSONBytes(artifacts: tf.io.ModelArtifacts, weightsPath = WEIGHTS_FILE): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(toModelJSON(artifacts, weightsPath)));
}

/** The bytes of `weights.bin`: the weight data, concatenated when it is sharded (empty when absent). */
export function weightBytes(artifacts: tf.io.ModelArtifacts): Uint8Array {
  const data = artifacts.weightData;
  if (data == null) return new Uint8Array(0);
  if (Array.isArray(data)) return new Uint8Array(tf.io.concatenateArrayBuffers(data));
  return new Uint8Array(data);
}
