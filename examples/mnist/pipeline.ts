/**
 * The seed article's pipeline, end to end: train a CNN on MNIST, prune it
 * with PolynomialDecay(0.40 -> 0.70), strip the wrappers, quantize the
 * weights to int8, and measure test accuracy and gzipped size at each stage.
 */
import {mkdirSync, writeFileSync} from 'node:fs';
import {cpus, platform} from 'node:os';
import {join, resolve} from 'node:path';
import {performance} from 'node:perf_hooks';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import {getThreadsCount as wasmThreadsCount} from '@tensorflow/tfjs-backend-wasm';

import {
  clusterWeights, getGzippedModelSize, getSparsity, pruneLowMagnitude, quantizeDynamicRange, stripClustering,
  stripPruning, UpdatePruningStep,
} from '../../src';
import type {WeightSparsity} from '../../src';
// Not (yet) in the main entry point: the kernels are an opt-in module of their own.
import {registerTrainingKernels} from '../../src';
import {fileSystem, useWasmThreads} from '../../src/node';
import {buildChartSpec, renderSvg} from './chart';
import type {EpochAccuracy, SparsityPoint} from './chart';
import {loadMnist} from './data';
import type {MnistData, Split} from './data';
import {compileForTraining, createCnn, evaluate} from './model';
import type {Evaluation} from './model';
import {resolveOptions, VALIDATION_SPLIT} from './options';
import type {BackendName, PipelineOptions} from './options';
import {createProgressCallback, defaultProgressMode} from './progress';
import type {ProgressMode} from './progress';
import {buildSchedule, planSchedule} from './schedule_plan';
import type {SchedulePlan} from './schedule_plan';
import {overallSparsity, SparsityRecorder} from './sparsity_recorder';

/** The figures the seed article publishes (SPEC section 9), saved next to ours for comparison. */
export const ARTICLE_RESULTS = {
  baseline: {testAccuracy: 0.9915, gzippedBytes: 1601609},
  pruned: {testAccuracy: 0.9924, gzippedBytes: 679958},
  quantized: {gzippedBytes: 186745},
  ratios: {baselineToPruned: 2.35, baselineToQuantized: 8.58},
} as const;

/** Test figures and size of one stage's model. */
export interface StageResult extends Evaluation {
  /** `getGzippedModelSize`: gzip(model.json) + gzip(weights.bin). */
  gzippedBytes: number;
  /** The folder the model was saved to (model.json + weights.bin). */
  savedTo: string;
}

/** How many times smaller (gzipped) one stage is than another. */
export interface Ratios {
  baselineToPruned: number;
  baselineToQuantized: number;
  prunedToQuantized: number;
  /** With `--clusters`. */
  baselineToClustered?: number;
  /** With `--clusters`: the int8 model against the clustered (float32) one. */
  clusteredToQuantized?: number;
}

/** The clustering stage (with `--clusters K`): the pruned model clustered with its sparsity kept, stripped. */
export interface ClusteredStage extends StageResult {
  clusters: number;
  /** Per clustered kernel of the stripped model: distinct values, distinct non-zero values, zeros. */
  kernels: Array<{weight: string; size: number; distinct: number; distinctNonZero: number; zeros: number}>;
}

/** Wall time of each stage, in milliseconds. */
export interface Durations {
  setup: number;
  loadData: number;
  baselineTraining: number;
  baselineEvaluation: number;
  pruningTraining: number;
  prunedEvaluation: number;
  quantization: number;
  quantizedEvaluation: number;
  /** With `--clusters`. */
  clusteringTraining?: number;
  clusteredEvaluation?: number;
  total: number;
}

/** Everything a run produces; also written to `results.json`. */
export interface PipelineResults {
  baseline: StageResult;
  pruned: StageResult;
  /** With `--clusters K`: the pruned model clustered (sparsity kept); `quantized` then quantizes this one. */
  clustered?: ClusteredStage;
  quantized: StageResult & {scheme: string};
  ratios: Ratios;
  /** Per pruned weight of the stripped model (each conv and dense kernel). */
  sparsity: WeightSparsity[];
  /** All pruned kernels together. */
  overallSparsity: number;
  schedule: SchedulePlan;
  /** Measured sparsity of the pruned kernels at step 0 and after each mask update. */
  sparsityHistory: SparsityPoint[];
  validation: EpochAccuracy[];
  durationsMs: Durations;
  backend: BackendName;
  /** Threads of the backend's kernels (wasm's threaded build; 1 on cpu). */
  threads: number;
  /** Backends that got the package's training kernels. */
  trainingKernels: string[];
  data: {dataDir: string; trainSamples: number; trainCount: number; validationCount: number; testSamples: number};
  options: PipelineOptions;
  article: typeof ARTICLE_RESULTS;
  files: {results: string; chart: string};
  tfjsVersion: string;
  /** Where the run happened: figures only compare on the same kind of machine. */
  machine: {cpu: string; cores: number; node: string; platform: string};
}

