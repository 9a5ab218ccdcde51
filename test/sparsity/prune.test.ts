// pruneLowMagnitude and stripPruning by input kind (SPEC section 6), and the caller's objects.
import {execFileSync} from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {
  ConstantSparsity,
  PruneLowMagnitude,
  PruningError,
  UpdatePruningStep,
  getSparsity,
  pruneLowMagnitude,
  stripPruning,
} from '../../src';
import {ChannelScale, denseModel, fitBatches, seeded, snapshot} from '../helpers/models';

const schedule = (targetSparsity = 0.5) => new ConstantSparsity({targetSparsity, beginStep: 0, frequency: 1});

function functionalModel(): tfl.LayersModel {
  const input = tfl.input({shape: [4]});
  const shared = tfl.layers.dense({units: 4, activation: 'tanh', name: 'shared'});
  const h1 = shared.apply(input) as tfl.SymbolicTensor;
  const h2 = shared.apply(h1) as tfl.SymbolicTensor;
  const nested = tfl.sequential({name: 'nested', layers: [tfl.layers.dense({units: 3, inputShape: [4], name: 'inner'})]});
  const h3 = nested.apply(input) as tfl.SymbolicTensor;
  const merged = tfl.layers.concatenate({name: 'merge'}).apply([h1, h2, h3]) as tfl.SymbolicTensor;
  const output = tfl.layers.dense({units: 2, name: 'head'}).apply(merged) as tfl.SymbolicTensor;
  return tfl.model({inputs: input, outputs: output, name: 'functional'});
}

function expectSamePredictions(a: tfl.LayersModel, b: tfl.LayersModel, x: tf.Tensor): void {
  const pa = a.predict(x) as tf.Tensor;
  const pb = b.predict(x) as tf.Tensor;
  expect(Array.from(pb.dataSync())).toEqual(Array.from(pa.dataSync()));
  tf.dispose([pa, pb]);
}

describe('pruneLowMagnitude on a Sequential model', () => {
  it('wraps every layer, names the wrappers prune_low_magnitude_<name>, and keeps the model kind', () => {
    const model = denseModel();
    const pruned = pruneLowMagnitude(model);
    expect(pruned).toBeInstanceOf(tfl.Sequential);
    expect(pruned.layers.map((l) => l.getClassName())).toEqual(['PruneLowMagnitude', 'PruneLowMagnitude']);
    expect(pruned.layers.map((l) => l.name)).toEqual(model.layers.map((l) => `prune_low_magnitude_${l.name}`));
  });

  it('holds a mask, a threshold and an int32 pruning_step per wrapper, saved with the model', () => {
    const pruned = pruneLowMagnitude(denseModel());
    const wrapper = pruned.layers[0] as PruneLowMagnitude;
    expect(wrapper.nonTrainableWeights.map((w) => [w.originalName, w.dtype])).toEqual([
      [`${wrapper.name}/mask`, 'float32'],
      [`${wrapper.name}/threshold`, 'float32'],
      [`${wrapper.name}/pruning_step`, 'int32'],
    ]);
    expect(wrapper.trainableWeights.map((w) => w.originalName)).toEqual([`${wrapper.name}/kernel`, `${wrapper.name}/bias`]);
    expect(wrapper.pruningStep).toBe(-1);
  });

  it('predicts bit-identically to the original before training', () => {
    const model = denseModel();
    const x = seeded([6, 10], 3);
    expectSamePredictions(model, pruneLowMagnitude(model), x);
    x.dispose();
  });

  it('uses a fresh ConstantSparsity(0.5) by default, per call', () => {
    const a = pruneLowMagnitude(denseModel()).layers[0] as PruneLowMagnitude;
    const b = pruneLowMagnitude(denseModel()).layers[0] as PruneLowMagnitude;
    expect(a.pruningSchedule).toBeInstanceOf(ConstantSparsity);
    expect(a.pruningSchedule.getConfig()).toEqual({targetSparsity: 0.5, beginStep: 0, endStep: -1, frequency: 100});
    expect(a.pruningSchedule).not.toBe(b.pruningSchedule);
  });

  it('never modifies the model it is given, through pruning, training and stripping', async () => {
    const model = denseModel();
    const before = snapshot(model);
    const pruned = pruneLowMagnitude(model, {pruningSchedule: schedule(0.9)});
    pruned.compile({optimizer: 'adam', loss: 'meanSquaredError'});
    await fitBatches(pruned, [10], [5], 2, [new UpdatePruningStep()]);
    stripPruning(pruned);
    expect(snapshot(model)).toEqual(before);
  });

  it('leaves an already pruned model\'s wrappers as they are', () => {
    const once = pruneLowMagnitude(denseModel(), {pruningSchedule: schedule(0.3)});
    const twice = pruneLowMagnitude(once);
    expect(twice.layers.map((l) => l.name)).toEqual(once.layers.map((l) => l.name));
    expect((twice.layers[0] as PruneLowMagnitude).pruningSchedule.getConfig()['targetSparsity']).toBe(0.3);
  });
});

