// Resumed training equals training that never stopped: N batches straight through give the same
// masks, step, weights and optimizer state, bit for bit, as k batches, a save, a load in a fresh
// Node process (test/reliability/resume_worker.ts, through tsx) and N - k more batches, for k just
// before, at and just after a mask update.
import {execFile} from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {promisify} from 'node:util';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {PolynomialDecay, PruneLowMagnitude, UpdatePruningStep, pruneLowMagnitude} from '../../src';
import {fileSystem} from '../../src/node';

const root = path.resolve(__dirname, '../..');
const tsx = path.join(root, 'node_modules/.bin/tsx');
const worker = path.join(__dirname, 'resume_worker.ts');

const BATCH = 4;
const BATCHES = 16;
// Masks are recomputed at steps 1, 4, 7, 10 and 13; the k-th batch runs at step k.
const schedule = () => new PolynomialDecay({initialSparsity: 0.3, finalSparsity: 0.8, beginStep: 1, endStep: 13, frequency: 3});

/** Seeded initializers, no dropout: two builds give the same model, weight names included. */
function seededModel(): tfl.LayersModel {
  const init = (seed: number) => tfl.initializers.glorotUniform({seed});
  const model = tfl.sequential({
    name: 'resume_net',
    layers: [
      tfl.layers.conv2d({name: 'conv', inputShape: [5, 5, 2], filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: init(1)}),
      tfl.layers.flatten({name: 'flat'}),
      tfl.layers.dense({name: 'hidden', units: 12, activation: 'relu', kernelInitializer: init(2)}),
      tfl.layers.dense({name: 'out', units: 3, kernelInitializer: init(3)}),
    ],
  });
  return pruneLowMagnitude(model, {pruningSchedule: schedule()});
}

type OptimizerName = 'momentum' | 'adam';
const optimizers: Record<OptimizerName, () => tf.Optimizer> = {
  // Strong momentum: pruned weights would drift a long way between mask updates if nothing re-zeroed them.
  momentum: () => tf.train.momentum(0.5, 0.9),
  adam: () => tf.train.adam(0.05),
};

let tmp: string;
let x: tf.Tensor;
let y: tf.Tensor;
let dataFile: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tfmo-resume-'));
  x = tf.randomUniform([BATCHES * BATCH, 5, 5, 2], -1, 1, 'float32', 8);
  y = tf.randomUniform([BATCHES * BATCH, 3], -1, 1, 'float32', 108);
  dataFile = path.join(tmp, 'data.json');
  fs.writeFileSync(dataFile, JSON.stringify({
    x: Array.from(x.dataSync()), y: Array.from(y.dataSync()), xShape: x.shape, yShape: y.shape,
  }));
});

afterAll(() => {
  tf.dispose([x, y]);
  fs.rmSync(tmp, {recursive: true, force: true});
});

/** Trains batches [from, to) in one fit call (one epoch, no shuffling). */
async function train(model: tfl.LayersModel, from: number, to: number): Promise<void> {
  const xs = tf.slice(x, from * BATCH, (to - from) * BATCH);
  const ys = tf.slice(y, from * BATCH, (to - from) * BATCH);
  await model.fit(xs, ys, {batchSize: BATCH, epochs: 1, shuffle: false, verbose: 0, callbacks: [new UpdatePruningStep()]});
  tf.dispose([xs, ys]);
}

/** What model.save writes with the optimizer: weight names and all bytes (model weights, then optimizer state). */
async function saved(model: tfl.LayersModel): Promise<{names: string[]; bytes: Buffer}> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => {
    artifacts = a;
    return {modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a)};
  }), {includeOptimizer: true});
  return fromArtifacts(artifacts!, model.weights.length);
}

function fromArtifacts(artifacts: tf.io.ModelArtifacts, modelWeights: number): {names: string[]; bytes: Buffer} {
  const data = artifacts.weightData!;
  const bytes = Buffer.from(Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data);
  return {names: artifacts.weightSpecs!.slice(0, modelWeights).map((s) => s.name), bytes};
}

/** The float32/int32 values of the model's own weights, by name, from saved bytes. */
function weightsByName(artifacts: tf.io.ModelArtifacts): Map<string, number[]> {
  const data = fromArtifacts(artifacts, 0).bytes;
  const out = new Map<string, number[]>();
  let offset = 0;
  for (const spec of artifacts.weightSpecs!) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const view = data.buffer.slice(data.byteOffset + offset, data.byteOffset + offset + 4 * n);
    out.set(spec.name, Array.from(spec.dtype === 'int32' ? new Int32Array(view) : new Float32Array(view)));
    offset += 4 * n;
  }
  return out;
}