/** How a run reports while it works. */
export interface PipelineHooks {
  /** Receives one line per stage. Default: console.log. */
  log?: (line: string) => void;
  /** Default: a bar on a terminal, lines otherwise. */
  progress?: ProgressMode;
}

/**
 * Runs the whole pipeline and writes the models, `results.json` and
 * `schedule.svg` into `options.outDir`.
 *
 * @throws OptionsError for invalid options; DataError when the data cannot be read.
 */
export async function runPipeline(
    partialOptions: Partial<PipelineOptions> = {}, hooks: PipelineHooks = {}): Promise<PipelineResults> {
  const options = resolveOptions(partialOptions);
  const run = new Run(options, hooks);
  const restoreRandom = options.seed === undefined ? () => {} : seedMathRandom(options.seed);
  try {
    return await run.execute();
  } finally {
    restoreRandom();
    run.dispose();
  }
}

/**
 * tfjs draws weight initialisation, dropout masks and fit's shuffling from
 * `Math.random` when no seed is given, so a seeded generator in its place
 * makes a run repeatable (on one backend). Returns the function that puts the
 * original back.
 */
function seedMathRandom(seed: number): () => void {
  const original = Math.random;
  let state = seed >>> 0;
  // mulberry32: a small, well-distributed 32-bit generator.
  Math.random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => {
    Math.random = original;
  };
}

class Run {
  private readonly log: (line: string) => void;
  private readonly progress: ProgressMode;
  private readonly outDir: string;
  private readonly models: tfl.LayersModel[] = [];
  private data?: MnistData;
  private readonly durations: Partial<Durations> = {};

  constructor(private readonly options: PipelineOptions, hooks: PipelineHooks) {
    this.log = hooks.log ?? ((line) => console.log(line));
    this.progress = hooks.progress ?? defaultProgressMode();
    this.outDir = resolve(options.outDir);
  }

  async execute(): Promise<PipelineResults> {
    const start = performance.now();
    mkdirSync(this.outDir, {recursive: true});
    const {kernels: trainingKernels, threads} = await this.timed('setup', () => setUpBackend(this.options));
    this.log(`Backend: ${tf.getBackend()} (tfjs ${tf.version_core}, ${threads} thread${threads === 1 ? '' : 's'}), ` +
      `training kernels: ${trainingKernels.length > 0 ? 'registered' : 'not available'}`);
    const data = this.data = await this.timed('loadData', async () => loadMnist(this.options));
    const plan = planSchedule({
      ...this.options, validationSplit: VALIDATION_SPLIT, finalSparsity: this.options.sparsityPercent / 100,
    });
    this.log(`Data: ${data.train.count} training samples (${plan.trainCount} for training, ` +
      `${data.train.count - plan.trainCount} for validation), ${data.test.count} test samples, from ${data.dataDir}`);

    const baseline = await this.baselinePhase(data, plan);
    const pruning = await this.pruningPhase(baseline.model, data, plan);
    const clustering = this.options.clusters === undefined ? undefined :
      await this.clusteringPhase(pruning.stripped, data, plan, this.options.clusters);
    const quantized = await this.quantizeStage(clustering?.stripped ?? pruning.stripped, data.test);
    const validation = [...baseline.validation, ...pruning.validation, ...(clustering?.validation ?? [])];
    const chart = await this.writeChart(plan, pruning.sparsityHistory, validation);
    this.durations.total = performance.now() - start;

    const results: PipelineResults = {
      baseline: baseline.stage,
      pruned: pruning.stage,
      ...(clustering === undefined ? {} : {clustered: clustering.stage}),
      quantized,
      ratios: ratiosOf(baseline.stage, pruning.stage, quantized, clustering?.stage),
      sparsity: pruning.sparsity,
      overallSparsity: overallSparsity(pruning.sparsity),
      schedule: plan,
      sparsityHistory: pruning.sparsityHistory,
      validation,
      durationsMs: this.durations as Durations,
      backend: this.options.backend,
      threads,
      trainingKernels,
      data: {
        dataDir: data.dataDir, trainSamples: data.train.count, trainCount: plan.trainCount,
        validationCount: data.train.count - plan.trainCount, testSamples: data.test.count,
      },
      options: this.options,
      article: ARTICLE_RESULTS,
      files: {results: join(this.outDir, 'results.json'), chart},
      tfjsVersion: tf.version_core,
      machine: {cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, platform: platform()},
    };
    writeFileSync(results.files.results, `${JSON.stringify(results, null, 2)}\n`);
    return results;
  }

