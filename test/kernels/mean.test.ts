// The per-channel Mean (every axis but the last: tf.moments in
// BatchNormalization's training) against the stock cpu kernel, captured
// before registration; other reductions go to the stock kernel.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';

import {registerTrainingKernels, unregisterTrainingKernels} from '../../src/kernels';
import {cross, expectClose, randomInput, runKernel} from './harness';

let stock: tf.KernelConfig;
const BACKENDS = ['cpu', 'wasm'];

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.setBackend('cpu');
  stock = tf.getKernel('Mean', 'cpu');
  registerTrainingKernels();
});

afterAll(() => {
  unregisterTrainingKernels();
});

describe('Mean matches the stock cpu kernel', () => {
  const shapes = [[5, 1], [3, 7], [1, 1, 1, 4], [2, 9, 7, 16], [4, 5, 3, 64], [13, 3, 33], [6, 2, 2, 2, 5]];
  // Every axis but the last (ours), in any order and form, and the last axis (the stock kernel's; a full
  // reduction is left out: stock wasm's float32 sum of 2,000 values differs from stock cpu's by more than 1e-5).
  const axesOf = (rank: number): (number | number[])[] => [
    Array.from({length: rank - 1}, (_, i) => i),
    Array.from({length: rank - 1}, (_, i) => rank - 2 - i),
    Array.from({length: rank - 1}, (_, i) => i - rank),
    rank - 1,
  ];
  const rows = cross(BACKENDS, shapes, [false, true]).flatMap(([backendName, shape, keepDims]) =>
    axesOf(shape.length).map((axis) => [backendName, shape, JSON.stringify(axis), keepDims, axis] as const));
  it.each(rows)('%s: x %j, axis %s, keepDims %s', (backendName, shape, _axisText, keepDims, axis) => {
    const x = randomInput(shape, 51);
    const attrs = {axis, keepDims};
    const actual = runKernel(tf.getKernel('Mean', backendName), backendName, {x}, attrs);
    expectClose(actual, runKernel(stock, 'cpu', {x}, attrs));
  });

  it('hands int32 data to the stock kernel', () => {
    const x = {values: Int32Array.from([1, 2, 3, 4, 5, 6]), shape: [3, 2], dtype: 'int32' as const};
    for (const backendName of BACKENDS) {
      const actual = runKernel(tf.getKernel('Mean', backendName), backendName, {x}, {axis: [0], keepDims: false});
      expect(Array.from(actual.values)).toEqual(Array.from(runKernel(stock, 'cpu', {x}, {axis: [0], keepDims: false}).values));
    }
  });
});