/** Trains k batches here, saves, and trains the rest in a fresh process; returns what that process saved. */
async function resumeInFreshProcess(optimizer: OptimizerName, k: number): Promise<{artifacts: tf.io.ModelArtifacts; stepsAtLoad: number[]}> {
  const model = seededModel();
  model.compile({optimizer: optimizers[optimizer](), loss: 'meanSquaredError'});
  await train(model, 0, k);
  const modelDir = path.join(tmp, `${optimizer}-${k}`);
  const outDir = path.join(tmp, `${optimizer}-${k}-resumed`);
  await model.save(fileSystem(modelDir), {includeOptimizer: true});
  model.dispose();
  await promisify(execFile)(tsx, [worker, modelDir, dataFile, String(k), String(BATCHES), String(BATCH), outDir], {cwd: root});
  const {stepsAtLoad} = JSON.parse(fs.readFileSync(path.join(outDir, 'steps.json'), 'utf8')) as {stepsAtLoad: number[]};
  return {artifacts: await fileSystem(outDir).load(), stepsAtLoad};
}

const straightRuns = new Map<OptimizerName, Promise<{names: string[]; bytes: Buffer; artifacts: tf.io.ModelArtifacts}>>();
function straight(optimizer: OptimizerName) {
  if (!straightRuns.has(optimizer)) {
    straightRuns.set(optimizer, (async () => {
      const model = seededModel();
      model.compile({optimizer: optimizers[optimizer](), loss: 'meanSquaredError'});
      await train(model, 0, BATCHES);
      expect(collectSteps(model)).toEqual([BATCHES, BATCHES, BATCHES, BATCHES]);
      const result = await saved(model);
      let artifacts: tf.io.ModelArtifacts | undefined;
      await model.save(tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return {modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a)};
      }));
      model.dispose();
      return {...result, artifacts: artifacts!};
    })());
  }
  return straightRuns.get(optimizer)!;
}

function collectSteps(model: tfl.LayersModel): number[] {
  return model.layers.filter((l): l is PruneLowMagnitude => l instanceof PruneLowMagnitude).map((l) => l.pruningStep);
}

describe('training resumed in a fresh process (momentum 0.9, PolynomialDecay 0.3 -> 0.8, masks at steps 1, 4, 7, 10, 13)', () => {
  it.each([
    ['before a mask update (the next batch updates the masks)', 3],
    ['at a mask update (the last batch before the save updated them)', 4],
    ['after a mask update', 5],
  ])('equals training straight through, bit for bit, when saved %s: k = %d', async (_when, k) => {
    const [reference, resumed] = await Promise.all([straight('momentum'), resumeInFreshProcess('momentum', k)]);
    expect(resumed.stepsAtLoad).toEqual([k, k, k, k]);
    const {names, bytes} = fromArtifacts(resumed.artifacts, reference.names.length);
    expect(names).toEqual(reference.names);
    // Every byte: weights, masks, thresholds, pruning steps, then the optimizer's iterations and momenta.
    expect(bytes.length).toBe(reference.bytes.length);
    expect(bytes.equals(reference.bytes)).toBe(true);
    const steps = [...weightsByName(resumed.artifacts)].filter(([name]) => name.endsWith('/pruning_step'));
    expect(steps.map(([, v]) => v[0])).toEqual([BATCHES, BATCHES, BATCHES, BATCHES]);
  });
});

describe('training resumed with Adam', () => {
  // tfjs 4.22's Adam.setWeights recomputes beta^t with pow() where training multiplies it step by step,
  // so tfjs itself resumes Adam within float32 rounding, not bit for bit. Pruning's own state still
  // matches exactly.
  it('keeps the same masks and steps, with weights equal to float32 rounding', async () => {
    const [reference, resumed] = await Promise.all([straight('adam'), resumeInFreshProcess('adam', 4)]);
    const expected = weightsByName(reference.artifacts);
    const actual = weightsByName(resumed.artifacts);
    for (const [name, values] of expected) {
      const got = actual.get(name)!;
      if (/\/(mask|pruning_step)$/.test(name)) {
        expect({name, values: got}).toEqual({name, values});
      } else {
        got.forEach((v, i) => expect(Math.abs(v - values[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(values[i]))));
      }
    }
  });
});