  /** Trains, evaluates and saves the article's CNN. */
  private async baselinePhase(data: MnistData, plan: SchedulePlan) {
    const model = this.keep(createCnn());
    compileForTraining(model);
    this.log(`\nTraining the baseline: ${this.options.epochs} epoch(s) of ${plan.stepsPerEpoch} batches of ` +
      `${this.options.batchSize}`);
    const history = await this.timed('baselineTraining',
        () => this.fit(model, data.train, this.options.epochs, plan.stepsPerEpoch, 'Baseline'));
    const evaluation = await this.timed('baselineEvaluation', () => this.evaluate(model, data.test));
    const stage = await this.saveStage('baseline', model, evaluation);
    return {model, stage, validation: epochAccuracies(history, 'baseline', 0)};
  }

  /**
   * Wraps the trained baseline with pruneLowMagnitude, trains it with
   * UpdatePruningStep while recording the measured sparsity, evaluates it,
   * strips the wrappers and saves the result.
   */
  private async pruningPhase(baseline: tfl.LayersModel, data: MnistData, plan: SchedulePlan) {
    const before: SparsityPoint = {step: 0, sparsity: overallSparsity(await getSparsity(baseline))};
    this.log(`\nPruning: ${describePlan(plan)}`);
    this.log(`  ${plan.frequencyNote}`);
    const pruned = this.keep(pruneLowMagnitude(baseline, {pruningSchedule: buildSchedule(plan)}));
    compileForTraining(pruned);
    const recorder = new SparsityRecorder(buildSchedule(plan), plan.endStep);
    const history = await this.timed('pruningTraining', () => this.fit(pruned, data.train,
        this.options.pruningEpochs, plan.stepsPerEpoch, 'Pruning', [new UpdatePruningStep(), recorder]));
    const evaluation = await this.timed('prunedEvaluation', () => this.evaluate(pruned, data.test));
    const stripped = this.keep(stripPruning(pruned));
    const stage = await this.saveStage('pruned', stripped, evaluation);
    return {
      stripped,
      stage,
      sparsity: await getSparsity(stripped),
      sparsityHistory: [before, ...recorder.points],
      validation: epochAccuracies(history, 'pruning', this.options.epochs),
    };
  }

  /**
   * Clusters the stripped pruned model with its sparsity kept
   * (`preserveSparsity`, k-means++ centroids), fine-tunes it, evaluates it,
   * strips the wrappers and saves the result.
   */
  private async clusteringPhase(pruned: tfl.LayersModel, data: MnistData, plan: SchedulePlan, clusters: number) {
    const epochs = this.options.clusteringEpochs;
    this.log(`\nClustering: ${clusters} clusters per kernel, sparsity kept, ${epochs} epoch(s)`);
    const clustered = this.keep(clusterWeights(pruned, {numberOfClusters: clusters, preserveSparsity: true}));
    compileForTraining(clustered);
    const history = await this.timed('clusteringTraining',
        () => this.fit(clustered, data.train, epochs, plan.stepsPerEpoch, 'Clustering'));
    const evaluation = await this.timed('clusteredEvaluation', () => this.evaluate(clustered, data.test));
    const stripped = this.keep(stripClustering(clustered));
    const stage = await this.saveStage('clustered', stripped, evaluation);
    const kernels = (await getSparsity(stripped)).map(({layer, weight, size, zeros}) => {
      const values = stripped.getLayer(layer).getWeights()[0].dataSync();
      const distinct = new Set(Array.from(values));
      return {weight, size, distinct: distinct.size, distinctNonZero: distinct.size - (distinct.has(0) ? 1 : 0), zeros};
    });
    return {
      stripped,
      stage: {...stage, clusters, kernels},
      validation: epochAccuracies(history, 'clustering', this.options.epochs + this.options.pruningEpochs),
    };
  }

  dispose(): void {
    for (const model of this.models) model.dispose();
    if (this.data) tf.dispose([this.data.train.xs, this.data.train.ys, this.data.test.xs, this.data.test.ys]);
  }

  private keep<T extends tfl.LayersModel>(model: T): T {
    this.models.push(model);
    return model;
  }

