// Deterministic models and weights shared by the quantization and IO tests.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

// Aliases: Jest runs tests in a vm context, where each lookup of the global `Math` is slow.
const {abs, cos, imul, log, sqrt, PI} = Math;

/** mulberry32: a tiny seeded PRNG with uniform output in [0, 1). */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples (Box-Muller) from a seeded PRNG. */
export function gaussians(n: number, seed: number, std = 1): Float32Array {
  const random = seededRandom(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = std * sqrt(-2 * log(1 - random())) * cos(2 * PI * random());
  }
  return out;
}

/** Replaces every weight of `model` with seeded Gaussian values (std = sqrt(2 / (fanIn + fanOut)) for kernels). */
export function setGaussianWeights(model: tfl.LayersModel, seed: number): void {
  const values = model.weights.map((w, i) => {
    const shape = w.shape as number[];
    const n = shape.reduce((a, b) => a * b, 1);
    const fanOut = shape[shape.length - 1];
    const fanIn = n / fanOut;
    const std = shape.length > 1 ? Math.sqrt(2 / (fanIn + fanOut)) : 0.05;
    return tf.tensor(gaussians(n, seed * 1000 + i, std), shape);
  });
  model.setWeights(values);
  tf.dispose(values);
}

/** The seed article's MNIST CNN (about 431k parameters). */
export function seedCnn(seed = 1): tfl.Sequential {
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu'}),
      tfl.layers.maxPooling2d({poolSize: 2}),
      tfl.layers.dropout({rate: 0.25}),
      tfl.layers.conv2d({filters: 64, kernelSize: 3, activation: 'relu'}),
      tfl.layers.maxPooling2d({poolSize: 2}),
      tfl.layers.dropout({rate: 0.25}),
      tfl.layers.flatten(),
      tfl.layers.dense({units: 256, activation: 'relu'}),
      tfl.layers.dense({units: 10, activation: 'softmax'}),
    ],
  });
  setGaussianWeights(model, seed);
  return model;
}

/** Zeroes the `sparsity` fraction of smallest-magnitude values of every kernel (rank > 1 weight). */
export function pruneKernels(model: tfl.LayersModel, sparsity: number): void {
  const values = model.weights.map((w) => {
    const t = w.read();
    if (w.shape.length < 2) return t.clone();
    const data = t.dataSync() as Float32Array;
    const magnitudes = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) magnitudes[i] = abs(data[i]);
    const threshold = magnitudes.slice().sort()[Math.round(data.length * sparsity)];
    const pruned = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) pruned[i] = magnitudes[i] < threshold ? 0 : data[i];
    return tf.tensor(pruned, t.shape);
  });
  model.setWeights(values);
  tf.dispose(values);
}

/** Copies of every weight's values, by saved name. */
export function weightValues(model: tfl.LayersModel): Map<string, Float32Array> {
  return new Map(model.weights.map((w) => [w.originalName, Float32Array.from(w.read().dataSync())]));
}

/** Decodes artifacts with tfjs's own decoder, as the stock loader does. */
export function decodeStock(artifacts: tf.io.ModelArtifacts): Map<string, Float32Array> {
  const tensors = tf.io.decodeWeights(artifacts.weightData!, artifacts.weightSpecs!);
  const out = new Map(Object.entries(tensors).map(([name, t]) => [name, Float32Array.from(t.dataSync())]));
  tf.dispose(Object.values(tensors));
  return out;
}

/** Counts exact zeros. */
export function countZeros(values: ArrayLike<number>): number {
  let zeros = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === 0) zeros++;
  return zeros;
}
