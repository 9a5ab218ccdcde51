// Two useWasmThreads calls at once: the second waits for the first and then
// selects the backend it started (or refuses another count); the globals
// replaced while the backend starts are all back afterwards.
import os from 'node:os';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';

import {useWasmThreads} from '../../../src/kernels/threads/use_wasm_threads';

it('starts once for concurrent calls', async () => {
  const originals = [globalThis.Blob, URL.createObjectURL, os.cpus];
  const results = await Promise.allSettled([
    useWasmThreads({threads: 2}), useWasmThreads({threads: 2}), useWasmThreads({threads: 3}),
  ]);
  expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
    2, 2,
    "useWasmThreads: the wasm backend is already initialized, with 2 thread(s), so it cannot get 3: call " +
    "useWasmThreads before anything initializes it (tf.setBackend('wasm'), tf.ready()).",
  ]);
  expect([globalThis.Blob, URL.createObjectURL, os.cpus]).toEqual(originals);
  expect(tf.getBackend()).toBe('wasm');
});

it('names the temporary folder it cannot write to', async () => {
  // A fresh process would start here; in this one the backend is started, so only the check of the
  // folder is left to see: run it directly.
  const {installWorkerFileShims} = await import('../../../src/kernels/threads/node_worker_files');
  const originals = [globalThis.Blob, URL.createObjectURL, os.cpus];
  const tmpdir = jest.spyOn(os, 'tmpdir').mockReturnValue('/proc/no-such-folder');
  try {
    expect(() => installWorkerFileShims(2)).toThrow(
        "useWasmThreads: cannot make a folder for tfjs-backend-wasm's worker scripts in the temporary folder " +
        '/proc/no-such-folder (');
  } finally {
    tmpdir.mockRestore();
  }
  // Nothing was replaced before the folder failed.
  expect([globalThis.Blob, URL.createObjectURL, os.cpus]).toEqual(originals);
});
