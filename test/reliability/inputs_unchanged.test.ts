// The caller's objects: no public function modifies what it is given (configs, weights, options,
// artifacts), and none keeps a live reference to a caller's array or options object.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {
  ConstantSparsity,
  PolynomialDecay,
  PruneLowMagnitude,
  PruneSelectedLayers,
  UpdatePruningStep,
  deserializeSchedule,
  getGzippedModelSize,
  getSparsity,
  isPrunedMByN,
  loadQuantizedLayersModel,
  pruneLowMagnitude,
  quantizeDynamicRange,
  serializeSchedule,
  stripPruning,
} from '../../src';
import type {QuantizeDynamicRangeOptions} from '../../src';
import {saveToMemory} from '../../src/io/gzipped_size';
import {fileSystem} from '../../src/node';
import {deepCopy} from '../../src/util/validation';
import {fitBatches, snapshot} from '../helpers/models';

/** A functional model with a nested Sequential, a shared layer and a Conv2D (all prunable kinds of wiring). */
function model(): tfl.LayersModel {
  const init = (seed: number) => tfl.initializers.glorotUniform({seed});
  const input = tfl.input({shape: [6, 6, 1], name: 'image'});
  const conv = tfl.layers.conv2d({name: 'conv', filters: 4, kernelSize: 3, kernelInitializer: init(1)}).apply(input) as tfl.SymbolicTensor;
  const flat = tfl.layers.flatten({name: 'flat'}).apply(conv) as tfl.SymbolicTensor;
  const shared = tfl.layers.dense({name: 'shared', units: 64, activation: 'relu', kernelInitializer: init(2)});
  const nested = tfl.sequential({name: 'nested', layers: [tfl.layers.dense({name: 'inner', units: 64, inputShape: [64], kernelInitializer: init(3)})]});
  const h = shared.apply(nested.apply(shared.apply(flat) as tfl.SymbolicTensor) as tfl.SymbolicTensor) as tfl.SymbolicTensor;
  const output = tfl.layers.dense({name: 'head', units: 3, kernelInitializer: init(4)}).apply(h) as tfl.SymbolicTensor;
  return tfl.model({inputs: input, outputs: output, name: 'net'});
}

/** Everything about artifacts that could change: the JSON parts, and the weight bytes. */
function artifactsSnapshot(artifacts: tf.io.ModelArtifacts): {json: string; bytes: string} {
  const {weightData, ...rest} = artifacts;
  const data = weightData === undefined ? new ArrayBuffer(0) :
    Array.isArray(weightData) ? tf.io.concatenateArrayBuffers(weightData) : weightData;
  return {json: JSON.stringify(rest), bytes: Buffer.from(data).toString('base64')};
}

/** A trained pruned model (masks cut, step advanced), for the functions that take one. */
async function trainedPruned(): Promise<tfl.LayersModel> {
  const pruned = pruneLowMagnitude(model(), {pruningSchedule: new ConstantSparsity({targetSparsity: 0.7, frequency: 1})});
  pruned.compile({optimizer: 'adam', loss: 'meanSquaredError'});
  await fitBatches(pruned, [6, 6, 1], [3], 2, [new UpdatePruningStep()]);
  return pruned;
}

