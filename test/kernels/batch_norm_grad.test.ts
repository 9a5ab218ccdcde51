// BatchNormalization's one-pass gradient ('TfmotBatchNormGrad' and the
// FusedBatchNorm gradient config that calls it): the same gradients as
// tfjs-core's stock gradient (registerTrainingKernels not called) through
// tf.grads, on cpu and wasm, for random shapes; registered and restored exactly.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
// tfjs-core's Node bundle registers no gradients; tfjs-layers' does.
import * as tfl from '@tensorflow/tfjs-layers';

import {registerTrainingKernels, unregisterTrainingKernels} from '../../src/kernels';
import {uniform} from './harness';

const BACKENDS = ['cpu', 'wasm'] as const;

/** A deterministic pseudo-random integer in [low, high] from a seed. */
function randomInt(seed: number, low: number, high: number): number {
  return low + Math.floor((uniform(1, seed)[0] + 1) / 2 * (high - low + 1));
}

interface Case {
  shape: number[];
}

/**
 * Random shapes of rank 2 and 4, channels 1..64 (and both edges). Always with
 * scale and offset: tfjs-core 4.22 cannot differentiate a batchNorm without
 * them (its engine saves or walks the missing input and throws, stock gradient
 * or ours); the kernel without scale is tested on its own below.
 */
