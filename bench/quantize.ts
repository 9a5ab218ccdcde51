/**
 * Dynamic range quantization benchmarks, with the figures quoted in
 * docs/quantization.md and docs/performance.md.
 *
 *   npx tsx bench/quantize.ts [all|speed|sizes|per-channel]      (default: all)
 *
 * - speed: quantizes a 25M-parameter model (two Dense layers, ResNet-50's
 *   parameter count) in a fresh process per mode; time and peak memory.
 * - sizes: the seed's CNN with seeded Gaussian weights, baseline / pruned 70% /
 *   pruned + quantized; gzipped sizes (zlib level 9 through pako, as
 *   getGzippedModelSize; Node's zlib level 6; canonical zlib level 6, that is
 *   Python's zipfile as the seed used it) and the information bound.
 * - per-channel: reconstruction error per tensor vs per channel on a kernel
 *   whose channels have very different scales, and on an MLP trained on MNIST.
 *
 * Writes the results to bench/results-quantize.json (git-ignored), keeping
 * the sections of earlier runs that were not run again.
 */
import {spawnSync} from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {fileURLToPath} from 'node:url';
import * as zlib from 'node:zlib';

import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {gzip} from 'pako';

import {getGzippedModelSize, gzippedByteLength, saveToMemory} from '../src/io/gzipped_size';
import {modelJSONBytes, weightBytes} from '../src/io/model_json';
import {loadQuantizedLayersModel} from '../src/quantization/load';
import {QuantizeDynamicRangeOptions, quantizeDynamicRange} from '../src/quantization/quantize';
import {gaussians, pruneKernels, seedCnn} from '../test/quantization/fixtures';
import {informationBound} from './information_bound';
import {bundledMnistDir, readSplit} from '../examples/mnist/data';

const here = path.dirname(fileURLToPath(import.meta.url));
const MB = 1e6;

function machine() {
  return {
    nproc: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', node: process.version,
    loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

// ---------------------------------------------------------------- speed

const SPEED_MODES: Record<string, QuantizeDynamicRangeOptions> = {
  'int8': {},
  'int8 per-channel': {perChannel: true},
  'uint8': {dtype: 'uint8'},
  'uint16': {dtype: 'uint16'},
  'float16': {dtype: 'float16'},
};

/** Runs in a child process: builds the 25M-parameter model, quantizes it `runs` times. */
async function speedChild(mode: string): Promise<void> {
  await tf.setBackend('cpu');
  const rssBefore = process.memoryUsage().rss;
  // Zero-initialized layers, then seeded values one layer at a time: building never holds two copies.
  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({units: 5000, inputShape: [2500], kernelInitializer: 'zeros'}),
      tfl.layers.dense({units: 2500, kernelInitializer: 'zeros'}),
    ],
  });
  model.layers.forEach((layer, i) => {
    const [kernel, bias] = layer.getWeights();
    const values = tf.tensor(gaussians(kernel.size, 100 + i, 0.02), kernel.shape);
    layer.setWeights([values, bias]);
    values.dispose();
  });
  const params = model.countParams();
  const rssModel = process.memoryUsage().rss;
  const peakBefore = process.resourceUsage().maxRSS * 1024;
  const times: number[] = [];
  for (let run = 0; run < 5; run++) {
    const start = performance.now();
    const artifacts = await quantizeDynamicRange(model, SPEED_MODES[mode]);
    times.push(performance.now() - start);
    if (run === 0) {
      // The first run's peak, before later runs' garbage accumulates.
      const peak = process.resourceUsage().maxRSS * 1024;
      process.stdout.write(JSON.stringify({
        firstRunPeakRssMB: peak / MB, peakRssBeforeQuantizeMB: peakBefore / MB,
        outputMB: weightBytes(artifacts).byteLength / MB,
      }) + '\n');
    }
  }
  const ms = median(times);
  process.stdout.write(JSON.stringify({
    mode, params, float32MB: (params * 4) / MB, runsMs: times.map((t) => Math.round(t)), medianMs: Math.round(ms),
    mbPerSecond: Math.round((params * 4) / MB / (ms / 1000)),
    rssBeforeModelMB: rssBefore / MB, rssWithModelMB: rssModel / MB,
  }) + '\n');
}

