/**
 * Training speed of the seed's CNN with and without the training kernels.
 *
 *   npx tsx bench/training_kernels.ts [--quick] [--profile] [--kernels]
 *   npm run bench:kernels -- [--quick] [--profile] [--kernels]
 *   npx tsx bench/training_kernels.ts --mobilenet
 *
 * For each backend: the median time of one training batch (`trainOnBatch`)
 * and of one inference batch (`predict` + read) on the same batch of 250,
 * after warm-up; on cpu also stock against ours on small batches (stock cpu
 * takes about two minutes per batch of 250). `--quick` takes fewer samples and
 * skips batch 32; `--profile` adds the time per kernel of one more training
 * batch (tf.profile); `--kernels` adds wasm kernels one by one, stock against
 * ours, on the seed CNN's shapes at batch 250. Prints a table and writes every
 * figure, with the machine, to bench/results-training-kernels.json (git-ignored).
 *
 * `--mobilenet` instead profiles the MobileNetV2-style model of issue 20 on
 * wasm (64x64x3, batch 32, Adam): the median times of a training and an
 * inference batch, and the kernel time of one more training batch by kernel
 * name (tf.profile), largest first. Prints only.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {fileURLToPath} from 'node:url';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';

import {registerTrainingKernels, unregisterTrainingKernels} from '../src';
import {mobileNetV2Style} from './models';
import {disposeWithOptimizer, seedCnn, syntheticBatch} from './seed_cnn';
import {cpuModel} from './machine';

const quick = process.argv.includes('--quick');
const profile = process.argv.includes('--profile');
const kernelsToo = process.argv.includes('--kernels');
const mobilenet = process.argv.includes('--mobilenet');
const resultsFile = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results-training-kernels.json');

interface Row {
  backend: 'wasm' | 'cpu';
  kernels: 'stock' | 'ours';
  batch: number;
  /** Median ms per training batch, or the error when training fails. */
  trainMs: number | string;
  /** Median ms per inference batch (omitted where not measured). */
  predictMs?: number;
  samples: number;
  /** With --profile: ms per kernel name in one training batch, largest first. */
  kernelMs?: Record<string, number>;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function timeIt(run: () => Promise<void>, warmup: number, samples: number): Promise<number> {
  for (let i = 0; i < warmup; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  return median(times);
}

/** The kernel time of one training batch, summed by kernel name, largest first. */
async function profileKernels(model: ReturnType<typeof seedCnn>, x: tf.Tensor, y: tf.Tensor): Promise<Record<string, number>> {
  const info = await tf.profile(async () => {
    await model.trainOnBatch(x, y);
  });
  const byName = new Map<string, number>();
  for (const kernel of info.kernels) {
    byName.set(kernel.name, (byName.get(kernel.name) ?? 0) + (kernel.kernelTimeMs as number));
  }
  return Object.fromEntries([...byName].sort((a, b) => b[1] - a[1]).map(([name, ms]) => [name, Number(ms.toFixed(1))]));
}

/** Trains and predicts the seed CNN on one batch; the error message if training fails. */
async function measure(
    backend: 'wasm' | 'cpu', kernels: 'stock' | 'ours', batch: number, warmup: number, samples: number,
    withPredict: boolean): Promise<Row> {
  await tf.setBackend(backend);
  unregisterTrainingKernels();
  if (kernels === 'ours') registerTrainingKernels();
  const model = seedCnn();
  const {x, y} = syntheticBatch(batch);
  const row: Row = {backend, kernels, batch, trainMs: NaN, samples};
  try {
    row.trainMs = await timeIt(async () => {
      await model.trainOnBatch(x, y);
    }, warmup, samples);
    if (profile) row.kernelMs = await profileKernels(model, x, y);
    if (withPredict) {
      row.predictMs = await timeIt(async () => {
        const out = model.predict(x) as tf.Tensor;
        await out.data();
        out.dispose();
      }, warmup, samples);
    }
  } catch (error) {
    row.trainMs = `fails: ${(error as Error).message}`;
  } finally {
    model.dispose();
    tf.dispose([x, y]);
    unregisterTrainingKernels();
  }
  return row;
}

interface KernelRow {
  kernel: string;
  shapes: string;
  stockMs: number | null;
  oursMs: number;
}

/** Stock against ours for single wasm kernels, on the seed CNN's shapes at batch 250. */
async function measureWasmKernels(): Promise<KernelRow[]> {
  await tf.setBackend('wasm');
  unregisterTrainingKernels();
  const names = ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'BatchMatMul', 'MaxPoolGrad', 'AvgPoolGrad', 'Sum', 'GatherV2'];
  const stock = Object.fromEntries(names.map((name) => [name, tf.getKernel(name, 'wasm')]));
  registerTrainingKernels({backends: ['wasm']});
  const backend = tf.backend() as unknown as {disposeData(dataId: object): void};
  const conv = {strides: 1, pad: 'valid', dataFormat: 'NHWC'};
  const x1 = tf.randomNormal([250, 28, 28, 1]);
  const y1 = tf.randomNormal([250, 26, 26, 32]);
  const x2 = tf.randomNormal([250, 13, 13, 32]);
  const y2 = tf.randomNormal([250, 11, 11, 64]);
  // dy of a convolution followed by ReLU and 2x2 max pooling, in training: about 90% zeros.
  const sparse = (dense: tf.Tensor) => tf.tidy(() => tf.mul(dense, tf.step(tf.randomUniform(dense.shape, 0, 1, 'float32', 3), 0.1)));
  const dy1 = sparse(y1);
  const dy2 = sparse(y2);
  const f2 = tf.randomNormal([3, 3, 32, 64]);
  const pooled = tf.randomNormal([250, 13, 13, 32]);
  const dense = tf.randomNormal([250, 1600]);
  const weights = tf.randomNormal([1600, 256]);
  const dDense = tf.randomNormal([250, 256]);
  const pool = {filterSize: 2, strides: 2, pad: 'valid'};
  // model.fit's batch of 250 MNIST images out of a 48,000-image training split.
  const images = tf.randomNormal([48000, 28, 28, 1]);
  const batchIds = tf.tensor1d(Array.from({length: 250}, (_, i) => (i * 7919) % 48000), 'int32');
  const cases: [string, string, Record<string, tf.Tensor>, tf.NamedAttrMap][] = [
    ['Conv2DBackpropFilter', 'conv1: x 250x28x28x1, dy 250x26x26x32, 10% nonzero', {x: x1, dy: dy1}, {...conv, filterShape: [3, 3, 1, 32]}],
    ['Conv2DBackpropFilter', 'conv2: x 250x13x13x32, dy 250x11x11x64, 10% nonzero', {x: x2, dy: dy2}, {...conv, filterShape: [3, 3, 32, 64]}],
    ['Conv2DBackpropInput', 'conv2: dy 250x11x11x64, 10% nonzero', {dy: dy2, filter: f2}, {...conv, inputShape: [250, 13, 13, 32]}],
    ['BatchMatMul', 'dy · Wᵀ: 250x256 · (1600x256)ᵀ', {a: dDense, b: weights}, {transposeA: false, transposeB: true}],
    ['BatchMatMul', 'xᵀ · dy: (250x1600)ᵀ · 250x256', {a: dense, b: dDense}, {transposeA: true, transposeB: false}],
    ['MaxPoolGrad', 'pool1: 250x26x26x32, 2x2', {dy: pooled, input: y1, output: pooled}, pool],
    ['AvgPoolGrad', '250x26x26x32, 2x2', {dy: pooled, input: y1}, pool],
    ['Sum', 'conv1 bias gradient: 250x26x26x32 -> 32', {x: y1}, {axis: [0, 1, 2], keepDims: false}],
    ['GatherV2', 'a fit batch: 250 rows of 48000x28x28x1', {x: images, indices: batchIds}, {axis: 0, batchDims: 0}],
  ];
  const time = async (config: tf.KernelConfig, inputs: Record<string, tf.Tensor>, attrs: tf.NamedAttrMap) =>
    timeIt(async () => {
      const out = config.kernelFunc({inputs, backend, attrs}) as tf.TensorInfo;
      backend.disposeData(out.dataId);
    }, 2, quick ? 3 : 9);
  const rows: KernelRow[] = [];
  for (const [kernel, shapes, inputs, attrs] of cases) {
    rows.push({
      kernel, shapes,
      stockMs: stock[kernel] ? await time(stock[kernel], inputs, attrs) : null,
      oursMs: await time(tf.getKernel(kernel, 'wasm'), inputs, attrs),
    });
  }
  unregisterTrainingKernels();
  tf.dispose([x1, y1, x2, y2, dy1, dy2, f2, pooled, dense, weights, dDense, images, batchIds]);
  return rows;
}


