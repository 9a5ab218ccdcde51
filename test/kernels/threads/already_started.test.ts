// useWasmThreads when the wasm backend was started by tfjs itself (one thread
// in Node), and when it is not registered at all.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';

import {useWasmThreads} from '../../../src/kernels/threads/use_wasm_threads';

it('selects a backend started with the same count and refuses another count', async () => {
  await tf.setBackend('wasm');
  await tf.setBackend('cpu');
  expect(await useWasmThreads({threads: 1})).toBe(1);
  expect(tf.getBackend()).toBe('wasm');
  await expect(useWasmThreads({threads: 2})).rejects.toThrow(
      "useWasmThreads: the wasm backend is already initialized, with 1 thread(s), so it cannot get 2: call " +
      "useWasmThreads before anything initializes it (tf.setBackend('wasm'), tf.ready()).");
});

it('names the missing import when the wasm backend is not registered', async () => {
  tf.removeBackend('wasm');
  await expect(useWasmThreads()).rejects.toThrow(
      "useWasmThreads: the wasm backend is not registered: import '@tensorflow/tfjs-backend-wasm' before calling " +
      'useWasmThreads.');
});
