// useWasmThreads when tfjs-backend-wasm cannot start (its .wasm file is
// missing): a clear error, every global put back, no temporary file left.
import * as fs from 'node:fs';
import os from 'node:os';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {setWasmPaths} from '@tensorflow/tfjs-backend-wasm';

import {useWasmThreads} from '../../../src/kernels/threads/use_wasm_threads';

const tempFolders = () => fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith('tfjs-model-optimization-wasm-'));

it('rejects with the thread count, restores the globals and the flag, and leaves no file', async () => {
  const before = tempFolders();
  const originals = [globalThis.Blob, URL.createObjectURL, os.cpus];
  setWasmPaths(`${os.tmpdir()}/no-such-folder-for-tfjs-wasm/`);
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    await expect(useWasmThreads({threads: 2})).rejects.toThrow(
        'useWasmThreads: tfjs-backend-wasm failed to initialize with 2 thread(s) (tfjs printed the reason above).');
  } finally {
    warn.mockRestore();
    error.mockRestore();
  }
  expect([globalThis.Blob, URL.createObjectURL, os.cpus]).toEqual(originals);
  expect(tempFolders()).toEqual(before);
  expect(tf.env().getFlags()['WASM_HAS_MULTITHREAD_SUPPORT']).toBe(false);
  expect(tf.engine().registry['wasm']).toBeUndefined();
});