function speed() {
  const rows = [];
  for (const mode of Object.keys(SPEED_MODES)) {
    const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), 'speed-child', mode], {
      encoding: 'utf8', maxBuffer: 1 << 24,
    });
    if (child.status !== 0) throw new Error(`speed child failed: ${child.stderr}`);
    const [first, result] = child.stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    // Memory the model and its quantization need, on top of the process before the model existed.
    const modelRelatedPeakMB = first.firstRunPeakRssMB - result.rssBeforeModelMB;
    const row = {...result, ...first, modelRelatedPeakMB: Math.round(modelRelatedPeakMB),
      peakOverModelSize: Number((modelRelatedPeakMB / result.float32MB).toFixed(2))};
    rows.push(row);
    console.log(`${mode.padEnd(17)} ${String(row.medianMs).padStart(5)} ms  ${String(row.mbPerSecond).padStart(5)} MB/s` +
      `  peak ${row.modelRelatedPeakMB} MB over the process without the model (${row.peakOverModelSize}x the ` +
      `${row.float32MB} MB model; output ${row.outputMB.toFixed(1)} MB)`);
  }
  return rows;
}

// ---------------------------------------------------------------- sizes and the information bound

/** gzip(model.json) + gzip(weights.bin) with Node's zlib (Chromium's fork, bundled with Node). */
function zlibSize(artifacts: tf.io.ModelArtifacts, options: zlib.ZlibOptions): number {
  return zlib.gzipSync(modelJSONBytes(artifacts), options).length + zlib.gzipSync(weightBytes(artifacts), options).length;
}

/**
 * The same with canonical zlib, as Python's zlib module and zipfile use it: pako
 * with `legacyHash` (zlib's original string hash) writes canonical zlib's bytes.
 */
function canonicalZlibSize(artifacts: tf.io.ModelArtifacts, level: number): number {
  const size = (data: Uint8Array) => gzip(data, {level, legacyHash: true}).length;
  return size(modelJSONBytes(artifacts)) + size(weightBytes(artifacts));
}

async function sizeTable(label: string, variants: Array<[string, tf.io.ModelArtifacts]>) {
  const rows = variants.map(([name, artifacts]) => {
    const json = gzippedByteLength(modelJSONBytes(artifacts));
    const weights = gzippedByteLength(weightBytes(artifacts));
    const bound = Math.round(informationBound(artifacts));
    return {
      variant: name, rawWeightBytes: weightBytes(artifacts).byteLength, gzipped: json + weights, gzippedModelJson: json,
      gzippedWeights: weights, zlib6: zlibSize(artifacts, {level: 6}), canonicalZlib6: canonicalZlibSize(artifacts, 6),
      zlibHuffmanOnly: zlibSize(artifacts, {level: 9, strategy: zlib.constants.Z_HUFFMAN_ONLY}),
      weightsBound: bound, boundEfficiency: Number((bound / weights).toFixed(3)),
    };
  });
  const base = rows[0];
  console.log(`\n${label}`);
  console.log(`${'variant'.padEnd(28)} ${'pako 9'.padStart(10)} ${'ratio'.padStart(7)} |` +
    ` ${'zlib 6 (Node)'.padStart(13)} ${'ratio'.padStart(7)} | ${'canonical 6'.padStart(11)} ${'ratio'.padStart(7)} |` +
    ' bound + json  ratio at bound | gzip/bound');
  for (const r of rows) {
    const ratio = (x: number, y: number) => `${(x / y).toFixed(2)}x`.padStart(7);
    const atBound = r.weightsBound + r.gzippedModelJson;
    console.log(`${r.variant.padEnd(28)} ${String(r.gzipped).padStart(10)} ${ratio(base.gzipped, r.gzipped)} |` +
      ` ${String(r.zlib6).padStart(13)} ${ratio(base.zlib6, r.zlib6)} |` +
      ` ${String(r.canonicalZlib6).padStart(11)} ${ratio(base.canonicalZlib6, r.canonicalZlib6)} |` +
      ` ${String(atBound).padStart(12)} ${ratio(base.gzipped, atBound).padStart(14)} |` +
      ` ${(r.gzippedWeights / r.weightsBound).toFixed(2).padStart(10)}`);
  }
  return rows;
}

