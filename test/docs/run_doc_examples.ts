// Runs documentation examples one after the other in this process (started by
// doc_examples_run.test.ts under tsx, with 'tfjs-model-optimization' mapped to src/): for each
// example file of the manifest, the cpu backend, the names it uses, then the file itself.
// Prints one line `DOC_EXAMPLE_RESULTS <json>`: per example, `{where, ms, error?}`.
//
// Usage: tsx --tsconfig <tsconfig> test/docs/run_doc_examples.ts <manifest.json>
import {readFileSync} from 'node:fs';
import {pathToFileURL} from 'node:url';

import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';

import {provide} from './example_context';

interface Entry {
  where: string;
  file: string;
  uses: string[];
}

interface Result {
  where: string;
  ms: number;
  error?: string;
}

/** An example that has not settled after this long is reported as hanging. */
const TIMEOUT_MS = 60_000;

async function runOne(entry: Entry): Promise<Result> {
  const start = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await tf.setBackend('cpu');
    await provide(entry.uses);
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`did not finish within ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS);
    });
    await Promise.race([import(pathToFileURL(entry.file).href), timeout]);
    return {where: entry.where, ms: Date.now() - start};
  } catch (error) {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return {where: entry.where, ms: Date.now() - start, error: message};
  } finally {
    clearTimeout(timer);
  }
}

const entries = JSON.parse(readFileSync(process.argv[2], 'utf8')) as Entry[];
const results: Result[] = [];
for (const entry of entries) results.push(await runOne(entry));
process.stdout.write(`\nDOC_EXAMPLE_RESULTS ${JSON.stringify(results)}\n`);
// Examples may leave timers or handles behind (a wasm backend, a progress bar): do not wait for them.
process.exit(0);
