/**
 * Both cores (issue 20): tfjs-backend-wasm with `useWasmThreads` against its
 * usual single thread, with registerTrainingKernels. The wasm backend starts
 * once per process, so each thread count runs in a child process of its own,
 * the two alternating (1, 2, 2, 1, 1, 2, ...) so that each pair of runs sees
 * the same load; a child times `fit` and `predict` on one batch of the seed
 * CNN (batch 250) and of the MobileNetV2-style model (64x64x3, batch 32),
 * interleaved. Prints, per measure, the speed-up of 2 threads over 1 (median
 * over the pairs, and the spread) and the milliseconds behind it.
 *
 *   npx tsx bench/wasm_threads.ts [--pairs N] [--rounds N] [--threads N] [--smoke]
 */
import {execFile} from 'node:child_process';
import {fileURLToPath} from 'node:url';
import {parseArgs, promisify} from 'node:util';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import type * as tfl from '@tensorflow/tfjs-layers';

import {registerTrainingKernels} from '../src';
import {useWasmThreads} from '../src/node';
import {mobileNetV2Style} from './models';
import {disposeWithOptimizer, seedCnn, syntheticBatch} from './seed_cnn';
import {cpuModel} from './machine';
import {summarize} from './suite/harness';

const MEASURES = ['seed-cnn fit', 'seed-cnn predict', 'mobilenetv2 fit', 'mobilenetv2 predict'] as const;
type Measure = typeof MEASURES[number];
type Times = Record<Measure, number>;

/** One child: median ms per measure over `rounds` interleaved rounds, after one warm-up round. */
async function child(threads: number, rounds: number, smoke: boolean): Promise<Times> {
  registerTrainingKernels({backends: ['wasm']});
  await useWasmThreads({threads});
  const seed = seedCnn();
  const mobile = mobileNetV2Style();
  for (const model of [seed, mobile]) model.compile({optimizer: tf.train.adam(), loss: 'categoricalCrossentropy'});
  const seedBatch = syntheticBatch(smoke ? 25 : 250);
  const mobileBatch = smoke ? 4 : 32;
  const mx = tf.randomUniform([mobileBatch, 64, 64, 3], -1, 1, 'float32', 1);
  const my = tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from({length: mobileBatch}, (_, i) => i % 10), 'int32'), 10));
  const fit = (model: tfl.LayersModel, x: tf.Tensor, y: tf.Tensor) => async () => {
    await model.fit(x, y, {batchSize: x.shape[0], epochs: 1, verbose: 0});
  };
  const predict = (model: tfl.LayersModel, x: tf.Tensor) => async () => {
    const out = model.predict(x) as tf.Tensor;
    await out.data();
    out.dispose();
  };
  const calls: Record<Measure, () => Promise<void>> = {
    'seed-cnn fit': fit(seed, seedBatch.x, seedBatch.y),
    'seed-cnn predict': predict(seed, seedBatch.x),
    'mobilenetv2 fit': fit(mobile, mx, my),
    'mobilenetv2 predict': predict(mobile, mx),
  };
  const samples = Object.fromEntries(MEASURES.map((m) => [m, [] as number[]])) as Record<Measure, number[]>;
  for (let round = -1; round < rounds; round++) {
    for (const measure of MEASURES) {
      const start = performance.now();
      await calls[measure]();
      if (round >= 0) samples[measure].push(performance.now() - start);
    }
  }
  tf.dispose([seedBatch.x, seedBatch.y, mx, my]);
  disposeWithOptimizer(seed);
  disposeWithOptimizer(mobile);
  return Object.fromEntries(MEASURES.map((m) => [m, summarize(samples[m]).median])) as Times;
}

async function runChild(threads: number, rounds: number, smoke: boolean): Promise<Times> {
  const script = fileURLToPath(import.meta.url);
  const tsx = fileURLToPath(new URL('../node_modules/tsx/dist/cli.mjs', import.meta.url));
  const args = [tsx, script, '--child', '--threads', String(threads), '--rounds', String(rounds), ...(smoke ? ['--smoke'] : [])];
  const {stdout} = await promisify(execFile)(process.execPath, args, {maxBuffer: 1 << 24});
  const line = stdout.split('\n').find((l) => l.startsWith('CHILD_TIMES '));
  if (line === undefined) throw new Error(`bench/wasm_threads: the ${threads}-thread child printed no times:\n${stdout}`);
  return JSON.parse(line.slice('CHILD_TIMES '.length)) as Times;
}

async function main(): Promise<void> {
  const {values} = parseArgs({options: {
    child: {type: 'boolean'}, threads: {type: 'string'}, rounds: {type: 'string'}, pairs: {type: 'string'},
    smoke: {type: 'boolean'},
  }});
  const smoke = values.smoke === true;
  const rounds = Number(values.rounds ?? (smoke ? 1 : 5));
  const threads = Number(values.threads ?? 2);
  if (values.child) {
    process.stdout.write(`CHILD_TIMES ${JSON.stringify(await child(threads, rounds, smoke))}\n`);
    process.exit(0);
  }
  const pairs = Number(values.pairs ?? (smoke ? 1 : 3));
  const runs: Array<{one: Times; many: Times}> = [];
  for (let pair = 0; pair < pairs; pair++) {
    // 1 then N, then N then 1: each count runs first as often as the other.
    const order = pair % 2 === 0 ? [1, threads] : [threads, 1];
    const times: Record<number, Times> = {};
    for (const count of order) times[count] = await runChild(count, rounds, smoke);
    runs.push({one: times[1], many: times[threads]});
    console.log(`pair ${pair + 1}/${pairs}: ${MEASURES.map((m) =>
      `${m} ${times[1][m].toFixed(0)} / ${times[threads][m].toFixed(0)} ms`).join(', ')}`);
  }
  console.log(`\n${cpuModel()}, Node ${process.version}; ${pairs} pairs of processes, ${rounds} rounds each ` +
      `(medians); speed-up of ${threads} threads over 1 (min-max over the pairs):`);
  for (const measure of MEASURES) {
    const s = summarize(runs.map((r) => r.one[measure] / r.many[measure]));
    const ms = (key: 'one' | 'many') => summarize(runs.map((r) => r[key][measure])).median.toFixed(0);
    console.log(`  ${measure.padEnd(20)} ${s.median.toFixed(2)}x (${s.min.toFixed(2)}-${s.max.toFixed(2)}), ` +
        `${ms('one')} -> ${ms('many')} ms`);
  }
}

await main();
