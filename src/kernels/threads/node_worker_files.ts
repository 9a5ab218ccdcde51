/// <reference types="node" />
// (The build type-checks with no ambient types; this file needs Node's.)
/**
 * What tfjs-backend-wasm's threaded build lacks to start in Node, installed
 * for the duration of its initialization only (useWasmThreads):
 *
 * - Its pthread workers are started from `blob:` URLs (the worker script and
 *   the main script are built as Blobs), which Node's worker_threads cannot
 *   load. While installed, the Blobs tfjs builds from strings keep their
 *   text, and `URL.createObjectURL` writes it to a file in a fresh temporary
 *   folder and returns the file's path, which `new Worker(...)` and the
 *   workers' `importScripts` load. The worker file starts with a prelude that
 *   gives the evaluated main script the names it expects from tfjs's Node
 *   bundle (its `require$$N` modules and `commonjsGlobal`), and that maps the
 *   worker's own `URL.createObjectURL(mainScriptBlob)` to the main script's
 *   file.
 * - tfjs sizes its XNNPACK thread pool as at most half the logical cores it
 *   sees (`os.cpus().length / 2` in Node: one thread on a 2-core machine), so
 *   while installed `os.cpus()` lists `2 x threads` entries.
 *
 * - The workers emscripten starts are recorded (it assigns worker_threads'
 *   Worker to the global `Worker` and starts them with `new Worker(file)`;
 *   while installed, that global is a subclass that records its instances).
 *
 * `restore(failed)` puts back every global it replaced and deletes the
 * folder. After a successful start every worker has read its files (tfjs's
 * initialization resolves only after all its workers have loaded the main
 * script); after a failed one, the recorded workers are stopped first, so
 * that none is left running or fails later on a deleted file.
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import * as path from 'node:path';
import {Worker as NodeWorker} from 'node:worker_threads';

/** The start of tfjs-backend-wasm's threaded main script (the Blob given to its workers). */
const MAIN_SCRIPT_START = 'var WasmBackendModuleThreadedSimd';

/** A handle on the installed replacements. */
export interface WorkerFileShims {
  /**
   * Puts back Blob, URL.createObjectURL, os.cpus and Worker, and deletes the
   * temporary folder; after a failed start, stops the recorded workers first.
   */
  restore(failed: boolean): Promise<void>;
}

/** Installs the replacements described in the module comment, for a pool of `threads` threads. */
export function installWorkerFileShims(threads: number): WorkerFileShims {
  const parent = os.tmpdir();
  let dir: string;
  try {
    dir = mkdtempSync(path.join(parent, 'tfjs-model-optimization-wasm-'));
  } catch (error) {
    throw new Error(`useWasmThreads: cannot make a folder for tfjs-backend-wasm's worker scripts in the ` +
        `temporary folder ${parent} (${(error as Error).message}); set TMPDIR to a writable folder.`);
  }
  const OriginalBlob = globalThis.Blob;
  const originalCreate = URL.createObjectURL;
  const originalCpus = os.cpus;
  const texts = new WeakMap<Blob, string>();
  let mainScript: string | null = null;
  let files = 0;
  const workers: NodeWorker[] = [];
  const workerDescriptor = Object.getOwnPropertyDescriptor(globalThis, 'Worker');

  class RecordedWorker extends NodeWorker {
    constructor(...args: ConstructorParameters<typeof NodeWorker>) {
      super(...args);
      workers.push(this);
    }
  }

  class TextBlob extends OriginalBlob {
    constructor(parts?: BlobPart[], options?: BlobPropertyBag) {
      super(parts, options);
      if (parts !== undefined && parts.every((part) => typeof part === 'string')) {
        const text = (parts as string[]).join('');
        texts.set(this, text);
        if (text.startsWith(MAIN_SCRIPT_START)) {
          mainScript = path.join(dir, 'main.js');
          writeFileSync(mainScript, text);
        }
      }
    }
  }

  globalThis.Blob = TextBlob as typeof Blob;
  Object.defineProperty(globalThis, 'Worker', {
    configurable: true, enumerable: false, get: () => RecordedWorker, set: () => undefined,
  });
  URL.createObjectURL = (blob: Blob): string => {
    const text = texts.get(blob);
    if (text === undefined) return originalCreate.call(URL, blob);
    if (text.startsWith(MAIN_SCRIPT_START)) return mainScript!;
    if (mainScript === null) {
      throw new Error('useWasmThreads: tfjs-backend-wasm asked for its worker script before building its main ' +
          'script; this version of tfjs-backend-wasm is not supported.');
    }
    const file = path.join(dir, `worker-${files++}.cjs`);
    writeFileSync(file, workerPrelude(mainScript) + text);
    return file;
  };
  os.cpus = () => {
    const real = originalCpus();
    return Array.from({length: 2 * threads}, (_, i) => real[i % real.length]);
  };

  return {
    async restore(failed: boolean) {
      globalThis.Blob = OriginalBlob;
      URL.createObjectURL = originalCreate;
      os.cpus = originalCpus;
      // Emscripten left worker_threads' Worker there (its later workers start from it).
      if (workerDescriptor === undefined) {
        Object.defineProperty(globalThis, 'Worker', {configurable: true, writable: true, value: NodeWorker});
      } else {
        Object.defineProperty(globalThis, 'Worker', workerDescriptor);
      }
      try {
        if (failed) await Promise.all(workers.map((worker) => worker.terminate()));
      } finally {
        rmSync(dir, {recursive: true, force: true});
      }
    },
  };
}

/**
 * The lines a worker file starts with: the main script (tfjs's Node bundle's
 * factory, evaluated as a script in the worker) refers to the bundle's
 * module variables `require$$N` (fs, path, perf_hooks, os: each one gets an
 * object with the members of all four, so that their numbering in a given
 * tfjs release does not matter) and to `commonjsGlobal`; and the worker
 * turns the main script's Blob into a URL, which here is its file.
 */
function workerPrelude(mainScript: string): string {
  const names = Array.from({length: 10}, (_, i) => `require$$${i}`);
  return [
    '"use strict";',
    'globalThis.commonjsGlobal = globalThis;',
    '{ const modules = Object.assign({}, require("os"), require("perf_hooks"), require("path"), require("fs"));',
    `  for (const name of ${JSON.stringify(names)}) globalThis[name] = modules; }`,
    `URL.createObjectURL = () => ${JSON.stringify(mainScript)};`,
    'URL.revokeObjectURL = () => {};',
    '',
  ].join('\n');
}