/** `--mobilenet`: a training batch of the MobileNetV2-style model on wasm, its ratio to inference and its kernels. */
async function profileMobileNet(): Promise<void> {
  await tf.setBackend('wasm');
  registerTrainingKernels();
  const batch = 32;
  const model = mobileNetV2Style();
  model.compile({optimizer: tf.train.adam(), loss: 'categoricalCrossentropy'});
  const x = tf.randomUniform([batch, 64, 64, 3], -1, 1, 'float32', 1);
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from({length: batch}, (_, i) => i % 10), 'int32'), 10));
  try {
    const trainMs = await timeIt(async () => {
      await model.trainOnBatch(x, y);
    }, 3, quick ? 3 : 7);
    const predictMs = await timeIt(async () => {
      const out = model.predict(x) as tf.Tensor;
      await out.data();
      out.dispose();
    }, 2, quick ? 3 : 7);
    const info = await tf.profile(async () => {
      await model.trainOnBatch(x, y);
    });
    const byName = new Map<string, {ms: number; calls: number}>();
    let total = 0;
    for (const kernel of info.kernels) {
      const entry = byName.get(kernel.name) ?? {ms: 0, calls: 0};
      entry.ms += kernel.kernelTimeMs as number;
      entry.calls++;
      total += kernel.kernelTimeMs as number;
      byName.set(kernel.name, entry);
    }
    console.log(`${os.cpus().length} x ${cpuModel()}, Node ${process.version}, load average ${os.loadavg()[0].toFixed(2)}`);
    console.log(`MobileNetV2-style, wasm, batch ${batch}: train ${trainMs.toFixed(0)} ms, predict ${predictMs.toFixed(0)} ms ` +
        `(median), ratio ${(trainMs / predictMs).toFixed(2)}x`);
    console.log(`one profiled training batch: ${info.kernels.length} kernels, ${total.toFixed(0)} ms of kernel time`);
    for (const [name, {ms, calls}] of [...byName].sort((a, b) => b[1].ms - a[1].ms).slice(0, 20)) {
      console.log(`  ${name.padEnd(38)} ${ms.toFixed(1).padStart(7)} ms ${(100 * ms / total).toFixed(1).padStart(5)}%  x${calls}`);
    }
  } finally {
    tf.dispose([x, y]);
    disposeWithOptimizer(model);
    unregisterTrainingKernels();
  }
}

