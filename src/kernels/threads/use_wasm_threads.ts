/// <reference types="node" />
// (The build type-checks with no ambient types; this file needs Node's.)
/**
 * useWasmThreads: tfjs-backend-wasm's multi-threaded build in Node, where
 * tfjs itself only ever starts the single-threaded one (its
 * WASM_HAS_MULTITHREAD_SUPPORT flag is false in Node, and its worker scripts
 * are Blob URLs that Node cannot start). The threads run XNNPACK's kernels
 * (convolutions, matrix products, pooling: the forward pass and tfjs's own
 * gradient kernels built on them); the package's training and sparse kernels
 * run on the calling thread, on the same (now shared) heap.
 */
import os from 'node:os';

import * as tf from '@tensorflow/tfjs-core';

import {checkInteger, optionRecord} from '../../util/validation';
import {installWorkerFileShims} from './node_worker_files';

const CALLER = 'useWasmThreads';

/** tfjs-backend-wasm's threaded build starts 8 workers and never uses more. */
export const MAX_WASM_THREADS = 8;

/**
 * Options of {@link useWasmThreads}.
 *
 * @category Kernels
 */
export interface WasmThreadsOptions {
  /**
   * How many threads XNNPACK's kernels use, the calling thread included:
   * an integer from 1 to 8. Default: the cores Node reports
   * (`os.availableParallelism()`), at most 8.
   */
  threads?: number;
}

/** The part of tfjs-backend-wasm's exports this file calls. */
interface WasmBackendModule {
  setThreadsCount(threads: number): void;
  getThreadsCount(): number;
}

/**
 * Initializes tfjs-backend-wasm in Node with its multi-threaded build and
 * makes it the active backend; resolves to the number of threads its
 * kernels use (1 when tfjs starts its plain build anyway: after
 * `setWasmPaths('.../file.wasm')` with a single file, or without WebAssembly
 * SIMD). Call it once, before anything else initializes the wasm
 * backend (`tf.setBackend('wasm')`, `tf.ready()`); calling it again with
 * the same count only selects the backend. `@tensorflow/tfjs-backend-wasm`
 * must be imported. Works with `registerTrainingKernels` and
 * `registerSparseKernels` (register them after this call or before,
 * either order). In browsers, tfjs picks the threaded build on its own on
 * cross-origin isolated pages.
 *
 * While the backend initializes, the global `Blob`, `URL.createObjectURL`
 * and `os.cpus` are replaced (tfjs builds its worker scripts as Blobs; the
 * replacements write them to a temporary folder, deleted afterwards); they
 * are restored before the promise settles.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import '@tensorflow/tfjs-backend-wasm';
 * import {useWasmThreads} from 'tfjs-model-optimization/node';
 *
 * const threads = await useWasmThreads({threads: 2});
 * console.log(tf.getBackend(), threads); // wasm 2
 * ```
 *
 * @category Kernels
 */
export async function useWasmThreads(options?: WasmThreadsOptions): Promise<number> {
  const o = optionRecord(CALLER, options, ['threads'], true);
  const threads = o.threads === undefined ? defaultThreads() : o.threads;
  checkInteger(CALLER, 'threads', threads);
  if (threads < 1 || threads > MAX_WASM_THREADS) {
    throw new RangeError(`${CALLER}: 'threads' must be from 1 to ${MAX_WASM_THREADS} (tfjs-backend-wasm starts ` +
        `${MAX_WASM_THREADS} workers), but got ${threads}.`);
  }
  // One start at a time: a second call waits for the first, then finds the backend started (or not).
  const previous = starting;
  const run = (async () => {
    await previous?.catch(() => undefined);
    return start(threads);
  })();
  starting = run;
  try {
    return await run;
  } finally {
    if (starting === run) starting = null;
  }
}

/** The call of useWasmThreads in progress, if any. */
let starting: Promise<number> | null = null;

/** Starts (or selects) the wasm backend with `threads` threads; see useWasmThreads. */
async function start(threads: number): Promise<number> {
  if (tf.findBackendFactory('wasm') == null) {
    throw new Error(`${CALLER}: the wasm backend is not registered: import '@tensorflow/tfjs-backend-wasm' ` +
        `before calling ${CALLER}.`);
  }
  const wasm = await import('@tensorflow/tfjs-backend-wasm') as WasmBackendModule;
  if (tf.engine().registry['wasm'] !== undefined) return selectInitialized(wasm, threads);
  if (threads > 1) checkThreadSupport();

  const flagBefore = tf.env().getFlags()['WASM_HAS_MULTITHREAD_SUPPORT'];
  wasm.setThreadsCount(threads);
  let started = false;
  if (threads === 1) {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    started = await tf.setBackend('wasm');
  } else {
    const shims = installWorkerFileShims(threads);
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    try {
      started = await tf.setBackend('wasm');
    } finally {
      await shims.restore(!started);
    }
  }
  if (!started) {
    // A later plain tf.setBackend('wasm') should get tfjs's usual build.
    if (flagBefore === undefined) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    else tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', flagBefore);
    throw new Error(`${CALLER}: tfjs-backend-wasm failed to initialize with ${threads} thread(s) ` +
        '(tfjs printed the reason above).');
  }
  unrefWorkers();
  return wasm.getThreadsCount();
}

/**
 * Node waits for running workers before it exits, and XNNPACK's pool threads
 * run until the process ends: unreferenced, they no longer keep it alive
 * (emscripten already unreferences its idle workers).
 */
function unrefWorkers(): void {
  const module = (tf.engine().registry['wasm'] as unknown as {wasm?: {PThread?: {runningWorkers?: unknown[]}}}).wasm;
  for (const worker of module?.PThread?.runningWorkers ?? []) {
    (worker as {unref?: () => void}).unref?.();
  }
}

/** The backend was initialized before: select it if it has the threads asked for. */
async function selectInitialized(wasm: WasmBackendModule, threads: number): Promise<number> {
  const current = wasm.getThreadsCount();
  if (current !== threads) {
    throw new Error(`${CALLER}: the wasm backend is already initialized, with ${current} thread(s), so it cannot ` +
        `get ${threads}: call ${CALLER} before anything initializes it (tf.setBackend('wasm'), tf.ready()).`);
  }
  await tf.setBackend('wasm');
  return current;
}

/** The threaded build needs shared memory, atomics and worker_threads. */
function checkThreadSupport(): void {
  if (typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object') {
    throw new Error(`${CALLER}: this JavaScript runtime has no SharedArrayBuffer or Atomics, which threads need.`);
  }
  if (typeof process === 'undefined' || typeof process.versions?.node !== 'string') {
    throw new Error(`${CALLER} is for Node; in browsers tfjs-backend-wasm uses threads on its own on ` +
        'cross-origin isolated pages.');
  }
}

/** The cores Node reports, from 1 to MAX_WASM_THREADS. */
function defaultThreads(): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.min(MAX_WASM_THREADS, Math.max(1, cores));
}
