// GatherV2 as row copies against the stock cpu kernel, captured before
// registration: every axis, indices of rank 0 to 2 with repeats, the
// batches model.fit slices; int32 data, batchDims and indices out of range
// go to the stock kernels (whose error message is kept).
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';

import {registerTrainingKernels, unregisterTrainingKernels} from '../../src/kernels';
import {cross, randomInput, runKernel} from './harness';

let stock: Record<string, tf.KernelConfig>;
const BACKENDS = ['cpu', 'wasm'];

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.setBackend('cpu');
  stock = {cpu: tf.getKernel('GatherV2', 'cpu'), wasm: tf.getKernel('GatherV2', 'wasm')};
  registerTrainingKernels();
});

afterAll(() => {
  unregisterTrainingKernels();
});

const ids = (values: number[], shape = [values.length]) => ({values: Int32Array.from(values), shape, dtype: 'int32' as const});

describe('GatherV2 matches the stock cpu kernel', () => {
  const cases: Array<[number[], number, ReturnType<typeof ids>]> = [
    [[7], 0, ids([6, 0, 0, 3])],
    [[6, 5], 0, ids([5, 1, 1, 0])],
    [[6, 5], 1, ids([4, 0, 2])],
    [[6, 5], -1, ids([4, 0, 2])],
    [[4, 3, 20], 1, ids([2, 2, 0, 1, 0, 2], [2, 3])],
    [[4, 3, 20], 0, ids([3], [])],
    [[5, 4, 3, 2], 2, ids([1, 2, 0, 0])],
    [[250, 28, 28, 1], 0, ids(Array.from({length: 64}, (_, i) => (i * 37) % 250))],
    [[3, 0, 2], 2, ids([1, 0])],
    [[3, 4], 1, ids([])],
  ];
  const rows = cross(BACKENDS, cases).map(([backendName, c]) =>
    [backendName, `x ${JSON.stringify(c[0])}, axis ${c[1]}, indices ${JSON.stringify(c[2].shape)}`, c] as const);
  it.each(rows)('%s: %s', (backendName, _name, [shape, axis, indices]) => {
    const x = randomInput(shape, 5);
    const attrs = {axis, batchDims: 0};
    const actual = runKernel(tf.getKernel('GatherV2', backendName), backendName, {x, indices}, attrs);
    const expected = runKernel(stock.cpu, 'cpu', {x, indices}, attrs);
    expect(actual.shape).toEqual(expected.shape);
    expect(Array.from(actual.values)).toEqual(Array.from(expected.values));
  });

  it.each(BACKENDS)('%s: copies NaN and infinities as they are', (backendName) => {
    const x = {values: Float32Array.from([NaN, 1, -Infinity, Infinity, -0, 2]), shape: [3, 2]};
    const actual = runKernel(tf.getKernel('GatherV2', backendName), backendName, {x, indices: ids([2, 1, 0])},
        {axis: 0, batchDims: 0});
    expect(Array.from(actual.values)).toEqual([-0, 2, -Infinity, Infinity, NaN, 1]);
  });

  it.each(BACKENDS)('%s: hands int32 data and batchDims to the stock kernel', (backendName) => {
    const kernel = tf.getKernel('GatherV2', backendName);
    const x = {values: Int32Array.from([1, 2, 3, 4, 5, 6]), shape: [3, 2], dtype: 'int32' as const};
    const actual = runKernel(kernel, backendName, {x, indices: ids([2, 0])}, {axis: 0, batchDims: 0});
    expect([actual.dtype, Array.from(actual.values)]).toEqual(['int32', [5, 6, 1, 2]]);
    const batched = {x: randomInput([2, 3, 4], 6), indices: ids([2, 0, 1, 1], [2, 2])};
    const attrs = {axis: 1, batchDims: 1};
    expect(Array.from(runKernel(kernel, backendName, batched, attrs).values))
        .toEqual(Array.from(runKernel(stock.cpu, 'cpu', batched, attrs).values));
  });

  it.each(BACKENDS)('%s: leaves indices out of range to the stock kernel and its error', (backendName) => {
    const x = randomInput([4, 3], 7);
    const attrs = {axis: 0, batchDims: 0};
    for (const bad of [[4], [-1], [0, 9]]) {
      const call = (kernel: tf.KernelConfig) => () => runKernel(kernel, backendName, {x, indices: ids(bad)}, attrs);
      let expected = '';
      try {
        call(stock[backendName])();
      } catch (error) {
        expected = (error as Error).message;
      }
      expect(expected).toMatch(/GatherV2: the index value -?\d+ is not in \[0, 3\]/);
      expect(call(tf.getKernel('GatherV2', backendName))).toThrow(expected);
    }
  });
});
