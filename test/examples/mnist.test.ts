// The MNIST example (examples/mnist): its IDX reader, its schedule sizing and
// option parsing in-process, and the whole pipeline through its command line
// (the chart needs vega, an ES module that jest's CommonJS runtime cannot load,
// so the pipeline runs in a child process under tsx).
import {execFile} from 'node:child_process';
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {gzipSync} from 'node:zlib';

import * as tf from '@tensorflow/tfjs-core';

import {bundledMnistDir, DataError, loadMnist, parseIdx, readSplit, toTensors} from '../../examples/mnist/data';
import {ARTICLE_SETTINGS, OptionsError, parseCliArgs} from '../../examples/mnist/options';
import {chooseFrequency, planSchedule, trainingCount} from '../../examples/mnist/schedule_plan';

const ROOT = resolve(__dirname, '../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');
const CLI = join(ROOT, 'examples/mnist/cli.ts');

/** An IDX file of unsigned bytes with the given dimensions. */
function idx(dims: number[], values: ArrayLike<number>): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  header.set([0, 0, 0x08, dims.length]);
  const view = new DataView(header.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(header.length + values.length);
  out.set(header);
  out.set(Array.from(values), header.length);
  return out;
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'mnist-example-'));
}

/** Writes a 2-image split with the given file names into `dir`. */
function writeSplit(dir: string, prefix: string, names: {images: string; labels: string}, gz = false): void {
  const pixels = Array.from({length: 2 * 28 * 28}, (_, i) => (i < 784 ? 255 : 51));
  const encode = (bytes: Uint8Array) => (gz ? gzipSync(bytes) : bytes);
  writeFileSync(join(dir, names.images.replace('PREFIX', prefix)), encode(idx([2, 28, 28], pixels)));
  writeFileSync(join(dir, names.labels.replace('PREFIX', prefix)), encode(idx([2], [3, 9])));
}

