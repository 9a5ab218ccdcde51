/**
 * The channel-pruning run of the MNIST example: baseline -> channel-pruned
 * and fine-tuned -> shrunk -> int8, at one or more fractions of channels,
 * with test accuracy, parameters, gzipped size and inference time against
 * the baseline. `npm run example:channels [-- --help]`.
 *
 * Exit codes: 0 done, 1 failed while running, 2 bad options or data.
 */
import {mkdirSync, writeFileSync} from 'node:fs';
import {cpus, platform} from 'node:os';
import {join, resolve} from 'node:path';
import {parseArgs} from 'node:util';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';

import {
  getGzippedModelSize, PolynomialDecay, pruneChannels, quantizeDynamicRange, registerTrainingKernels, shrinkModel,
  stripPruning, UpdatePruningStep,
} from '../../src';
import {fileSystem} from '../../src/node';
import {DataError, loadMnist} from './data';
import type {Split} from './data';
import {compileForTraining, createCnn, evaluate} from './model';
import {BACKENDS, DEFAULT_SETTINGS, OptionsError, VALIDATION_SPLIT} from './options';
import type {BackendName} from './options';
import {compareInference} from './inference_timing';
import {createProgressCallback, defaultProgressMode, formatDuration} from './progress';

const USAGE = `Usage: npm run example:channels -- [options]

Trains the seed CNN on MNIST, then for each fraction of channels prunes whole
channels with pruneChannels while fine-tuning, strips the wrappers, shrinks
the model (shrinkModel) and quantizes it to int8.

  --sparsity LIST        fractions of channels to remove, in percent (default 50,75)
  --epochs N             baseline epochs (default ${DEFAULT_SETTINGS.epochs})
  --fine-tune-epochs N   epochs of channel pruning and fine-tuning (default ${DEFAULT_SETTINGS.pruningEpochs})
  --train-samples N      training examples (default ${DEFAULT_SETTINGS.trainSamples}; 20% validate)
  --test-samples N       test examples (default ${DEFAULT_SETTINGS.testSamples})
  --backend NAME         wasm (default) or cpu
  --out DIR              output folder (default examples/mnist/output/channels)
  -h, --help             this text
`;

/** The options of one run. */
export interface ChannelRunOptions {
  sparsities: number[];
  epochs: number;
  fineTuneEpochs: number;
  trainSamples: number;
  testSamples: number;
  backend: BackendName;
  outDir: string;
  batchSize: number;
  /** Interleaved rounds of the inference timing (fewer: a quicker, noisier figure). */
  timingRounds: number;
}

function positiveInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new OptionsError(`--${name} must be a positive integer, but got "${value}".`);
  return n;
}

/** Parses the command line; throws OptionsError for bad usage. Null for --help. */
export function parseChannelArgs(argv: string[]): ChannelRunOptions | null {
  let values;
  try {
    ({values} = parseArgs({args: argv, strict: true, allowPositionals: false, options: {
      'sparsity': {type: 'string'}, 'epochs': {type: 'string'}, 'fine-tune-epochs': {type: 'string'},
      'train-samples': {type: 'string'}, 'test-samples': {type: 'string'}, 'backend': {type: 'string'},
      'out': {type: 'string'}, 'help': {type: 'boolean', short: 'h'},
    }}));
  } catch (error) {
    throw new OptionsError((error as Error).message);
  }
  if (values.help === true) return null;
  const sparsities = (values.sparsity ?? '50,75').split(',').map((text) => {
    const percent = Number(text);
    if (text.trim() === '' || !(percent > 0 && percent < 100)) {
      throw new OptionsError(`--sparsity must list percentages in (0, 100), but got "${values.sparsity}".`);
    }
    return percent / 100;
  });
  const backend = values.backend ?? 'wasm';
  if (!BACKENDS.includes(backend as BackendName)) {
    throw new OptionsError(`--backend must be one of ${BACKENDS.join(', ')}, but got "${backend}".`);
  }
  return {
    sparsities,
    epochs: positiveInteger('epochs', values.epochs, DEFAULT_SETTINGS.epochs),
    fineTuneEpochs: positiveInteger('fine-tune-epochs', values['fine-tune-epochs'], DEFAULT_SETTINGS.pruningEpochs),
    trainSamples: positiveInteger('train-samples', values['train-samples'], DEFAULT_SETTINGS.trainSamples),
    testSamples: positiveInteger('test-samples', values['test-samples'], DEFAULT_SETTINGS.testSamples),
    backend: backend as BackendName,
    outDir: resolve(values.out ?? 'examples/mnist/output/channels'),
    batchSize: 250,
    timingRounds: 15,
  };
}