describe('pruneLowMagnitude on a functional model', () => {
  it('wraps shared layers once, recurses into nested models and predicts identically', () => {
    const model = functionalModel();
    const pruned = pruneLowMagnitude(model);
    expect(pruned).toBeInstanceOf(tfl.LayersModel);
    expect(pruned).not.toBeInstanceOf(tfl.Sequential);
    expect(pruned.layers.map((l) => l.name)).toEqual([
      'input1', 'prune_low_magnitude_shared', 'nested', 'prune_low_magnitude_merge', 'prune_low_magnitude_head',
    ].map((n) => (n === 'input1' ? model.layers[0].name : n)));
    expect(pruned.getLayer('prune_low_magnitude_shared').inboundNodes).toHaveLength(2);
    expect((pruned.getLayer('nested') as tfl.LayersModel).layers.map((l) => l.name))
        .toEqual(['prune_low_magnitude_inner']);
    const x = seeded([5, 4], 11);
    expectSamePredictions(model, pruned, x);
    x.dispose();
  });

  it('strips back to the original config, with the masked weights', async () => {
    const model = functionalModel();
    const pruned = pruneLowMagnitude(model, {pruningSchedule: schedule(0.5)});
    pruned.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
    await fitBatches(pruned, [4], [2], 1, [new UpdatePruningStep()]);
    const stripped = stripPruning(pruned);
    expect(stripped.getConfig()).toEqual(model.getConfig());
    expect(stripped.toJSON(null, false)).toEqual(model.toJSON(null, false));
    const sparsity = await getSparsity(stripped);
    expect(sparsity.map((s) => [s.layer, s.zeros, s.size])).toEqual([
      ['shared', 8, 16], ['inner', 6, 12], ['head', 11, 22],
    ]);
    const x = seeded([5, 4], 12);
    expectSamePredictions(pruned, stripped, x);
    x.dispose();
  });
});