  private async timed<T>(stage: keyof Durations, work: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await work();
    } finally {
      this.durations[stage] = (this.durations[stage] ?? 0) + performance.now() - start;
    }
  }

  private async fit(model: tfl.LayersModel, train: Split, epochs: number, batchesPerEpoch: number, label: string,
      callbacks: tfl.Callback[] = []): Promise<tfl.History> {
    const progress = createProgressCallback({label, epochs, batchesPerEpoch}, this.progress, this.log);
    return model.fit(train.xs, train.ys, {
      batchSize: this.options.batchSize,
      epochs,
      validationSplit: VALIDATION_SPLIT,
      callbacks: [...callbacks, progress],
      verbose: 0,
    });
  }

  private async evaluate(model: tfl.LayersModel, test: Split): Promise<Evaluation> {
    return evaluate(model, test.xs, test.ys, this.options.batchSize);
  }

  private async saveStage(name: string, model: tfl.LayersModel, evaluation: Evaluation): Promise<StageResult> {
    const savedTo = join(this.outDir, name);
    await model.save(fileSystem(savedTo));
    const gzippedBytes = await getGzippedModelSize(model);
    this.log(`${capitalize(name)} model: test accuracy ${evaluation.testAccuracy.toFixed(4)}, ` +
      `${gzippedBytes.toLocaleString('en-US')} bytes gzipped, saved to ${savedTo}`);
    return {...evaluation, gzippedBytes, savedTo};
  }

  /**
   * Quantizes the stripped model, saves it, loads it back from disk with
   * stock `tf.loadLayersModel` (through the package's file handler) and
   * evaluates that copy.
   */
  private async quantizeStage(stripped: tfl.LayersModel, test: Split): Promise<PipelineResults['quantized']> {
    const savedTo = join(this.outDir, 'quantized');
    const artifacts = await this.timed('quantization', () => quantizeDynamicRange(stripped));
    await fileSystem(savedTo).save(artifacts);
    const gzippedBytes = await getGzippedModelSize(artifacts);
    const evaluation = await this.timed('quantizedEvaluation', async () => {
      const restored = this.keep(await tfl.loadLayersModel(fileSystem(savedTo)));
      compileForTraining(restored);
      return this.evaluate(restored, test);
    });
    const scheme = /\(([^()]*)\)$/.exec(artifacts.convertedBy ?? '')?.[1] ?? 'int8';
    this.log(`Quantized model (${scheme}): test accuracy ${evaluation.testAccuracy.toFixed(4)} after loading it ` +
      `back, ${gzippedBytes.toLocaleString('en-US')} bytes gzipped, saved to ${savedTo}`);
    return {...evaluation, gzippedBytes, savedTo, scheme};
  }

  private async writeChart(plan: SchedulePlan, measured: SparsityPoint[], validation: EpochAccuracy[]): Promise<string> {
    const schedule = buildSchedule(plan);
    const target = Array.from({length: plan.endStep + 1}, (_, step) => ({step, sparsity: schedule.call(step).sparsity}));
    const spec = buildChartSpec({target, measured, validation, subtitle: describePlan(plan)});
    const path = join(this.outDir, 'schedule.svg');
    writeFileSync(path, await renderSvg(spec));
    return path;
  }
}

function ratiosOf(baseline: StageResult, pruned: StageResult, quantized: StageResult, clustered?: StageResult): Ratios {
  return {
    baselineToPruned: baseline.gzippedBytes / pruned.gzippedBytes,
    baselineToQuantized: baseline.gzippedBytes / quantized.gzippedBytes,
    prunedToQuantized: pruned.gzippedBytes / quantized.gzippedBytes,
    ...(clustered === undefined ? {} : {
      baselineToClustered: baseline.gzippedBytes / clustered.gzippedBytes,
      clusteredToQuantized: clustered.gzippedBytes / quantized.gzippedBytes,
    }),
  };
}

/**
 * Registers the training kernels for the backend and switches to it; wasm
 * starts with `options.threads` threads (every core by default), or keeps
 * the threads it has if something started it before and no count was asked.
 */
async function setUpBackend(options: PipelineOptions): Promise<{kernels: string[]; threads: number}> {
  const {backend} = options;
  const kernels = registerTrainingKernels({backends: [backend]});
  if (backend === 'wasm') {
    const started = tf.engine().registry['wasm'] !== undefined && options.threads === undefined;
    const threads = started ? wasmThreadsCount() : await useWasmThreads({threads: options.threads});
    if (started) await tf.setBackend('wasm');
    return {kernels, threads};
  }
  if (!(await tf.setBackend(backend))) throw new Error(`the ${backend} backend failed to initialise.`);
  await tf.ready();
  return {kernels, threads: 1};
}

function epochAccuracies(history: tfl.History, phase: EpochAccuracy['phase'], firstEpoch: number): EpochAccuracy[] {
  const values = (history.history.val_acc ?? history.history.val_accuracy ?? []) as number[];
  return values.map((valAccuracy, i) => ({epoch: firstEpoch + i + 1, phase, valAccuracy}));
}

/** The schedule in one line, e.g. `PolynomialDecay 0.4 -> 0.7 (power 3), steps 0 -> 960, every 96 steps`. */
export function describePlan(plan: SchedulePlan): string {
  return `PolynomialDecay ${plan.initialSparsity} -> ${plan.finalSparsity} (power ${plan.power}), ` +
    `steps ${plan.beginStep} -> ${plan.endStep} (${plan.stepsPerEpoch} per epoch), every ${plan.frequency} step(s)`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