describe('pruneLowMagnitude', () => {
  it('leaves the model, its layers and the parameters (schedule, arrays, policy) as they were', () => {
    const m = model();
    const pruningSchedule = new PolynomialDecay({initialSparsity: 0.2, finalSparsity: 0.8, beginStep: 0, endStep: 100});
    const names: Array<string | RegExp> = ['shared', /^inn/g, 'head'];
    const params = {pruningSchedule, blockSize: [2, 2] as [number, number], blockPoolingType: 'max' as const,
      pruningPolicy: new PruneSelectedLayers({names})};
    const before = {model: snapshot(m), schedule: pruningSchedule.getConfig(), names: [...names], lastIndex: (names[1] as RegExp).lastIndex};
    const paramsBefore = {...params, blockSize: [...params.blockSize]};
    pruneLowMagnitude(m, params);
    expect({model: snapshot(m), schedule: pruningSchedule.getConfig(), names: [...names], lastIndex: (names[1] as RegExp).lastIndex})
        .toEqual(before);
    expect(params).toEqual(paramsBefore);
  });

  it('leaves a single layer and an array of layers as they were', () => {
    const dense = tfl.layers.dense({units: 3, inputShape: [2], name: 'single'});
    tfl.sequential({layers: [dense]}); // built, with weights
    const flatten = tfl.layers.flatten();
    const before = [snapshot(dense), JSON.stringify(flatten.getConfig())];
    const layers = [dense, flatten];
    pruneLowMagnitude(dense);
    pruneLowMagnitude(layers);
    expect([snapshot(dense), JSON.stringify(flatten.getConfig())]).toEqual(before);
    expect(layers).toEqual([dense, flatten]);
  });

  it('keeps copies of the caller\'s arrays: changing them afterwards changes nothing', () => {
    const blockSize: [number, number] = [2, 2];
    const sparsityMByN: [number, number] = [2, 4];
    const blocks = pruneLowMagnitude(tfl.layers.dense({units: 4}), {blockSize});
    const mByN = pruneLowMagnitude(tfl.layers.dense({units: 4}), {sparsityMByN});
    blockSize[0] = 9;
    sparsityMByN[0] = 3;
    expect(blocks.blockSize).toEqual([2, 2]);
    expect(mByN.sparsityMByN).toEqual([2, 4]);
    expect(blocks.getConfig()['blockSize']).toEqual([2, 2]);
  });
});

describe('functions that take a pruned model', () => {
  let pruned: tfl.LayersModel;
  let before: ReturnType<typeof snapshot>;
  beforeAll(async () => {
    pruned = await trainedPruned();
  });
  beforeEach(() => {
    before = snapshot(pruned);
  });
  afterEach(() => {
    // Weights, masks, thresholds and steps, bit for bit, and the config.
    expect(snapshot(pruned)).toEqual(before);
  });

  it('stripPruning', () => {
    stripPruning(pruned).dispose();
  });

  it('quantizeDynamicRange, and its options (the exclude list and its RegExps included)', async () => {
    const exclude: Array<string | RegExp> = ['head', /conv/g, /^nested/y];
    const options: QuantizeDynamicRangeOptions = {dtype: 'uint8', perChannel: true, minElements: 10, exclude};
    const optionsBefore = {...options, exclude: [...exclude]};
    await quantizeDynamicRange(pruned, options);
    await quantizeDynamicRange(pruned, {dtype: 'float16'});
    expect(options).toEqual(optionsBefore);
    expect(exclude.map((e) => (e instanceof RegExp ? e.lastIndex : e))).toEqual(['head', 0, 0]);
  });

  it('getSparsity, of the model and of an array of its layers', async () => {
    await getSparsity(pruned);
    await getSparsity(pruned.layers);
  });

  it('getGzippedModelSize', async () => {
    await getGzippedModelSize(pruned);
  });

  it('fileSystem(dir).save, through model.save', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tfmo-unchanged-'));
    await pruned.save(fileSystem(dir));
    fs.rmSync(dir, {recursive: true, force: true});
  });
});

