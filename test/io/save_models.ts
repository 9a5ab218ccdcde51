// Deterministic model artifacts for the save tests, built the same way in the test process and in
// test/io/save_worker.ts, so that a folder loaded by one can be compared byte for byte with what the
// other saved. No tensors: the artifacts are written directly.
import * as tf from '@tensorflow/tfjs-core';

/** Float32 values from a xorshift32 stream seeded by `seed` (finite, in [-1, 1)). */
function values(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 2147483648) - 1;
  }
  return out;
}

/**
 * Artifacts of a Sequential of one Dense layer named `name`, `inputs` x `units`, with seeded weights.
 * Two names give two models that differ in every byte of their weights and in their topology.
 */
export function denseArtifacts(name: string, inputs: number, units: number, seed: number): tf.io.ModelArtifacts {
  const kernel = values(inputs * units, seed);
  const bias = values(units, seed + 1);
  const data = new Uint8Array(4 * (kernel.length + bias.length));
  data.set(new Uint8Array(kernel.buffer), 0);
  data.set(new Uint8Array(bias.buffer), 4 * kernel.length);
  return {
    modelTopology: {
      class_name: 'Sequential',
      config: {
        name: `${name}_model`,
        layers: [{
          class_name: 'Dense',
          config: {name, units, batch_input_shape: [null, inputs], dtype: 'float32', use_bias: true, activation: 'linear'},
        }],
      },
      keras_version: 'tfjs-layers 4.22.0',
      backend: 'tensor_flow.js',
    },
    format: 'layers-model',
    generatedBy: 'TensorFlow.js tfjs-layers v4.22.0',
    convertedBy: null,
    weightSpecs: [
      {name: `${name}/kernel`, shape: [inputs, units], dtype: 'float32'},
      {name: `${name}/bias`, shape: [units], dtype: 'float32'},
    ],
    weightData: data.buffer,
  };
}

/** The models the save tests write: small ones, and ones of about 32 MiB. */
export const MODELS: Readonly<Record<string, () => tf.io.ModelArtifacts>> = {
  'old': () => denseArtifacts('old', 64, 96, 11),
  'a': () => denseArtifacts('a', 128, 64, 21),
  'a-other': () => denseArtifacts('a', 128, 64, 99), // a's topology and weight names, other values
  'b': () => denseArtifacts('b', 96, 100, 31),
  'big-old': () => denseArtifacts('big_old', 2048, 4096, 41), // 8M weights: 32 MiB + 16 KiB
  'big-new': () => denseArtifacts('big_new', 4096, 2048, 51),
};

/** The bytes of the weight data. */
export function weightBytesOf(artifacts: tf.io.ModelArtifacts): Buffer {
  const data = artifacts.weightData!;
  return Buffer.from(Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data);
}

/**
 * The name of the model in `models` that `loaded` equals exactly (topology, specs and every weight
 * byte), or undefined when it equals none: a mix of two models, or a damaged one.
 */
export function whichModel(loaded: tf.io.ModelArtifacts, models: Readonly<Record<string, tf.io.ModelArtifacts>>):
    string | undefined {
  const bytes = weightBytesOf(loaded);
  return Object.keys(models).find((name) => {
    const model = models[name];
    return JSON.stringify(model.modelTopology) === JSON.stringify(loaded.modelTopology) &&
        JSON.stringify(model.weightSpecs) === JSON.stringify(loaded.weightSpecs) && weightBytesOf(model).equals(bytes);
  });
}