describe('pruneLowMagnitude on layers', () => {
  it('wraps a fresh copy of a single layer and leaves the original untouched', () => {
    const dense = tfl.layers.dense({units: 3, inputShape: [2]});
    const wrapper = pruneLowMagnitude(dense);
    expect(wrapper).toBeInstanceOf(PruneLowMagnitude);
    expect(wrapper.name).toBe(`prune_low_magnitude_${dense.name}`);
    expect(wrapper.layer).not.toBe(dense);
    expect(dense.built).toBe(false);
    const model = tfl.sequential({layers: [wrapper]});
    expect(model.outputs[0].shape).toEqual([null, 3]);
  });

  it('copies the weights of a built layer when the wrapper is built', () => {
    const source = denseModel();
    const wrapper = pruneLowMagnitude(source.layers[1]);
    tfl.sequential({layers: [tfl.layers.inputLayer({inputShape: [8]}), wrapper]});
    expect(Array.from(wrapper.layer.getWeights()[0].dataSync()))
        .toEqual(Array.from(source.layers[1].getWeights()[0].dataSync()));
  });

  it('returns an already wrapped layer as it is', () => {
    const wrapper = pruneLowMagnitude(tfl.layers.dense({units: 3}));
    expect(pruneLowMagnitude(wrapper)).toBe(wrapper);
  });

  it('wraps each layer of an array and keeps wrapped ones', () => {
    const wrapped = pruneLowMagnitude(tfl.layers.dense({units: 2}));
    const result = pruneLowMagnitude([tfl.layers.dense({units: 3}), wrapped, tfl.layers.flatten()]);
    expect(result).toHaveLength(3);
    expect(result.every((l) => l instanceof PruneLowMagnitude)).toBe(true);
    expect(result[1]).toBe(wrapped);
  });

  it('prunes a custom layer that implements PrunableLayer', async () => {
    class Project extends tfl.layers.Layer {
      static className = 'ProjectForPruneTest';
      kernel!: tfl.LayerVariable;
      override build(inputShape: tfl.Shape | tfl.Shape[]) {
        const dim = (inputShape as tfl.Shape)[1] as number;
        this.kernel = this.addWeight('kernel', [dim, 4], 'float32', tfl.initializers.glorotUniform({seed: 1}));
        this.built = true;
      }
      override call(inputs: tf.Tensor | tf.Tensor[]) {
        const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor2D;
        return tf.matMul(x, this.kernel.read() as tf.Tensor2D);
      }
      override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]) {
        return [(inputShape as tfl.Shape)[0], 4];
      }
      getPrunableWeights() {
        return [this.kernel];
      }
    }
    tf.serialization.registerClass(Project);
    const model = tfl.sequential({layers: [new Project({inputShape: [10]})]});
    const pruned = pruneLowMagnitude(model, {pruningSchedule: schedule(0.6)});
    pruned.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
    await fitBatches(pruned, [10], [4], 1, [new UpdatePruningStep()]);
    expect((await getSparsity(pruned)).map((s) => [s.zeros, s.size])).toEqual([[24, 40]]);
  });
});

describe('pruneLowMagnitude rejects what it cannot prune', () => {
  it('names the unsupported layer, its class, PrunableLayer and SkipUnsupportedLayers, and builds nothing', () => {
    const call = () => pruneLowMagnitude(tfl.sequential({
      layers: [tfl.layers.dense({units: 3, inputShape: [5]}), new ChannelScale({scale: 2, name: 'scale'})],
    }));
    expect(call).toThrow(PruningError);
    expect(call).toThrow(
        'pruneLowMagnitude: layer "scale" (class ChannelScaleForTests) cannot be pruned: ChannelScaleForTests is not ' +
        'one of the built-in prunable classes (an exact class match: subclasses are not included). To prune it, ' +
        'implement the PrunableLayer interface on ChannelScaleForTests: a getPrunableWeights() method returning the ' +
        'weights to prune. To leave it unpruned instead, pass {pruningPolicy: new SkipUnsupportedLayers()}: every ' +
        'layer that cannot be pruned then stays as it is.');
  });

  it('rejects a subclass of a prunable class that does not implement PrunableLayer', () => {
    class MyDense extends (tfl.layers.dense({units: 1}).constructor as typeof tfl.layers.Layer) {
      static className = 'MyDenseForPruneTest';
    }
    expect(() => pruneLowMagnitude(new MyDense({units: 2} as never))).toThrow(/class MyDenseForPruneTest/);
  });

  it.each<[string, unknown]>([
    ['a tensor', tf.zeros([2])],
    ['a plain object', {layers: []}],
    ['a string', 'model'],
    ['undefined', undefined],
  ])('rejects %s with a TypeError listing the accepted kinds', (_kind, value) => {
    expect(() => pruneLowMagnitude(value as never)).toThrow(TypeError);
    expect(() => pruneLowMagnitude(value as never)).toThrow(
        "pruneLowMagnitude: 'toPrune' must be a tf.layers.Layer, an array of layers, a tf.Sequential model or a " +
        'functional tf.LayersModel (tf.model), but got');
  });

  it('rejects a non-layer inside an array, naming its index', () => {
    expect(() => pruneLowMagnitude([tfl.layers.dense({units: 1}), 3 as never]))
        .toThrow("pruneLowMagnitude: 'toPrune[1]' must be a tf.layers.Layer, but got 3.");
  });

  it.each<[string, object, string]>([
    ['an unknown parameter', {schedule: 1},
      "pruneLowMagnitude: unknown parameter 'schedule' (received 1); the parameters are pruningSchedule, " +
      'blockSize, blockPoolingType, sparsityMByN, pruningPolicy, globalPruning.'],
    ['a schedule that is not a PruningSchedule', {pruningSchedule: {targetSparsity: 0.5}},
      "pruneLowMagnitude: 'pruningSchedule' must be a PruningSchedule (e.g. new ConstantSparsity(...)), but got an object."],
  ])('rejects %s', (_what, params, message) => {
    expect(() => pruneLowMagnitude(denseModel(), params as never)).toThrow(message);
  });

  it('refuses to nest a wrapper in a wrapper', () => {
    const wrapper = pruneLowMagnitude(tfl.layers.dense({units: 1}));
    expect(() => new PruneLowMagnitude({layer: wrapper})).toThrow(
        'PruneLowMagnitude: layer "prune_low_magnitude_' + wrapper.layer.name +
        '" is already a PruneLowMagnitude wrapper; wrappers cannot be nested.');
  });
});