describe('functions that take artifacts', () => {
  it('getGzippedModelSize and fileSystem(dir).save leave the artifacts as they were', async () => {
    const artifacts = await quantizeDynamicRange(model(), {perChannel: true, minElements: 0});
    const before = artifactsSnapshot(artifacts);
    await getGzippedModelSize(artifacts);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tfmo-unchanged-'));
    await fileSystem(dir).save(artifacts);
    fs.rmSync(dir, {recursive: true, force: true});
    expect(artifactsSnapshot(artifacts)).toEqual(before);
  });

  it.each([
    ['per-channel', {perChannel: true, minElements: 0}],
    ['per-tensor (passed on to tfjs)', {minElements: 0}],
  ] as const)('loadQuantizedLayersModel leaves its handler\'s artifacts (%s) as they were', async (_kind, options) => {
    const artifacts = await quantizeDynamicRange(model(), options);
    const before = artifactsSnapshot(artifacts);
    const handler: tf.io.IOHandler = {load: async () => artifacts};
    (await loadQuantizedLayersModel(handler)).dispose();
    (await loadQuantizedLayersModel(artifacts)).dispose();
    (await loadQuantizedLayersModel({...artifacts, weightData: [(artifacts.weightData as ArrayBuffer).slice(0, 7), (artifacts.weightData as ArrayBuffer).slice(7)]})).dispose();
    expect(artifactsSnapshot(artifacts)).toEqual(before);
  });

  it('tf.loadLayersModel of a pruned model leaves the saved artifacts as they were', async () => {
    const artifacts = await saveToMemory(await trainedPruned());
    const before = artifactsSnapshot(artifacts);
    (await tfl.loadLayersModel(tf.io.fromMemory(artifacts))).dispose();
    expect(artifactsSnapshot(artifacts)).toEqual(before);
  });
});

describe('deserialization', () => {
  it('the schedules\' fromConfig and deserializeSchedule leave the config as they were', () => {
    const constant = new ConstantSparsity({targetSparsity: 0.5, beginStep: 3, endStep: 90, frequency: 7}).getConfig();
    const decay = new PolynomialDecay({initialSparsity: 0.1, finalSparsity: 0.9, beginStep: 0, endStep: 9, power: 2}).getConfig();
    const serialized = serializeSchedule(new ConstantSparsity({targetSparsity: 0.25}));
    const before = deepCopy([constant, decay, serialized]);
    ConstantSparsity.fromConfig(ConstantSparsity, constant);
    PolynomialDecay.fromConfig(PolynomialDecay, decay);
    deserializeSchedule(serialized);
    expect([constant, decay, serialized]).toEqual(before);
  });

  it('PruneLowMagnitude.fromConfig leaves the config, the inner layer\'s and the schedule\'s, as they were', () => {
    const wrapper = new PruneLowMagnitude({
      layer: tfl.layers.dense({units: 4, name: 'inner'}),
      pruningSchedule: new PolynomialDecay({initialSparsity: 0.1, finalSparsity: 0.6, beginStep: 0, endStep: 50}),
      blockSize: [1, 2], blockPoolingType: 'max', batchInputShape: [null, 3],
    });
    const config = wrapper.getConfig();
    const before = deepCopy(config);
    const copy = PruneLowMagnitude.fromConfig(PruneLowMagnitude, config) as PruneLowMagnitude;
    expect(config).toEqual(before);
    // And the copy does not share the config's arrays.
    (config['blockSize'] as number[])[1] = 7;
    expect(copy.blockSize).toEqual([1, 2]);
  });

  it('schedules hand out fresh configs: changing one changes neither the schedule nor its next config', () => {
    const schedule = new ConstantSparsity({targetSparsity: 0.5, frequency: 2});
    const config = schedule.getConfig();
    config['targetSparsity'] = 0.9;
    expect(schedule.getConfig()['targetSparsity']).toBe(0.5);
    expect(schedule.call(2)).toEqual({shouldPrune: true, sparsity: 0.5});
  });

  it('the schedules\' constructors leave their arguments as they were', () => {
    const args = {initialSparsity: 0.1, finalSparsity: 0.9, beginStep: 0, endStep: 9};
    const before = {...args};
    new PolynomialDecay(args);
    expect(args).toEqual(before);
  });
});

describe('isPrunedMByN', () => {
  it('leaves the tensor as it was, and does not dispose it', async () => {
    const kernel = tf.tensor2d([[0, 1], [2, 0], [0, 3], [4, 0]]);
    await isPrunedMByN(kernel, [2, 4]);
    expect(kernel.isDisposed).toBe(false);
    expect(Array.from(kernel.dataSync())).toEqual([0, 1, 2, 0, 0, 3, 4, 0]);
    kernel.dispose();
  });
});
