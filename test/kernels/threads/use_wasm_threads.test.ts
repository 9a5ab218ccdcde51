// useWasmThreads: tfjs-backend-wasm's threaded build started in Node, with
// the package's training and sparse kernels on its shared heap, against the
// cpu backend's results. The wasm backend starts once per test file: every
// test here shares the one started with 2 threads.
import * as fs from 'node:fs';
import os from 'node:os';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core's Node bundle registers no gradients; tfjs-layers' does.
import '@tensorflow/tfjs-layers';
import * as wasmBackend from '@tensorflow/tfjs-backend-wasm';

import {registerTrainingKernels, unregisterTrainingKernels} from '../../../src/kernels';
import {useWasmThreads} from '../../../src/kernels/threads/use_wasm_threads';
import {trainingSimd} from '../../../src/kernels/wasm/training_simd';
import {uniform} from '../harness';
import {compareWithStock, expectSame, sparseValues} from '../sparse/helpers';

const tempFolders = () => fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith('tfjs-model-optimization-wasm-'));

/** `fn`'s values on `backend`. */
async function on(backend: string, fn: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const out = tf.tidy(fn);
  const list = Array.isArray(out) ? out : [out];
  const values = list.map((t) => Float32Array.from(t.dataSync()));
  tf.dispose(list);
  return values;
}

describe('arguments (checked before anything starts)', () => {
  it.each([
    [{threads: 0}, "useWasmThreads: 'threads' must be from 1 to 8 (tfjs-backend-wasm starts 8 workers), but got 0."],
    [{threads: 9}, "useWasmThreads: 'threads' must be from 1 to 8 (tfjs-backend-wasm starts 8 workers), but got 9."],
    [{threads: 1.5}, "useWasmThreads: 'threads' must be an integer, but got 1.5."],
    [{threads: '2'}, "useWasmThreads: 'threads' must be an integer, but got \"2\"."],
    [{thread: 2}, "useWasmThreads: unknown option 'thread' (received 2); the options are threads."],
    [null, "useWasmThreads: 'options' must be an object, but got null."],
  ])('%j', async (options, message) => {
    await expect(useWasmThreads(options as never)).rejects.toThrow(message);
    expect(tf.engine().registry['wasm']).toBeUndefined();
  });
});

describe('with 2 threads', () => {
  let before: string[];
  const originals = {Blob: globalThis.Blob, createObjectURL: URL.createObjectURL, cpus: os.cpus};

  beforeAll(async () => {
    before = tempFolders();
    expect(await useWasmThreads({threads: 2})).toBe(2);
  });

  it('starts the threaded build, selects it, and puts every global back', () => {
    expect(tf.getBackend()).toBe('wasm');
    expect(wasmBackend.getThreadsCount()).toBe(2);
    expect(globalThis.Blob).toBe(originals.Blob);
    expect(URL.createObjectURL).toBe(originals.createObjectURL);
    expect(os.cpus).toBe(originals.cpus);
    expect(tempFolders()).toEqual(before);
    const heap = (tf.backend() as unknown as {wasm: {HEAPU8: Uint8Array}}).wasm.HEAPU8;
    expect(heap.buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  it('selects the started backend again for the same count and refuses another count', async () => {
    await tf.setBackend('cpu');
    expect(await useWasmThreads({threads: 2})).toBe(2);
    expect(tf.getBackend()).toBe('wasm');
    await expect(useWasmThreads({threads: 1})).rejects.toThrow(
        "useWasmThreads: the wasm backend is already initialized, with 2 thread(s), so it cannot get 1: call " +
        "useWasmThreads before anything initializes it (tf.setBackend('wasm'), tf.ready()).");
  });

  it('runs XNNPACK convolutions and products over both threads with the cpu backend\'s results', async () => {
    const x = uniform(8 * 20 * 20 * 16, 1);
    const w = uniform(3 * 3 * 16 * 32, 2);
    const dw = uniform(3 * 3 * 32 * 1, 3);
    const a = uniform(64 * 300, 4);
    const b = uniform(300 * 96, 5);
    const fn = () => {
      const y = tf.relu(tf.conv2d(tf.tensor4d(x, [8, 20, 20, 16]), tf.tensor4d(w, [3, 3, 16, 32]), 1, 'same'));
      const z = tf.depthwiseConv2d(y, tf.tensor4d(dw, [3, 3, 32, 1]), 2, 'valid');
      return [tf.maxPool(z, 2, 2, 'valid'), tf.matMul(tf.tensor2d(a, [64, 300]), tf.tensor2d(b, [300, 96]))];
    };
    const expected = await on('cpu', fn);
    const actual = await on('wasm', fn);
    actual.forEach((values, i) => expectSame(values, expected[i], 1e-5));
  });

  it('trains with registerTrainingKernels: gradients of a small CNN equal the cpu backend\'s', async () => {
    const x = uniform(4 * 12 * 12 * 3, 6);
    const w1 = uniform(3 * 3 * 3 * 8, 7);
    const w2 = uniform(3 * 3 * 8 * 1, 8);
    const w3 = uniform(1 * 1 * 8 * 16, 9);
    const fn = () => {
      const [v1, v2, v3] = [tf.tensor4d(w1, [3, 3, 3, 8]), tf.tensor4d(w2, [3, 3, 8, 1]), tf.tensor4d(w3, [1, 1, 8, 16])];
      const loss = (p: tf.Tensor4D, q: tf.Tensor4D, r: tf.Tensor4D) => {
        const h = tf.relu6(tf.conv2d(tf.tensor4d(x, [4, 12, 12, 3]), p, 1, 'same'));
        const d = tf.relu(tf.depthwiseConv2d(tf.maxPool(h, 2, 2, 'same'), q, 1, 'same'));
        return tf.sum(tf.square(tf.conv2d(d, r, 1, 'valid')));
      };
      return tf.grads(loss as (...args: tf.Tensor[]) => tf.Tensor)([v1, v2, v3]);
    };
    registerTrainingKernels();
    try {
      expect(trainingSimd(tf.findBackend('wasm')!)).not.toBeNull();
      const expected = await on('cpu', fn);
      const actual = await on('wasm', fn);
      actual.forEach((values, i) => expectSame(values, expected[i], 1e-4));
    } finally {
      unregisterTrainingKernels();
    }
  });

  it('runs the sparse kernels on the shared heap with the stock kernel\'s results', async () => {
    await tf.setBackend('wasm');
    const w = tf.tensor2d(sparseValues(400, 64, 0.9, 'unstructured', 10), [400, 64]);
    const rows = (m: number, seed: number) => tf.tensor2d(uniform(m * 400, seed), [m, 400]);
    const [one, many] = [rows(1, 11), rows(32, 12)];
    try {
      expect(compareWithStock('wasm', () => tf.matMul(one, w))).toBe(1);
      expect(compareWithStock('wasm', () => tf.matMul(many, w))).toBe(1);
    } finally {
      tf.dispose([w, one, many]);
    }
  });

  it('leaks no tensor', async () => {
    const start = tf.memory().numTensors;
    await on('wasm', () => tf.matMul(tf.ones([3, 5]), tf.ones([5, 2])));
    expect(tf.memory().numTensors).toBe(start);
  });
});
