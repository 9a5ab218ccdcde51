// The one-kernel gradient of Mean over every axis but the last
// ('TfmotMeanGrad' and the Mean gradient config that calls it): bit-identical
// to tfjs-core's stock gradient through tf.grads on cpu and wasm, with
// keepDims either way and NaN/Inf in dy; other reductions keep the stock gradient.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
// tfjs-core's Node bundle registers no gradients; tfjs-layers' does.
import '@tensorflow/tfjs-layers';

import {registerTrainingKernels, unregisterTrainingKernels} from '../../src/kernels';
import {meanGradient} from '../../src/kernels/kernels/TfmotMeanGrad';
import {uniform} from './harness';

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** The gradient of `sum(mean(x, axis) * w)`, with a NaN and an infinity among the weights when `special`. */
function gradient(shape: number[], axis: number[], keepDims: boolean, special: boolean): Float32Array {
  const x = tf.tensor(uniform(size(shape), 3), shape);
  const [dx] = tf.grads((a: tf.Tensor) => {
    const m = tf.mean(a, axis, keepDims);
    const w = uniform(m.size, 4);
    if (special && w.length > 2) [w[0], w[1]] = [NaN, -Infinity];
    return tf.sum(tf.mul(m, tf.tensor(w, m.shape)));
  })([x]);
  const out = Float32Array.from(dx.dataSync());
  tf.dispose([x, dx]);
  return out;
}

afterEach(() => {
  unregisterTrainingKernels();
});

afterAll(async () => {
  await tf.setBackend('cpu');
});

describe.each(['cpu', 'wasm'])('the Mean gradient on %s', (backendName) => {
  const cases: Array<[number[], number[]]> = [[[5, 3], [0]], [[2, 4, 4, 6], [0, 1, 2]], [[2, 7, 7, 33], [2, 0, 1]],
    [[3, 1, 2, 5, 4], [0, 1, 2, 3]], [[1, 1, 1, 8], [0, 1, 2]]];
  it.each(cases.flatMap(([shape, axis]) => [false, true].map((keepDims) => [shape, axis, keepDims] as const)))(
      'is bit-identical to the stock gradient: x %j, axis %j, keepDims %s', async (shape, axis, keepDims) => {
        await tf.setBackend(backendName);
        const stock = [gradient(shape, axis, keepDims, false), gradient(shape, axis, keepDims, true)];
        registerTrainingKernels();
        const before = tf.memory().numTensors;
        const profile = await tf.profile(() => {
          expect(Array.from(gradient(shape, axis, keepDims, false))).toEqual(Array.from(stock[0]));
          expect(Array.from(gradient(shape, axis, keepDims, true))).toEqual(Array.from(stock[1]));
        });
        expect(tf.memory().numTensors).toBe(before);
        expect(profile.kernels.map((k) => k.name)).toContain('TfmotMeanGrad');
      });

  it('leaves other reductions to the stock gradient', async () => {
    await tf.setBackend(backendName);
    for (const [shape, axis] of [[[3, 4, 5], [2]], [[3, 4, 5], [1]], [[3, 4, 5], [0, 1, 2]], [[6], [0]]] as const) {
      unregisterTrainingKernels();
      const stock = gradient([...shape], [...axis], false, false);
      registerTrainingKernels();
      const profile = await tf.profile(() => {
        expect(Array.from(gradient([...shape], [...axis], false, false))).toEqual(Array.from(stock));
      });
      expect(profile.kernels.map((k) => k.name)).not.toContain('TfmotMeanGrad');
    }
  });
});

it('fills rows of any count, one channel included', () => {
  for (const [channels, rows] of [[1, 1], [1, 7], [3, 5], [4, 1], [5, 9]]) {
    const dy = uniform(channels, 9);
    const out = new Float32Array(channels * rows);
    meanGradient(dy, 6, out);
    const expected = Array.from({length: channels * rows}, (_, i) => Math.fround(dy[i % channels] / 6));
    expect(Array.from(out)).toEqual(expected);
  }
});