async function sizes() {
  await tf.setBackend('cpu');
  const baseline = seedCnn(1);
  const pruned = seedCnn(1);
  pruneKernels(pruned, 0.7);
  // Why level 9: zlib's levels 1..9 through pako on the pruned int8 weights.bin, with Node's (Chromium's)
  // string hash, which getGzippedModelSize uses, and with canonical zlib's (Python's zipfile).
  const quantizedWeights = weightBytes(await quantizeDynamicRange(pruned));
  const levelRange = [1, 2, 3, 4, 5, 6, 7, 8, 9];
  const levels = {
    pako: levelRange.map((level) => gzip(quantizedWeights, {level}).length),
    canonical: levelRange.map((level) => gzip(quantizedWeights, {level, legacyHash: true}).length),
  };
  console.log(`\nzlib levels 1..9 through pako on the pruned int8 weights.bin (${quantizedWeights.byteLength} B):`);
  console.log(`  pako (= Node's zlib): ${levels.pako.join(', ')}`);
  console.log(`  canonical zlib (legacyHash, = Python's): ${levels.canonical.join(', ')}`);
  const rows = await sizeTable('Seed CNN (431,242 parameters), seeded Gaussian weights, kernels pruned to 70%', [
    ['baseline float32', await saveToMemory(baseline)],
    ['pruned float32', await saveToMemory(pruned)],
    ['pruned int8 (default)', await quantizeDynamicRange(pruned)],
    ['pruned int8 per-channel', await quantizeDynamicRange(pruned, {perChannel: true})],
    ['pruned uint8 (affine)', await quantizeDynamicRange(pruned, {dtype: 'uint8'})],
    ['pruned float16', await quantizeDynamicRange(pruned, {dtype: 'float16'})],
    ['unpruned int8', await quantizeDynamicRange(baseline)],
  ]);
  // How long getGzippedModelSize takes (median of 3), for docs/performance.md.
  const timing: Record<string, number> = {};
  for (const [name, source] of [['baseline float32 model', baseline], ['pruned float32 model', pruned],
    ['pruned int8 artifacts', await quantizeDynamicRange(pruned)]] as const) {
    const times: number[] = [];
    for (let run = 0; run < 3; run++) {
      const start = performance.now();
      await getGzippedModelSize(source);
      times.push(performance.now() - start);
    }
    timing[name] = Math.round(median(times));
  }
  console.log(`\ngetGzippedModelSize, median of 3 (ms): ${JSON.stringify(timing)}`);
  baseline.dispose();
  pruned.dispose();
  return {zlibLevels: levels, table: rows, getGzippedModelSizeMs: timing};
}

// ---------------------------------------------------------------- per-channel error

function meanRelativeError(original: Float32Array, decoded: Float32Array, channels: number): number {
  let total = 0;
  for (let c = 0; c < channels; c++) {
    let error = 0;
    let power = 0;
    for (let i = c; i < original.length; i += channels) {
      error += (decoded[i] - original[i]) ** 2;
      power += original[i] ** 2;
    }
    total += Math.sqrt(error / power);
  }
  return total / channels;
}

function mnist(split: 'train' | 't10k') {
  const {images, labels, count} = readSplit(bundledMnistDir(), split);
  return tf.tidy(() => ({
    x: tf.div(tf.tensor(Float32Array.from(images), [count, 784]), 255) as tf.Tensor2D,
    y: tf.cast(tf.oneHot(tf.tensor1d(Int32Array.from(labels), 'int32'), 10), 'float32') as tf.Tensor2D,
    labels: Int32Array.from(labels),
  }));
}

function accuracy(model: tfl.LayersModel, x: tf.Tensor, labels: Int32Array): number {
  const predicted = tf.tidy(() => tf.argMax(model.predict(x) as tf.Tensor, 1).dataSync());
  let right = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) right++;
  return right / labels.length;
}

function kernelOf(model: tfl.LayersModel, layer: number): Float32Array {
  return model.layers[layer].getWeights()[0].dataSync() as Float32Array;
}