describe('IDX reader', () => {
  it('decodes the dimensions and values of a well-formed file', () => {
    const {dims, values} = parseIdx(idx([2, 3], [1, 2, 3, 4, 5, 6]), 'tiny', 2);
    expect(dims).toEqual([2, 3]);
    expect(Array.from(values)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('rejects a file whose magic number is wrong', () => {
    const bytes = idx([2], [1, 2]);
    bytes[0] = 0x1f;
    expect(() => parseIdx(bytes, 'bad.idx', 1)).toThrow(
        new DataError('bad.idx: not an IDX file (the first two bytes must be 0, got 31 0).'));
  });

  it('rejects a type other than unsigned bytes', () => {
    const bytes = idx([2], [1, 2]);
    bytes[2] = 0x0d;
    expect(() => parseIdx(bytes, 'float.idx', 1)).toThrow(
        'float.idx: IDX type byte is 0x0d; only unsigned bytes (0x08) are supported.');
  });

  it('rejects a truncated file, naming the sizes', () => {
    const bytes = idx([2, 3], [1, 2, 3, 4, 5, 6]).subarray(0, 15);
    expect(() => parseIdx(bytes, 'short.idx', 2)).toThrow(
        'short.idx: the header says 2 x 3 values (18 bytes in all), but the file has 15 bytes.');
  });

  it('rejects images where labels are expected', () => {
    expect(() => parseIdx(idx([1, 1, 1], [0]), 'images.idx', 1)).toThrow(
        'images.idx: expected an IDX file with 1 dimension(s), got 3.');
  });

  it.each([
    ['the original names', {images: 'PREFIX-images-idx3-ubyte', labels: 'PREFIX-labels-idx1-ubyte'}, false],
    ['the dotted names', {images: 'PREFIX-images.idx3-ubyte', labels: 'PREFIX-labels.idx1-ubyte'}, false],
    ['gzipped files', {images: 'PREFIX-images-idx3-ubyte.gz', labels: 'PREFIX-labels-idx1-ubyte.gz'}, true],
  ])('reads a split from %s', (_title, names, gz) => {
    const dir = tempDir();
    try {
      writeSplit(dir, 'train', names, gz);
      const split = readSplit(dir, 'train');
      expect(split.count).toBe(2);
      expect(Array.from(split.labels)).toEqual([3, 9]);
      expect(split.images[0]).toBe(255);
    } finally {
      rmSync(dir, {recursive: true});
    }
  });

  it('scales pixels to [0, 1] and one-hot encodes the labels', async () => {
    const dir = tempDir();
    try {
      writeSplit(dir, 'train', {images: 'PREFIX-images-idx3-ubyte', labels: 'PREFIX-labels-idx1-ubyte'});
      const {xs, ys} = toTensors(readSplit(dir, 'train'), 2, 'training');
      expect(xs.shape).toEqual([2, 28, 28, 1]);
      const pixels = await xs.data();
      expect([pixels[0], pixels[784]]).toEqual([1, Math.fround(0.2)]);
      expect(await ys.array()).toEqual([[0, 0, 0, 1, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0, 1]]);
      tf.dispose([xs, ys]);
    } finally {
      rmSync(dir, {recursive: true});
    }
  });

  it('names the missing file of an incomplete data folder', () => {
    const dir = tempDir();
    try {
      writeSplit(dir, 'train', {images: 'PREFIX-images-idx3-ubyte', labels: 'PREFIX-labels-idx1-ubyte'});
      expect(() => loadMnist({dataDir: dir, trainSamples: 2, testSamples: 1})).toThrow(
          `${dir}: no t10k-images-idx3-ubyte file (looked for t10k-images-idx3-ubyte, t10k-images.idx3-ubyte, ` +
          't10k-images-idx3-ubyte.gz, t10k-images.idx3-ubyte.gz).');
    } finally {
      rmSync(dir, {recursive: true});
    }
  });

  it('rejects a label outside 0-9 and more samples than the data has', () => {
    const dir = tempDir();
    try {
      writeSplit(dir, 'train', {images: 'PREFIX-images-idx3-ubyte', labels: 'PREFIX-labels-idx1-ubyte'});
      expect(() => toTensors(readSplit(dir, 'train'), 3, 'training')).toThrow(
          'asked for 3 training samples, but the data has only 2.');
      writeFileSync(join(dir, 'train-labels-idx1-ubyte'), idx([2], [3, 10]));
      expect(() => readSplit(dir, 'train')).toThrow(/label 10 at index 1 is not a class 0-9/);
    } finally {
      rmSync(dir, {recursive: true});
    }
  });

  it('reads the bundled MNIST with the published sizes', () => {
    const dir = bundledMnistDir();
    expect([readSplit(dir, 'train').count, readSplit(dir, 't10k').count]).toEqual([60000, 10000]);
  });
});

describe('pruning schedule of the example', () => {
  it('sizes the article run: 48,000 training samples, 192 steps per epoch, end step 960', () => {
    const plan = planSchedule({trainSamples: 60000, validationSplit: 0.2, batchSize: 250, pruningEpochs: 5});
    expect(trainingCount(60000, 0.2)).toBe(48000);
    expect([plan.stepsPerEpoch, plan.endStep, plan.frequency]).toEqual([192, 960, 96]);
    expect(plan.updateSteps).toEqual([96, 192, 288, 384, 480, 576, 672, 768, 864, 960]);
    expect(plan.lastUpdateSparsity).toBeCloseTo(0.7, 7);
  });

  it("explains that the article's frequency of 100 stops short of the final sparsity", () => {
    const plan = planSchedule({
      trainSamples: 60000, validationSplit: 0.2, batchSize: 250, pruningEpochs: 5, frequency: 100,
    });
    expect(plan.updateSteps[plan.updateSteps.length - 1]).toBe(900);
    expect(plan.frequencyNote).toBe('frequency 100: the last mask update is at step 900, before the end step 960, ' +
      'so the final sparsity is 0.69993, not 0.7.');
  });

  it('chooses a frequency that divides the span, at most 100, leaving 10 updates when it can', () => {
    expect([1, 2, 7, 128, 1000, 4000, 997].map(chooseFrequency)).toEqual([1, 1, 1, 8, 100, 100, 1]);
  });
});

describe('command-line options', () => {
  it('uses the article settings with --full and lets other flags override them', () => {
    const {options} = parseCliArgs(['--full', '--epochs', '3', '--backend', 'cpu']);
    expect(options).toMatchObject({...ARTICLE_SETTINGS, epochs: 3, backend: 'cpu', batchSize: 250});
  });

  it.each([
    [['--epochs', '-1'], '--epochs must be an integer >= 1, but got -1.'],
    [['--train-samples', '1.5'], '--train-samples must be an integer, but got "1.5".'],
    [['--bogus'], "Unknown option '--bogus' (see --help)."],
    [['--backend', 'webgl'], '--backend must be one of wasm, cpu, but got "webgl".'],
  ])('rejects %j', (argv, message) => {
    expect(() => parseCliArgs(argv)).toThrow(new OptionsError(message));
  });
});

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], timeoutMs = 120000): Promise<CliRun> {
  return new Promise((done) => {
    execFile(TSX, [CLI, ...args], {cwd: ROOT, timeout: timeoutMs, maxBuffer: 1 << 24}, (error, stdout, stderr) => {
      done({code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr});
    });
  });
}

describe('command line', () => {
  it.each([
    [['--epochs', '-1'], 'mnist example: --epochs must be an integer >= 1, but got -1.'],
    [['--test-samples', '0'], 'mnist example: --test-samples must be an integer >= 1, but got 0.'],
    [['--no-such-flag'], "mnist example: Unknown option '--no-such-flag' (see --help)."],
    [['--data-dir', '/no/such/folder'], 'mnist example: --data-dir /no/such/folder does not exist or is not a folder.'],
  ])('exits with code 2 and one line for %j', async (args, message) => {
    const {code, stdout, stderr} = await runCli(args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim()).toBe(message);
  });
});

/** The k rule of SPEC section 4: weights kept = roundHalfToEven(fround(n) * fround(1 - s)). */
function expectedZeros(size: number, sparsity: number): number {
  const product = Math.fround(size) * Math.fround(1 - sparsity);
  const floor = Math.floor(product);
  const kept = product - floor === 0.5 ? (floor % 2 === 0 ? floor : floor + 1) : Math.round(product);
  return size - Math.max(kept, 1);
}

describe('the pipeline on a slice of MNIST (cpu backend, training kernels)', () => {
  const out = tempDir();
  let run: CliRun;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let results: any;

  beforeAll(async () => {
    run = await runCli([
      '--backend', 'cpu', '--train-samples', '500', '--test-samples', '100', '--epochs', '1',
      '--pruning-epochs', '1', '--seed', '7', '--out', out,
    ], 150000);
    const path = join(out, 'results.json');
    if (existsSync(path)) results = JSON.parse(readFileSync(path, 'utf8'));
  }, 160000);

  afterAll(() => rmSync(out, {recursive: true, force: true}));

  it('finishes and prints the article lines', () => {
    expect(run.stderr).not.toMatch(/Error|at .*\.ts:\d+/);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Regular CNN - Test loss: [\d.]+ \/ Test accuracy: [\d.]+$/m);
    expect(run.stdout).toMatch(/^Pruned CNN - Test loss: [\d.]+ \/ Test accuracy: [\d.]+$/m);
    expect(run.stdout).toMatch(/^Size of gzipped baseline tfjs model: [\d,]+ bytes$/m);
    expect(run.stdout).toMatch(/^Size of gzipped pruned and quantized tfjs model: [\d,]+ bytes$/m);
  });

  it('writes results.json with every stage, the ratios, the sparsity, the durations and the options', () => {
    for (const stage of ['baseline', 'pruned', 'quantized']) {
      expect(results[stage]).toEqual(expect.objectContaining({
        testLoss: expect.any(Number), testAccuracy: expect.any(Number), gzippedBytes: expect.any(Number),
      }));
    }
    expect(results.ratios.baselineToQuantized).toBeCloseTo(
        results.baseline.gzippedBytes / results.quantized.gzippedBytes, 10);
    expect(results.backend).toBe('cpu');
    expect(results.trainingKernels).toEqual(['cpu']);
    expect(results.options).toMatchObject({trainSamples: 500, testSamples: 100, epochs: 1, pruningEpochs: 1, seed: 7});
    expect(results.durationsMs.total).toBeGreaterThan(0);
    expect(results.data).toMatchObject({trainSamples: 500, trainCount: 400, validationCount: 100, testSamples: 100});
  });

  it('prunes every conv and dense kernel to exactly the final 70% by the k rule', () => {
    expect(results.schedule).toMatchObject({endStep: 2, frequency: 1, updateSteps: [1, 2]});
    expect(results.sparsity.map((w: {weight: string}) => w.weight)).toEqual(
        ['conv2d/kernel', 'conv2d_1/kernel', 'dense/kernel', 'dense_1/kernel']);
    for (const w of results.sparsity) {
      expect({weight: w.weight, zeros: w.zeros}).toEqual({weight: w.weight, zeros: expectedZeros(w.size, 0.7)});
    }
    // Measured after each mask update: 0.6625 at step 1 (p = 1/2), 0.70 at step 2.
    expect(results.sparsityHistory.map((p: {step: number}) => p.step)).toEqual([0, 1, 2]);
    expect(results.sparsityHistory[1].sparsity).toBeCloseTo(0.6625, 3);
    expect(results.sparsityHistory[2].sparsity).toBeCloseTo(0.7, 3);
  });

  it('keeps the accuracy of the pruned model after quantization and a reload', () => {
    expect(Math.abs(results.quantized.testAccuracy - results.pruned.testAccuracy)).toBeLessThanOrEqual(0.02);
  });

  it('orders the gzipped sizes baseline > pruned > quantized', () => {
    expect(results.baseline.gzippedBytes).toBeGreaterThan(results.pruned.gzippedBytes);
    expect(results.pruned.gzippedBytes).toBeGreaterThan(results.quantized.gzippedBytes);
  });

  it('saves the three models and the schedule chart', () => {
    for (const stage of ['baseline', 'pruned', 'quantized']) {
      expect(existsSync(join(out, stage, 'model.json'))).toBe(true);
      const json = JSON.parse(readFileSync(join(out, stage, 'model.json'), 'utf8'));
      expect(existsSync(join(out, stage, json.weightsManifest[0].paths[0]))).toBe(true); // weights.<id>.bin
    }
    const svg = readFileSync(join(out, 'schedule.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('schedule target');
    expect(svg).toContain('validation accuracy');
  });
});