/** One stage's figures. */
interface Stage {
  testAccuracy: number;
  parameters: number;
  gzippedBytes: number;
}

/** The figures of one fraction of channels. */
interface ChannelResult {
  sparsity: number;
  pruned: Stage;
  shrunk: Stage & {maxRelativeDifference: number; widths: Record<string, number>};
  int8: Stage;
  speedup: {batch1: number; batch32: number};
}

function parameterCount(model: tfl.LayersModel): number {
  return model.weights.reduce((sum, w) => sum + w.shape.reduce((p: number, d) => p * (d as number), 1), 0);
}

/** The largest difference between two models' outputs on `xs`, relative to the largest output. */
function maxRelativeDifference(a: tfl.LayersModel, b: tfl.LayersModel, xs: tf.Tensor): number {
  return tf.tidy(() => {
    const ya = a.predict(xs) as tf.Tensor;
    const yb = b.predict(xs) as tf.Tensor;
    return tf.max(tf.abs(tf.sub(ya, yb))).dataSync()[0] / (tf.max(tf.abs(ya)).dataSync()[0] || 1);
  });
}

/** Output channels (units, filters) of every layer that has a kernel. */
function widths(model: tfl.LayersModel): Record<string, number> {
  const out: Record<string, number> = {};
  for (const layer of model.layers) {
    const kernel = layer.weights.find((w) => /\/kernel(_\d+)?$/.test(w.name));
    if (kernel !== undefined) out[layer.name] = kernel.shape[kernel.shape.length - 1] as number;
  }
  return out;
}

/** Runs the whole channel-pruning comparison; writes results.json and the models under `outDir`. */
export async function runChannelPipeline(options: ChannelRunOptions, log = (line: string) => console.log(line)) {
  registerTrainingKernels({backends: [options.backend]});
  if (!(await tf.setBackend(options.backend))) throw new Error(`the ${options.backend} backend failed to initialise.`);
  await tf.ready();
  mkdirSync(options.outDir, {recursive: true});
  const data = loadMnist(options);
  const models: tfl.LayersModel[] = [];
  const keep = <T extends tfl.LayersModel>(m: T): T => (models.push(m), m);
  const progress = defaultProgressMode();
  const stepsPerEpoch = Math.ceil(Math.round(data.train.count * (1 - VALIDATION_SPLIT)) / options.batchSize);
  const fit = (model: tfl.LayersModel, train: Split, epochs: number, label: string, callbacks: tfl.Callback[] = []) =>
    model.fit(train.xs, train.ys, {
      batchSize: options.batchSize, epochs, validationSplit: VALIDATION_SPLIT, verbose: 0,
      callbacks: [...callbacks, createProgressCallback({label, epochs, batchesPerEpoch: stepsPerEpoch}, progress, log)],
    });
  const stageOf = async (model: tfl.LayersModel, artifacts?: tf.io.ModelArtifacts): Promise<Stage> => ({
    testAccuracy: (await evaluate(model, data.test.xs, data.test.ys, options.batchSize)).testAccuracy,
    parameters: parameterCount(model),
    gzippedBytes: await getGzippedModelSize(artifacts ?? model),
  });
  const start = performance.now();
  try {
    log(`Backend: ${tf.getBackend()} (tfjs ${tf.version_core}); ${data.train.count} training and ${data.test.count} test samples`);
    const baselineModel = keep(createCnn());
    compileForTraining(baselineModel);
    await fit(baselineModel, data.train, options.epochs, 'Baseline');
    const baseline = await stageOf(baselineModel);
    await baselineModel.save(fileSystem(join(options.outDir, 'baseline')));
    log(`Baseline: accuracy ${baseline.testAccuracy.toFixed(4)}, ${baseline.parameters.toLocaleString('en-US')} parameters`);
    const results: ChannelResult[] = [];
    for (const sparsity of options.sparsities) {
      results.push(await channelRun(sparsity));
    }
    const summary = {
      baseline, results, options, stepsPerEpoch, durationMs: performance.now() - start,
      backend: tf.getBackend(), tfjsVersion: tf.version_core,
      machine: {cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, platform: platform()},
    };
    writeFileSync(join(options.outDir, 'results.json'), `${JSON.stringify(summary, null, 2)}\n`);
    for (const line of formatChannelReport(baseline, results)) log(line);
    log(`Total ${formatDuration(summary.durationMs)}; results in ${join(options.outDir, 'results.json')}`);
    return summary;

    async function channelRun(sparsity: number): Promise<ChannelResult> {
      const percent = Math.round(sparsity * 100);
      // Gradual over the first fine-tuning epoch (6 cuts, the last at its end), then held while the rest fine-tunes.
      const cuts = Math.min(6, stepsPerEpoch);
      const frequency = Math.floor(stepsPerEpoch / cuts);
      const schedule = new PolynomialDecay({
        initialSparsity: 0, finalSparsity: sparsity, beginStep: 0, endStep: frequency * cuts, frequency,
      });
      const pruned = keep(pruneChannels(baselineModel, {pruningSchedule: schedule}));
      compileForTraining(pruned);
      log(`\nChannel pruning to ${percent}% of the channels of every group, ${options.fineTuneEpochs} epoch(s)`);
      await fit(pruned, data.train, options.fineTuneEpochs, `Channels ${percent}%`, [new UpdatePruningStep()]);
      const stripped = keep(stripPruning(pruned));
      compileForTraining(stripped);
      const shrunk = keep(shrinkModel(stripped));
      compileForTraining(shrunk);
      const sample = tf.slice(data.test.xs, 0, Math.min(500, data.test.count));
      const difference = maxRelativeDifference(stripped, shrunk, sample);
      sample.dispose();
      const dir = join(options.outDir, `channels-${percent}`);
      await shrunk.save(fileSystem(dir));
      const artifacts = await quantizeDynamicRange(shrunk);
      await fileSystem(`${dir}-int8`).save(artifacts);
      const restored = keep(await tfl.loadLayersModel(fileSystem(`${dir}-int8`)));
      compileForTraining(restored);
      const speed = await compareInference(baselineModel, shrunk, options.timingRounds);
      return {
        sparsity,
        pruned: await stageOf(stripped),
        shrunk: {...await stageOf(shrunk), maxRelativeDifference: difference, widths: widths(shrunk)},
        int8: await stageOf(restored, artifacts),
        speedup: speed,
      };
    }
  } finally {
    for (const model of models) model.dispose();
    tf.dispose([data.train.xs, data.train.ys, data.test.xs, data.test.ys]);
  }
}