async function main(): Promise<void> {
  if (mobilenet) {
    await profileMobileNet();
    return;
  }
  const machine = {
    cpus: os.cpus().length,
    cpuModel: cpuModel(),
    node: process.version,
    loadAverageAtStart: Number(os.loadavg()[0].toFixed(2)),
    command: ['npx tsx bench/training_kernels.ts', ...process.argv.slice(2)].join(' '),
  };
  const wasmSamples = quick ? 3 : 15;
  const rows: Row[] = [];
  rows.push(await measure('wasm', 'stock', 250, 0, 1, false));
  rows.push(await measure('wasm', 'ours', 250, 2, wasmSamples, true));
  rows.push(await measure('cpu', 'ours', 250, 1, quick ? 1 : 3, true));
  for (const batch of quick ? [8] : [8, 32]) {
    rows.push(await measure('cpu', 'stock', batch, 1, quick ? 1 : 3, false));
    rows.push(await measure('cpu', 'ours', batch, 2, quick ? 3 : 7, false));
  }
  const kernelRows = kernelsToo ? await measureWasmKernels() : [];
  await tf.setBackend('cpu');

  fs.writeFileSync(resultsFile,
      `${JSON.stringify({machine, date: new Date().toISOString(), rows, wasmKernels: kernelRows}, null, 2)}\n`);
  console.log(`${machine.cpus} x ${machine.cpuModel}, Node ${machine.node}, load average ${machine.loadAverageAtStart} at start`);
  console.log('backend  kernels  batch  train ms  predict ms  train/predict');
  for (const row of rows) {
    const train = typeof row.trainMs === 'number' ? row.trainMs.toFixed(0).padStart(8) : row.trainMs;
    const predict = row.predictMs === undefined ? '' : row.predictMs.toFixed(0).padStart(10);
    const ratio = row.predictMs === undefined || typeof row.trainMs !== 'number' ? '' :
      `${(row.trainMs / row.predictMs).toFixed(1)}x`.padStart(13);
    console.log(`${row.backend.padEnd(7)}  ${row.kernels.padEnd(7)}  ${String(row.batch).padStart(5)}  ${train}  ${predict.padEnd(10)}  ${ratio}`);
  }
  for (const batch of quick ? [8] : [8, 32]) {
    const stock = rows.find((r) => r.backend === 'cpu' && r.kernels === 'stock' && r.batch === batch);
    const ours = rows.find((r) => r.backend === 'cpu' && r.kernels === 'ours' && r.batch === batch);
    if (typeof stock?.trainMs === 'number' && typeof ours?.trainMs === 'number') {
      console.log(`cpu speed-up at batch ${batch}: ${(stock.trainMs / ours.trainMs).toFixed(1)}x`);
    }
  }
  for (const row of rows.filter((r) => r.kernelMs)) {
    const top = Object.entries(row.kernelMs as Record<string, number>).slice(0, 10);
    console.log(`${row.backend} ${row.kernels} ${row.batch}, kernel ms in one training batch: ` +
        top.map(([name, ms]) => `${name} ${ms}`).join(', '));
  }
  for (const row of kernelRows) {
    const stock = row.stockMs === null ? 'missing' : `${row.stockMs.toFixed(1)} ms`;
    console.log(`wasm ${row.kernel} (${row.shapes}): stock ${stock}, ours ${row.oursMs.toFixed(1)} ms`);
  }
  console.log(`(written to ${path.relative(process.cwd(), resultsFile)})`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
