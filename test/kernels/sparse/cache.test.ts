// The sparse forms live and die with their weights: built on a weight's
// second sighting, dropped once it is disposed, never for activations, and
// no growth over many predictions and model disposals.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';

import {registerSparseKernels, unregisterSparseKernels} from '../../../src/kernels/sparse';
import {cpuCacheSize} from '../../../src/kernels/sparse/cpu_kernel';
import {wasmCacheSize} from '../../../src/kernels/sparse/wasm_kernel';
import {uniform} from '../harness';
import {expectSame, sparseRunCount, sparseValues, values} from './helpers';

type Backend = 'wasm' | 'cpu';

const cacheSize = (backend: Backend) => (backend === 'wasm' ? wasmCacheSize : cpuCacheSize)(tf.backend());

/** A Dense 256 -> 64 -> 10 model whose kernels are 90% zero (as pruning and stripping leave them). */
function sparseModel(): tfl.Sequential {
  const model = tfl.sequential({layers: [
    tfl.layers.dense({inputShape: [256], units: 64, activation: 'relu'}),
    tfl.layers.dense({units: 10, activation: 'softmax'}),
  ]});
  const weights = [tf.tensor2d(sparseValues(256, 64, 0.9, 'unstructured', 51), [256, 64]), tf.tensor1d(uniform(64, 52)),
    tf.tensor2d(sparseValues(64, 10, 0.9, 'unstructured', 53), [64, 10]), tf.tensor1d(uniform(10, 54))];
  model.layers[0].setWeights(weights.slice(0, 2));
  model.layers[1].setWeights(weights.slice(2));
  tf.dispose(weights);
  return model;
}

describe.each(['wasm', 'cpu'] as Backend[])('on %s', (backend) => {
  beforeAll(async () => {
    await tf.setBackend(backend);
  });

  afterEach(() => {
    unregisterSparseKernels();
  });

  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('builds a weight\'s sparse form on its second sighting only, and never one for activations', () => {
    registerSparseKernels();
    const w = tf.tensor2d(sparseValues(128, 32, 0.9, 'unstructured', 55), [128, 32]);
    for (let i = 0; i < 5; i++) {
      // A new activation each call, as in inference: it is the first operand, never cached.
      const a = tf.tensor2d(uniform(4 * 128, 56 + i), [4, 128]);
      values(() => tf.matMul(a, w));
      // An activation as the second operand is seen once and never scanned.
      const b = tf.tensor2d(uniform(128 * 8, 60 + i), [128, 8]);
      values(() => tf.matMul(a, b));
      tf.dispose([a, b]);
      expect(cacheSize(backend)).toBe(i === 0 ? 0 : 1);
    }
    w.dispose();
  });

  it('drops a sparse form when its tensor is disposed while cached, and still computes right after', () => {
    registerSparseKernels();
    const a = tf.tensor2d(uniform(3 * 128, 61), [3, 128]);
    const w = tf.tensor2d(sparseValues(128, 32, 0.9, 'unstructured', 62), [128, 32]);
    values(() => tf.matMul(a, w));
    values(() => tf.matMul(a, w));
    expect(cacheSize(backend)).toBe(1);
    w.dispose();
    expect(cacheSize(backend)).toBe(0);
    // A new weight with other values: never confused with the disposed one.
    const w2 = tf.tensor2d(sparseValues(128, 32, 0.9, 'unstructured', 63), [128, 32]);
    const expected = values(() => tf.matMul(a, w2));
    const before = sparseRunCount(backend);
    expectSame(values(() => tf.matMul(a, w2)), expected);
    expect(sparseRunCount(backend) - before).toBe(1);
    tf.dispose([a, w2]);
  });

  it('keeps no tensors and a bounded cache over many predictions and model disposals', () => {
    registerSparseKernels();
    const x = tf.tensor2d(uniform(8 * 256, 64), [8, 256]);
    const tensorsBefore = tf.memory().numTensors;
    const sizes: number[] = [];
    for (let round = 0; round < 12; round++) {
      const model = sparseModel();
      for (let i = 0; i < 4; i++) values(() => model.predict(x) as tf.Tensor);
      sizes.push(cacheSize(backend));
      model.dispose();
    }
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(cacheSize(backend)).toBe(0);
    // Both kernels of the live model, and never more.
    expect(Math.max(...sizes)).toBe(2);
    x.dispose();
  });

  it('predicts with a layers model as the stock kernels do, sparse from the second call on', () => {
    const model = sparseModel();
    const x = tf.tensor2d(uniform(5 * 256, 65), [5, 256]);
    const expected = values(() => model.predict(x) as tf.Tensor);
    registerSparseKernels();
    expectSame(values(() => model.predict(x) as tf.Tensor), expected);
    const before = sparseRunCount(backend);
    expectSame(values(() => model.predict(x) as tf.Tensor), expected);
    expect(sparseRunCount(backend) - before).toBeGreaterThanOrEqual(1);
    model.dispose();
    x.dispose();
  });

  it('frees every sparse form on unregister', () => {
    registerSparseKernels();
    const a = tf.tensor2d(uniform(2 * 128, 66), [2, 128]);
    const w = tf.tensor2d(sparseValues(128, 32, 0.9, 'unstructured', 67), [128, 32]);
    values(() => tf.matMul(a, w));
    values(() => tf.matMul(a, w));
    expect(cacheSize(backend)).toBe(1);
    unregisterSparseKernels();
    expect(cacheSize(backend)).toBe(0);
    tf.dispose([a, w]);
  });
});

it('does not grow the wasm heap over many predictions and disposals', async () => {
  await tf.setBackend('wasm');
  registerSparseKernels();
  const heap = () => (tf.backend() as unknown as {wasm: {HEAPU8: Uint8Array}}).wasm.HEAPU8.length;
  const x = tf.tensor2d(uniform(8 * 256, 68), [8, 256]);
  const run = () => {
    const model = sparseModel();
    for (let i = 0; i < 3; i++) values(() => model.predict(x) as tf.Tensor);
    model.dispose();
  };
  for (let i = 0; i < 5; i++) run();
  const size = heap();
  for (let i = 0; i < 30; i++) run();
  expect(heap()).toBe(size);
  x.dispose();
  unregisterSparseKernels();
  await tf.setBackend('cpu');
});