/** The report's table. */
export function formatChannelReport(baseline: Stage, results: readonly ChannelResult[]): string[] {
  const lines = ['', '| model | test accuracy | parameters | gzipped bytes | speed-up batch 1 / 32 |', '|---|---|---|---|---|',
    `| baseline | ${baseline.testAccuracy.toFixed(4)} | ${baseline.parameters.toLocaleString('en-US')} | ` +
    `${baseline.gzippedBytes.toLocaleString('en-US')} | 1 / 1 |`];
  for (const r of results) {
    const p = Math.round(r.sparsity * 100);
    const ratio = (bytes: number) => (baseline.gzippedBytes / bytes).toFixed(2);
    lines.push(`| ${p}% channels zeroed (masked) | ${r.pruned.testAccuracy.toFixed(4)} | ${r.pruned.parameters.toLocaleString('en-US')} | ` +
      `${r.pruned.gzippedBytes.toLocaleString('en-US')} (${ratio(r.pruned.gzippedBytes)}x) | - |`);
    lines.push(`| ${p}% shrunk | ${r.shrunk.testAccuracy.toFixed(4)} | ${r.shrunk.parameters.toLocaleString('en-US')} ` +
      `(${(r.shrunk.parameters / baseline.parameters).toFixed(2)}x) | ${r.shrunk.gzippedBytes.toLocaleString('en-US')} ` +
      `(${ratio(r.shrunk.gzippedBytes)}x) | ${r.speedup.batch1.toFixed(2)}x / ${r.speedup.batch32.toFixed(2)}x |`);
    lines.push(`| ${p}% shrunk, int8 | ${r.int8.testAccuracy.toFixed(4)} | ${r.int8.parameters.toLocaleString('en-US')} | ` +
      `${r.int8.gzippedBytes.toLocaleString('en-US')} (${ratio(r.int8.gzippedBytes)}x) | - |`);
  }
  return lines;
}

async function main(argv: string[]): Promise<number> {
  const options = parseChannelArgs(argv);
  if (options === null) {
    process.stdout.write(USAGE);
    return 0;
  }
  await runChannelPipeline(options);
  return 0;
}

if (process.argv[1] !== undefined && /channels\.ts$/.test(process.argv[1])) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  }, (error: unknown) => {
    const code = error instanceof OptionsError || error instanceof DataError ? 2 : 1;
    console.error(`mnist channels example: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    if (code === 1 && error instanceof Error && error.stack) console.error(error.stack);
    process.exitCode = code;
  });
}
