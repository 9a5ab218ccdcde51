// Fixtures of the artifacts tests: real graph models written by tfjs-converter, as the npm package
// @vladmandic/human 3.3.6 (MIT, pinned in devDependencies) ships them in node_modules/@vladmandic/human/models/,
// and a small layers model with seeded weights. Nothing is fetched at test time.
import * as fs from 'node:fs';
import * as path from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import * as tfconv from '@tensorflow/tfjs-converter';
import * as tfl from '@tensorflow/tfjs-layers';

import {saveToMemory} from '../../src/io/gzipped_size';
import {setGaussianWeights} from '../quantization/fixtures';

/** Where the fixture models are (tests and benchmarks run from the repository's root). */
export const HUMAN_MODELS = path.resolve('node_modules/@vladmandic/human/models');

/**
 * The graph models used, all converted by tfjs-converter from TensorFlow/Keras (see each model.json's
 * `generatedBy`/`convertedBy`):
 * - emotion: classification (7 emotions from a 64x64 face), float32, 0.8 MB;
 * - iris: landmarks (MediaPipe iris, 228 values), float32, 2.6 MB;
 * - liveness: classification with Dense layers (`_FusedMatMul`), float32, 0.6 MB;
 * - antispoof: classification, weights already float16-quantized by the converter, 0.9 MB;
 * - handtrack: detection with control flow, weights already uint8-quantized, 3 MB;
 * - blazeface: face detection (MediaPipe BlazeFace, 256x256 input, 896 anchors: box regressors and
 *   raw score logits), float32 holding float16 values (converted from a float16 model), 0.5 MB.
 */
export type HumanModel = 'emotion' | 'iris' | 'liveness' | 'antispoof' | 'handtrack' | 'blazeface';

/**
 * The batch each model's error is measured on (bench/graph_accuracy.ts, the tests): 8 images, 2 for
 * iris (the largest), 1 for blazeface (its batch axis is fixed at 1).
 */
export const FIXTURE_BATCH: Readonly<Record<HumanModel, number>> = {
  emotion: 8, iris: 2, liveness: 8, antispoof: 8, handtrack: 1, blazeface: 1,
};

/** The model.json path of a fixture model. */
export function humanModelPath(name: HumanModel): string {
  return path.join(HUMAN_MODELS, `${name}.json`);
}

/** A fixture graph model's artifacts, read as tfjs's http and file handlers read them. */
export function loadHumanModel(name: HumanModel): tf.io.ModelArtifacts {
  const json = JSON.parse(fs.readFileSync(humanModelPath(name), 'utf8')) as tf.io.ModelJSON;
  const data = Buffer.concat(json.weightsManifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(HUMAN_MODELS, p)))));
  const {weightsManifest, ...rest} = json;
  return {
    ...rest,
    weightSpecs: weightsManifest.flatMap((g) => g.weights),
    weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer,
  } as tf.io.ModelArtifacts;
}

/** Conv 3x3 (16), conv 3x3 (32), depthwise 3x3, max pool, Dense 64, Dense 10, on 12x12x3 inputs; seeded weights. */
export function smallCnn(): tfl.LayersModel {
  const model = tfl.sequential({layers: [
    tfl.layers.conv2d({filters: 16, kernelSize: 3, inputShape: [12, 12, 3], activation: 'relu', padding: 'same'}),
    tfl.layers.conv2d({filters: 32, kernelSize: 3, activation: 'relu', padding: 'same'}),
    tfl.layers.depthwiseConv2d({kernelSize: 3, padding: 'same'}),
    tfl.layers.maxPooling2d({poolSize: 2}),
    tfl.layers.flatten(),
    tfl.layers.dense({units: 64, activation: 'relu'}),
    tfl.layers.dense({units: 10}),
  ]});
  setGaussianWeights(model, 3);
  return model;
}

/** The artifacts `model.save` writes for {@link smallCnn}. */
export async function smallCnnArtifacts(): Promise<tf.io.ModelArtifacts> {
  const model = smallCnn();
  try {
    return await saveToMemory(model);
  } finally {
    model.dispose();
  }
}

/** A loaded model of either kind, as one function from an input to its outputs. */
export type Runner = (x: tf.Tensor) => tf.Tensor[];

function outputsOf(y: tf.Tensor | tf.Tensor[] | tf.NamedTensorMap): tf.Tensor[] {
  if (y instanceof tf.Tensor) return [y];
  return Array.isArray(y) ? y : Object.keys(y).sort().map((k) => y[k]);
}

export function graphRunner(model: tfconv.GraphModel): Runner {
  return (x) => outputsOf(model.predict(x));
}

export function layersRunner(model: tfl.LayersModel): Runner {
  return (x) => outputsOf(model.predict(x) as tf.Tensor | tf.Tensor[]);
}

/** The input shape of a graph model with the batch dimension set to `batch`. */
export function inputShape(model: tfconv.GraphModel, batch: number): number[] {
  return model.inputs[0].shape!.map((d, i) => (i === 0 && d < 0 ? batch : d));
}

/** The outputs of a model on `x`, as plain arrays (no tensors are kept). */
export function outputsOn(runner: Runner, x: tf.Tensor): Float32Array[] {
  return tf.tidy(() => runner(x).map((y) => y.dataSync() as Float32Array));
}

/**
 * The largest error of `actual` against `expected` (outputs as {@link outputsOn} gives them), relative
 * to the range of each expected output (max - min over the batch and all positions): 0.02 is "within 2%".
 */
export function relativeError(expected: readonly Float32Array[], actual: readonly Float32Array[]): number {
  let worst = 0;
  expected.forEach((e, i) => {
    let lo = Infinity;
    let hi = -Infinity;
    let error = 0;
    for (let k = 0; k < e.length; k++) {
      lo = Math.min(lo, e[k]);
      hi = Math.max(hi, e[k]);
      error = Math.max(error, Math.abs(e[k] - actual[i][k]));
    }
    worst = Math.max(worst, error / (hi - lo));
  });
  return worst;
}

/** Uniform random inputs in [0, 1) (seeded): the images these models expect are scaled to [0, 1]. */
export function randomInput(shape: number[], seed = 42): tf.Tensor {
  return tf.randomUniform(shape, 0, 1, 'float32', seed);
}

/** The float32 values of every weight of `artifacts`, by name, as tfjs's own decoder gives them. */
export function decodedWeights(artifacts: tf.io.ModelArtifacts): Record<string, Float32Array> {
  const tensors = tf.io.decodeWeights(artifacts.weightData!, artifacts.weightSpecs!);
  const out: Record<string, Float32Array> = {};
  for (const [name, t] of Object.entries(tensors)) {
    out[name] = t.dataSync() as Float32Array;
    t.dispose();
  }
  return out;
}

export {tfconv};