const CASES: Case[] = [];
for (let i = 0; i < 12; i++) {
  const channels = i === 0 ? 1 : i === 1 ? 64 : randomInt(100 + i, 1, 64);
  const shape = i % 2 === 0 ?
    [randomInt(200 + i, 1, 9), channels] :
    [randomInt(300 + i, 1, 3), randomInt(400 + i, 1, 6), randomInt(500 + i, 1, 6), channels];
  CASES.push({shape});
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** The gradients of a weighted sum of a batch normalization in training mode, as tfjs-layers computes it. */
function trainingGradients({shape}: Case, seed: number): Float32Array[] {
  const channels = shape[shape.length - 1];
  const x = tf.tensor(uniform(size(shape), seed), shape);
  const gamma = tf.tensor1d(uniform(channels, seed + 1).map((v) => 1 + v / 2));
  const beta = tf.tensor1d(uniform(channels, seed + 2));
  const weights = tf.tensor(uniform(size(shape), seed + 3), shape);
  const axes = shape.map((_, i) => i).slice(0, -1);
  const f = (xv: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
    const {mean, variance} = tf.moments(xv, axes);
    const y = tf.batchNorm(xv, mean, variance, b as tf.Tensor1D, g as tf.Tensor1D, 0.001);
    // Exercises dmean and dvariance too: mean and variance are functions of x.
    return tf.sum(tf.mul(y, weights));
  };
  const grads = tf.grads(f)([x, gamma, beta]);
  const out = grads.map((g) => g.dataSync() as Float32Array);
  tf.dispose([x, gamma, beta, weights, ...grads]);
  return out.map((values) => Float32Array.from(values));
}

/** The gradients with respect to every input of a batch normalization, mean and variance given. */
function directGradients({shape}: Case, seed: number): Float32Array[] {
  const channels = shape[shape.length - 1];
  const x = tf.tensor(uniform(size(shape), seed), shape);
  const mean = tf.tensor1d(uniform(channels, seed + 4).map((v) => v / 4));
  const variance = tf.tensor1d(uniform(channels, seed + 5).map((v) => 0.5 + v / 4));
  const gamma = tf.tensor1d(uniform(channels, seed + 1).map((v) => 1 + v / 2));
  const beta = tf.tensor1d(uniform(channels, seed + 2));
  const dy = tf.tensor(uniform(size(shape), seed + 3), shape);
  const f = (xv: tf.Tensor, m: tf.Tensor, v: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
    tf.batchNorm(xv, m as tf.Tensor1D, v as tf.Tensor1D, b as tf.Tensor1D, g as tf.Tensor1D, 0.001);
  const grads = tf.grads(f)([x, mean, variance, gamma, beta], dy);
  const out = grads.map((g) => Float32Array.from(g.dataSync()));
  tf.dispose([x, mean, variance, gamma, beta, dy, ...grads]);
  return out;
}

/** `max|actual - expected| <= tolerance * max(1, max|expected|)`. */
function expectClose(actual: Float32Array, expected: Float32Array, tolerance = 2e-5): void {
  expect(actual.length).toBe(expected.length);
  let maxDiff = 0;
  let scale = 1;
  for (let i = 0; i < expected.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  expect(Number.isFinite(maxDiff)).toBe(true);
  expect(maxDiff).toBeLessThanOrEqual(tolerance * scale);
}

/** Runs `compute` with the stock gradient and with ours on `backendName`, checks they agree, and that ours ran. */
async function compare(backendName: string, compute: () => Float32Array[]): Promise<void> {
  await tf.setBackend(backendName);
  unregisterTrainingKernels();
  const stock = compute();
  registerTrainingKernels();
  const tensorsBefore = tf.memory().numTensors;
  const profile = await tf.profile(() => {
    const ours = compute();
    expect(ours.length).toBe(stock.length);
    ours.forEach((values, i) => expectClose(values, stock[i]));
  });
  expect(tf.memory().numTensors).toBe(tensorsBefore);
  const kernels = profile.kernels.map((k) => k.name);
  expect(kernels).toContain('TfmotBatchNormGrad');
  expect(kernels).not.toContain('Tile');
}

afterEach(() => {
  unregisterTrainingKernels();
});

afterAll(async () => {
  await tf.setBackend('cpu');
});

describe.each(BACKENDS)('the BatchNormalization gradient on %s', (backendName) => {
  it.each(CASES.map((c, i) => [c.shape.join('x'), i] as const))(
      'matches the stock gradient in training mode (mean and variance from tf.moments): x %s', async (_shape, i) => {
        await compare(backendName, () => trainingGradients(CASES[i], 1000 + 10 * i));
      });

  it.each(CASES.map((c, i) => [c.shape.join('x'), i] as const))(
      'matches the stock dx, dmean, dvariance, dscale, doffset: x %s', async (_shape, i) => {
        await compare(backendName, () => directGradients(CASES[i], 2000 + 10 * i));
      });

  it.each([[[7, 5]], [[2, 3, 4, 33]]])('runs without scale as with a scale of ones: x %j', async (shape) => {
    await tf.setBackend(backendName);
    registerTrainingKernels();
    const channels = shape[shape.length - 1];
    const inputs = {
      x: tf.tensor(uniform(size(shape), 31), shape),
      dy: tf.tensor(uniform(size(shape), 32), shape),
      mean: tf.tensor1d(uniform(channels, 33)),
      variance: tf.tensor1d(uniform(channels, 34).map((v) => 1 + v / 2)),
    };
    const ones = tf.ones([channels]);
    const attrs = {varianceEpsilon: 0.01};
    const without = tf.engine().runKernel('TfmotBatchNormGrad', inputs, attrs) as tf.Tensor[];
    const withOnes = tf.engine().runKernel('TfmotBatchNormGrad', {...inputs, scale: ones}, attrs) as tf.Tensor[];
    expect(without.map((t) => t.shape)).toEqual([shape, [channels], [channels], [channels], [channels]]);
    without.forEach((t, i) => expect(Array.from(t.dataSync())).toEqual(Array.from(withOnes[i].dataSync())));
    tf.dispose([...Object.values(inputs), ones, ...without, ...withOnes]);
  });

  it('trains a BatchNormalization layer with model.fit as the stock gradient does', async () => {
    await tf.setBackend(backendName);
    const fitOnce = async () => {
      const model = tfl.sequential({layers: [
        tfl.layers.conv2d({inputShape: [5, 5, 2], filters: 3, kernelSize: 3, kernelInitializer: tfl.initializers.glorotUniform({seed: 1})}),
        tfl.layers.batchNormalization(),
        tfl.layers.flatten(),
        tfl.layers.dense({units: 2, kernelInitializer: tfl.initializers.glorotUniform({seed: 2})}),
      ]});
      model.compile({optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError'});
      const xs = tf.tensor(uniform(4 * 5 * 5 * 2, 7), [4, 5, 5, 2]);
      const ys = tf.tensor(uniform(8, 8), [4, 2]);
      await model.fit(xs, ys, {epochs: 2, batchSize: 4, verbose: 0});
      const weights = model.getWeights().map((w) => Float32Array.from(w.dataSync()));
      tf.dispose([xs, ys]);
      model.dispose();
      return weights;
    };
    // The other training kernels in both runs (stock wasm cannot train the Conv2D): only the gradient differs.
    const stockGrad = tf.getGradient('FusedBatchNorm');
    registerTrainingKernels();
    const oursGrad = tf.getGradient('FusedBatchNorm');
    expect(oursGrad).not.toBe(stockGrad);
    tf.registerGradient(stockGrad);
    const stock = await fitOnce();
    tf.registerGradient(oursGrad);
    const ours = await fitOnce();
    ours.forEach((values, i) => expectClose(values, stock[i], 1e-4));
  });
});

describe('registration', () => {
  it('replaces the FusedBatchNorm gradient and restores the very same config', () => {
    const stock = tf.getGradient('FusedBatchNorm');
    expect(stock).toBeDefined();
    registerTrainingKernels();
    const ours = tf.getGradient('FusedBatchNorm');
    expect(ours).not.toBe(stock);
    expect(ours.inputsToSave).toEqual(stock.inputsToSave);
    registerTrainingKernels();
    expect(tf.getGradient('FusedBatchNorm')).toBe(ours);
    unregisterTrainingKernels();
    expect(tf.getGradient('FusedBatchNorm')).toBe(stock);
  });

  it('keeps the gradient while one backend still has the kernel, and uses the stock one on the other', async () => {
    const stock = tf.getGradient('FusedBatchNorm');
    registerTrainingKernels();
    unregisterTrainingKernels({backends: ['cpu']});
    expect(tf.getGradient('FusedBatchNorm')).not.toBe(stock);
    await tf.setBackend('cpu');
    const profile = await tf.profile(() => {
      tf.dispose(trainingGradients({shape: [2, 3, 3, 4]}, 5));
    });
    expect(profile.kernels.map((k) => k.name)).toContain('Tile');
    expect(profile.kernels.map((k) => k.name)).not.toContain('TfmotBatchNormGrad');
    unregisterTrainingKernels({backends: ['wasm']});
    expect(tf.getGradient('FusedBatchNorm')).toBe(stock);
  });

  it('leaves alone a gradient that something else registered over ours', () => {
    const stock = tf.getGradient('FusedBatchNorm');
    registerTrainingKernels();
    const theirs: tf.GradConfig = {...stock};
    tf.registerGradient(theirs);
    unregisterTrainingKernels();
    expect(tf.getGradient('FusedBatchNorm')).toBe(theirs);
    tf.registerGradient(stock);
  });

  it('hands a mean of the full rank to the stock gradient', async () => {
    await tf.setBackend('cpu');
    const compute = () => {
      const x = tf.tensor(uniform(2 * 3 * 3 * 4, 9), [2, 3, 3, 4]);
      const mean = tf.tensor(uniform(4, 10), [1, 1, 1, 4]);
      const variance = tf.tensor(uniform(4, 11).map((v) => 1 + v / 2), [1, 1, 1, 4]);
      const scale = tf.tensor(uniform(4, 12), [1, 1, 1, 4]);
      const offset = tf.tensor(uniform(4, 13), [1, 1, 1, 4]);
      const grads = tf.grads((a: tf.Tensor) => tf.sum(tf.batchNorm(a, mean, variance, offset, scale)))([x]);
      const out = Float32Array.from(grads[0].dataSync());
      tf.dispose([x, mean, variance, scale, offset, ...grads]);
      return out;
    };
    const stock = compute();
    registerTrainingKernels();
    expectClose(compute(), stock);
  });
});
