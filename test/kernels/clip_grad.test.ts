// ReLU6's one-pass gradient ('TfmotClipByValueGrad' and the ClipByValue
// gradient config that calls it): bit-identical to tfjs-core's stock gradient
// through tf.grads, on cpu and wasm; registered and restored exactly.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
// tfjs-core's Node bundle registers no gradients; tfjs-layers' does.
import * as tfl from '@tensorflow/tfjs-layers';

import {registerTrainingKernels, unregisterTrainingKernels} from '../../src/kernels';
import {uniform} from './harness';

const SHAPES = [[1], [7], [3, 5], [2, 4, 4, 6], [2, 9, 9, 32], [1, 3, 3, 1]];
const RANGES: [number, number][] = [[0, 6], [-0.5, 0.25], [0.1, 0.2]];

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** x in [-8, 8) with some entries exactly on the bounds and one NaN; the gradient of a weighted sum of the clip. */
function gradient(shape: number[], [low, high]: [number, number], seed: number): Float32Array {
  const values = uniform(size(shape), seed).map((v) => v * 8);
  for (let i = 0; i < values.length; i += 5) values[i] = i % 10 === 0 ? low : high;
  if (values.length > 3) values[3] = NaN;
  const x = tf.tensor(values, shape);
  const dy = tf.tensor(uniform(size(shape), seed + 1), shape);
  const [dx] = tf.grads((a: tf.Tensor) => tf.clipByValue(a, low, high))([x], dy);
  const out = Float32Array.from(dx.dataSync());
  tf.dispose([x, dy, dx]);
  return out;
}

afterEach(() => {
  unregisterTrainingKernels();
});

afterAll(async () => {
  await tf.setBackend('cpu');
});

describe.each(['cpu', 'wasm'])('the ClipByValue gradient on %s', (backendName) => {
  it.each(SHAPES.flatMap((shape) => RANGES.map((range) => [shape, range] as const)))(
      'is bit-identical to the stock gradient: x %j, clip to %j', async (shape, range) => {
        await tf.setBackend(backendName);
        const stock = gradient(shape, range, 11);
        registerTrainingKernels();
        const before = tf.memory().numTensors;
        const profile = await tf.profile(() => {
          expect(Array.from(gradient(shape, range, 11))).toEqual(Array.from(stock));
        });
        expect(tf.memory().numTensors).toBe(before);
        const kernels = profile.kernels.map((k) => k.name);
        expect(kernels).toContain('TfmotClipByValueGrad');
        expect(kernels).not.toContain('LogicalAnd');
      });

  it('trains a ReLU6 layer as the stock gradient does', async () => {
    await tf.setBackend(backendName);
    const fitOnce = async () => {
      const model = tfl.sequential({layers: [
        tfl.layers.dense({inputShape: [6], units: 8, kernelInitializer: tfl.initializers.glorotUniform({seed: 1})}),
        tfl.layers.reLU({maxValue: 0.5}),
        tfl.layers.dense({units: 2, kernelInitializer: tfl.initializers.glorotUniform({seed: 2})}),
      ]});
      model.compile({optimizer: tf.train.sgd(0.5), loss: 'meanSquaredError'});
      const xs = tf.tensor(uniform(24, 3).map((v) => 3 * v), [4, 6]);
      const ys = tf.tensor(uniform(8, 4), [4, 2]);
      await model.fit(xs, ys, {epochs: 3, batchSize: 4, verbose: 0});
      const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
      tf.dispose([xs, ys]);
      model.dispose();
      return weights;
    };
    const stockGrad = tf.getGradient('ClipByValue');
    registerTrainingKernels();
    const oursGrad = tf.getGradient('ClipByValue');
    expect(oursGrad).not.toBe(stockGrad);
    tf.registerGradient(stockGrad);
    const stock = await fitOnce();
    tf.registerGradient(oursGrad);
    const ours = await fitOnce();
    // The gradient itself is bit-identical (above); on wasm XNNPACK's products downstream may round
    // a last bit differently between runs, so the trained weights are compared to float32 rounding.
    ours.forEach((values, i) => values.forEach((v, j) => expect(Math.abs(v - stock[i][j])).toBeLessThanOrEqual(1e-6)));
  });
});

describe('registration', () => {
  it('replaces the ClipByValue gradient and restores the very same config', () => {
    const stock = tf.getGradient('ClipByValue');
    expect(stock).toBeDefined();
    registerTrainingKernels();
    expect(tf.getGradient('ClipByValue')).not.toBe(stock);
    unregisterTrainingKernels();
    expect(tf.getGradient('ClipByValue')).toBe(stock);
  });

  it('hands int32 data to the stock gradient', async () => {
    await tf.setBackend('cpu');
    registerTrainingKernels();
    const x = tf.tensor1d([-3, 0, 2, 5], 'int32');
    const [dx] = tf.grads((a: tf.Tensor) => tf.clipByValue(a, 0, 2))([x]);
    expect(Array.from(dx.dataSync())).toEqual([0, 1, 1, 0]);
    tf.dispose([x, dx]);
  });
});