describe('stripPruning', () => {
  it('returns the pre-pruning config and exactly sparse weights, with no pruning weights left', async () => {
    const model = denseModel();
    const pruned = pruneLowMagnitude(model, {pruningSchedule: schedule(0.75)});
    pruned.compile({optimizer: 'adam', loss: 'meanSquaredError'});
    await fitBatches(pruned, [10], [5], 2, [new UpdatePruningStep()]);
    const stripped = stripPruning(pruned);
    expect(stripped).toBeInstanceOf(tfl.Sequential);
    expect(stripped.toJSON(null, false)).toEqual(model.toJSON(null, false));
    expect(stripped.weights.map((w) => w.originalName)).toEqual(model.weights.map((w) => w.originalName));
    expect((await getSparsity(stripped)).map((s) => [s.zeros, s.size])).toEqual([[60, 80], [30, 40]]);
  });

  it('gives an equal copy of a model without wrappers (stripping twice is harmless)', () => {
    const model = denseModel();
    const once = stripPruning(model);
    expect(once).not.toBe(model);
    expect(stripPruning(once).toJSON(null, false)).toEqual(model.toJSON(null, false));
    expect(snapshot(stripPruning(once)).weights).toEqual(snapshot(model).weights);
  });

  it('rejects what is not a Sequential or functional model', () => {
    expect(() => stripPruning(tfl.layers.dense({units: 1}) as never))
        .toThrow("stripPruning: 'model' must be a tf.Sequential or functional tf.LayersModel, but got an instance of");
  });

  it('produces a model that loads in a process that never imported this package', async () => {
    const pruned = pruneLowMagnitude(denseModel(), {pruningSchedule: schedule(0.5)});
    pruned.compile({optimizer: 'adam', loss: 'meanSquaredError'});
    await fitBatches(pruned, [10], [5], 1, [new UpdatePruningStep()]);
    const stripped = stripPruning(pruned);
    let artifacts: tf.io.ModelArtifacts | undefined;
    await stripped.save(tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
    }));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tfmo-strip-'));
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({
      modelTopology: artifacts!.modelTopology, weightSpecs: artifacts!.weightSpecs,
    }));
    fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.from(artifacts!.weightData as ArrayBuffer));
    const script = `
      const tf = require('@tensorflow/tfjs-core'); require('@tensorflow/tfjs-backend-cpu');
      const tfl = require('@tensorflow/tfjs-layers'); const fs = require('fs');
      const m = JSON.parse(fs.readFileSync(process.argv[1] + '/model.json', 'utf8'));
      const w = fs.readFileSync(process.argv[1] + '/weights.bin');
      const ab = w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength);
      tfl.loadLayersModel(tf.io.fromMemory({modelTopology: m.modelTopology, weightSpecs: m.weightSpecs, weightData: ab})).then((model) => {
        const k = model.layers[0].getWeights()[0].dataSync();
        console.log(JSON.stringify({layers: model.layers.length, zeros: k.filter((v) => v === 0).length}));
      });`;
    const out = execFileSync(process.execPath, ['-e', script, dir], {cwd: path.resolve(__dirname, '../..'), encoding: 'utf8'});
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({layers: 2, zeros: 40});
    fs.rmSync(dir, {recursive: true});
  });
});