async function perChannel() {
  await tf.setBackend('cpu');
  // 1. A Dense kernel [256, 16] whose channel c has std 10^(-3c/15): from 1 down to 0.001.
  const uneven = tfl.sequential({layers: [tfl.layers.dense({units: 16, inputShape: [256], useBias: false})]});
  const values = gaussians(256 * 16, 21);
  for (let i = 0; i < values.length; i++) values[i] *= 10 ** ((-3 * (i % 16)) / 15);
  uneven.setWeights([tf.tensor(values, [256, 16])]);
  const synthetic: Record<string, number> = {};
  for (const [name, options] of [['per tensor', {}], ['per channel', {perChannel: true}]] as const) {
    const restored = await loadQuantizedLayersModel(await quantizeDynamicRange(uneven, options));
    synthetic[name] = meanRelativeError(values, kernelOf(restored, 0), 16);
    restored.dispose();
  }
  console.log('\nUneven channels (Dense 256x16, channel std 1 ... 0.001): mean relative RMS error per channel');
  console.log(`  per tensor ${(100 * synthetic['per tensor']).toFixed(2)}%, per channel ${(100 * synthetic['per channel']).toFixed(2)}%`);

  // 2. An MLP 784-256-10 trained for 3 epochs on MNIST (wasm backend), then pruned to 70% one-shot.
  await tf.setBackend('wasm');
  const train = mnist('train');
  const test = mnist('t10k');
  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({units: 256, inputShape: [784], activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({seed: 1})}),
      tfl.layers.dense({units: 10, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({seed: 2})}),
    ],
  });
  model.compile({optimizer: tf.train.adam(0.001), loss: 'categoricalCrossentropy'});
  const start = performance.now();
  await model.fit(train.x, train.y, {epochs: 3, batchSize: 128, shuffle: false, verbose: 0});
  const trainSeconds = (performance.now() - start) / 1000;
  const trained: Record<string, unknown> = {trainSeconds: Number(trainSeconds.toFixed(1))};
  const measure = async (label: string, source: tfl.LayersModel) => {
    const entry: Record<string, number> = {float32: accuracy(source, test.x, test.labels)};
    for (const [name, options] of [['int8 per tensor', {}], ['int8 per channel', {perChannel: true}]] as const) {
      const restored = await loadQuantizedLayersModel(await quantizeDynamicRange(source, options));
      entry[name] = accuracy(restored, test.x, test.labels);
      entry[`${name} kernel error`] = meanRelativeError(kernelOf(source, 0), kernelOf(restored, 0), 256);
      restored.dispose();
    }
    trained[label] = entry;
    console.log(`  ${label}: accuracy float32 ${entry.float32.toFixed(4)}, int8 per tensor ` +
      `${entry['int8 per tensor'].toFixed(4)}, per channel ${entry['int8 per channel'].toFixed(4)}; first kernel's ` +
      `mean relative error per channel ${(100 * entry['int8 per tensor kernel error']).toFixed(2)}% vs ` +
      `${(100 * entry['int8 per channel kernel error']).toFixed(2)}%`);
  };
  console.log(`\nMLP 784-256-10 trained 3 epochs on MNIST (wasm, ${trainSeconds.toFixed(0)} s)`);
  await measure('trained', model);
  await tf.setBackend('cpu'); // pruneKernels reads and writes weights synchronously
  const pruned = await tfl.loadLayersModel(tf.io.fromMemory(await saveToMemory(model)));
  pruneKernels(pruned, 0.7);
  await tf.setBackend('wasm');
  const prunedCopy = await tfl.loadLayersModel(tf.io.fromMemory(await saveToMemory(pruned)));
  await measure('pruned 70% (one shot, no fine-tuning)', prunedCopy);
  await tf.setBackend('cpu');
  const sizeRows = await sizeTable('MLP 784-256-10 trained on MNIST (203,530 parameters)', [
    ['baseline float32', await saveToMemory(model)],
    ['pruned float32', await saveToMemory(pruned)],
    ['pruned int8 (default)', await quantizeDynamicRange(pruned)],
    ['pruned int8 per-channel', await quantizeDynamicRange(pruned, {perChannel: true})],
  ]);
  return {syntheticUnevenChannels: synthetic, trainedMlp: trained, trainedMlpSizes: sizeRows};
}

// ---------------------------------------------------------------- main

async function main() {
  const [command = 'all', mode] = process.argv.slice(2);
  if (command === 'speed-child') return speedChild(mode);
  const results: Record<string, unknown> = {machine: machine(), date: new Date().toISOString()};
  console.log(JSON.stringify(results.machine));
  if (command === 'all' || command === 'sizes') results.sizes = await sizes();
  if (command === 'all' || command === 'per-channel') results.perChannel = await perChannel();
  if (command === 'all' || command === 'speed') {
    console.log('\nQuantizing 25,007,500 float32 parameters (100 MB), median of 5 runs, fresh process per mode');
    results.speed = speed();
  }
  // Sections not run this time keep their previous results.
  const file = path.join(here, 'results-quantize.json');
  const previous = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
  fs.writeFileSync(file, JSON.stringify({...previous, ...results}, null, 2));
  console.log(`\nwrote ${path.relative(process.cwd(), file)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
