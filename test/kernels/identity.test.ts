// Identity (and Cast to the same dtype) on wasm with registerTrainingKernels: the clone shares the data
// (one more reference), outlives its source, and leaves nothing behind;
// strings go to the stock kernel; gradients through clones are unchanged.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core's Node bundle registers no gradients; tfjs-layers' does.
import '@tensorflow/tfjs-layers';

import {registerTrainingKernels, unregisterTrainingKernels} from '../../src/kernels';
import {dataIdCount} from './harness';

beforeAll(async () => {
  await tf.setBackend('wasm');
  registerTrainingKernels();
});

afterAll(() => {
  unregisterTrainingKernels();
});

it('shares the data of its input, which stays readable after the input is disposed', () => {
  const buffers = dataIdCount('wasm');
  const x = tf.tensor2d([[1, -0, NaN], [Infinity, 5, 6]]);
  const y = tf.clone(x);
  expect(y.dataId).toBe(x.dataId);
  expect(dataIdCount('wasm')).toBe(buffers + 1);
  x.dispose();
  expect(Array.from(y.dataSync())).toEqual([1, -0, NaN, Infinity, 5, 6]);
  expect(y.shape).toEqual([2, 3]);
  y.dispose();
  expect(dataIdCount('wasm')).toBe(buffers);
});

it('keeps int32 and bool dtypes, and hands strings to the stock kernel', () => {
  const ints = tf.tensor1d([3, -4], 'int32');
  const bools = tf.tensor1d([true, false], 'bool');
  const [i, b] = [tf.clone(ints), tf.clone(bools)];
  expect([i.dtype, Array.from(i.dataSync()), b.dtype, Array.from(b.dataSync())]).toEqual(['int32', [3, -4], 'bool', [1, 0]]);
  tf.dispose([ints, bools, i, b]);
  const strings = tf.tensor1d(['a', 'bc'], 'string');
  const s = tf.clone(strings);
  expect(s.dataSync()).toEqual(['a', 'bc']);
  tf.dispose([strings, s]);
});

it('shares the data of a cast to the same dtype and copies a cast to another', () => {
  const buffers = dataIdCount('wasm');
  const x = tf.tensor1d([1.5, -2, 3]);
  const same = tf.cast(x, 'float32');
  const ints = tf.cast(x, 'int32');
  expect([same.dataId === x.dataId, ints.dataId === x.dataId]).toEqual([true, false]);
  expect([Array.from(same.dataSync()), ints.dtype, Array.from(ints.dataSync())]).toEqual([[1.5, -2, 3], 'int32', [1, -2, 3]]);
  tf.dispose([x, same, ints]);
  expect(dataIdCount('wasm')).toBe(buffers);
});

it('gives the gradients of the cpu backend through the tensors tfjs-core keeps', async () => {
  const grads = () => tf.tidy(() => {
    const x = tf.tensor2d([[0.5, -1, 2], [3, -0.25, 1]]);
    const w = tf.tensor2d([[1, 2], [-1, 0.5], [0.25, -2]]);
    const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.relu(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D))));
    return tf.grads(f)([x, w]).map((g) => Array.from(g.dataSync()));
  });
  const onWasm = grads();
  await tf.setBackend('cpu');
  const onCpu = grads();
  await tf.setBackend('wasm');
  expect(onWasm).toEqual(onCpu);
});
