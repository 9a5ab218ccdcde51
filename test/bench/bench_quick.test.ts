// The benchmark suite (bench/index.ts) runs end to end in its quick mode and reports every figure on
// both backends. Only that it works is tested: timings on a shared CI machine prove nothing, so no
// figure is compared with its target here.
import {execFile} from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {promisify} from 'node:util';

import * as tf from '@tensorflow/tfjs-core';

const root = path.resolve(__dirname, '../..');
const tsx = path.join(root, 'node_modules/.bin/tsx');

/** Channel pruning: per model and sparsity, the parameter ratio and four time ratios (the last with BatchNorm folded) at batch 1 and at the batch. */
const CHANNEL_FIGURES = ['mobilenetv2-50', 'mobilenetv2-75', 'resnet-50', 'seed-cnn-50'].flatMap((level) => [
  `channels-${level}-params`,
  ...['speedup', 'vs-limit', 'limit-speedup', 'folded-speedup'].flatMap((ratio) => ['single', 'batch'].map((size) => `channels-${level}-${ratio}-${size}`)),
]);

/** Sparse kernels: each product case against the stock kernel, and a MobileNetV1-style model end to end. */
const SPARSE_FIGURES = [
  'dense-70-b1', 'dense-70-b32', 'dense-90-b1', 'dense-90-b32', 'dense-90-block-b1', 'dense-90-block-b32', 'conv1x1-80',
  'fallback-dense-30-b1', 'fallback-dense-50-b32', 'fallback-dense-2of4-b1', 'fallback-conv1x1-30', 'mobilenetv1-90-b1',
].map((id) => `sparse-${id}`);

/** Every figure of the suite, on each backend. Adding a figure to the suite means adding it here. */
const FIGURES = [
  'training-frequency-100', 'training-frequency-1', 'training-channels-frequency-100', 'training-clustered',
  'training-seed-cnn', 'training-bn-mobilenetv2', 'training-bn-mobilenetv2-stock', 'training-bn-mobilenetv2-speedup', 'mask-update-vs-abs', 'mask-update-vs-tfmot', 'inference-stripped',
  'size-pruned', 'size-pruned-int8', 'quantize-throughput', 'quantize-vs-copy', ...CHANNEL_FIGURES, ...SPARSE_FIGURES,
];
const BACKENDS = ['wasm', 'cpu'];

interface ReportedFigure {
  id: string;
  backend: string;
  median: number;
  spread: Record<string, number>;
  target: {comparison: string; value: number} | null;
  met: boolean | null;
}

let tmp: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tfmo-bench-'));
});

afterAll(() => {
  fs.rmSync(tmp, {recursive: true, force: true});
});

it('runs the quick suite and writes every figure, on wasm and cpu, with a finite median and spread', async () => {
  const out = path.join(tmp, 'results.json');
  await promisify(execFile)(tsx, ['bench/index.ts', '--quick', '--out', out], {cwd: root, maxBuffer: 1 << 24});
  const results = JSON.parse(fs.readFileSync(out, 'utf8'));

  expect(results.mode).toBe('quick');
  expect(results.backends).toEqual(BACKENDS);
  expect(results.tfjs.core).toBe(tf.version_core);
  expect(results.machine.cpus).toBeGreaterThan(0);
  expect(typeof results.machine.cpuModel).toBe('string');

  const figures = results.figures as ReportedFigure[];
  for (const backend of BACKENDS) {
    expect(figures.filter((f) => f.backend === backend).map((f) => f.id).sort()).toEqual([...FIGURES].sort());
  }
  for (const f of figures) {
    const where = `${f.backend} ${f.id}`;
    expect([where, Number.isFinite(f.median) && f.median > 0]).toEqual([where, true]);
    for (const key of ['p25', 'p75', 'min', 'max']) expect([where, key, Number.isFinite(f.spread[key])]).toEqual([where, key, true]);
    expect([where, f.spread.samples >= 1]).toEqual([where, true]);
    // A target is judged on the median; whether it is met is not asserted.
    expect([where, f.target === null ? f.met === null : typeof f.met === 'boolean']).toEqual([where, true]);
  }
}, 480_000);
