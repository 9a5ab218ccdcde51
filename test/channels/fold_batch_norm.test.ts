// shrinkModel(model, {foldBatchNorm: true}): BatchNormalization folded into the layer before it, the
// activation after it moved in, the same outputs, stock tfjs loads the result; the option is checked.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {foldBatchNorm} from '../../src/channels/fold_batch_norm';
import {shrinkModel} from '../../src/channels/shrink';
import {saveToMemory} from '../../src/io/gzipped_size';
import {snapshot} from '../helpers/models';
import {allLayers, maxRelativeDifference, seedWeights, zeroChannels} from './helpers';

type ST = tfl.SymbolicTensor;

/** Float32 rounding: the folded kernel and bias are rounded once, the sums run in another order. */
const TOLERANCE = 1e-5;

function classes(model: tfl.LayersModel): string[] {
  return allLayers(model).map((l) => l.getClassName());
}

function expectSameOutputs(a: tfl.LayersModel, b: tfl.LayersModel, inputShape: number[]): void {
  const x = tf.randomUniform([3, ...inputShape], -1, 1, 'float32', 11);
  expect(maxRelativeDifference(a, b, x)).toBeLessThan(TOLERANCE);
  x.dispose();
}

/** Folds through shrinkModel and checks the outputs against the original and the unfolded shrunk model. */
function foldAndCheck(model: tfl.LayersModel, inputShape: number[]): {plain: tfl.LayersModel; folded: tfl.LayersModel} {
  const plain = shrinkModel(model);
  const folded = shrinkModel(model, {foldBatchNorm: true});
  expectSameOutputs(model, plain, inputShape);
  expectSameOutputs(plain, folded, inputShape);
  return {plain, folded};
}

function invertedResidual(): tfl.LayersModel {
  const input = tfl.input({shape: [8, 8, 4], name: 'input'});
  let y = tfl.layers.conv2d({filters: 24, kernelSize: 1, useBias: false, name: 'expand'}).apply(input) as ST;
  y = tfl.layers.batchNormalization({name: 'expand_bn'}).apply(y) as ST;
  y = tfl.layers.reLU({maxValue: 6, name: 'expand_relu'}).apply(y) as ST;
  y = tfl.layers.depthwiseConv2d({kernelSize: 3, padding: 'same', useBias: false, name: 'dw'}).apply(y) as ST;
  y = tfl.layers.batchNormalization({name: 'dw_bn'}).apply(y) as ST;
  y = tfl.layers.reLU({maxValue: 6, name: 'dw_relu'}).apply(y) as ST;
  y = tfl.layers.conv2d({filters: 4, kernelSize: 1, useBias: false, name: 'project'}).apply(y) as ST;
  y = tfl.layers.batchNormalization({name: 'project_bn'}).apply(y) as ST;
  const out = tfl.layers.add({name: 'add'}).apply([input, y]) as ST;
  const model = tfl.model({inputs: input, outputs: out, name: 'block'});
  seedWeights(model);
  return model;
}

describe('shrinkModel with foldBatchNorm', () => {
  it('folds a Sequential Conv-BN-ReLU chain, keeping ReLU6 layers and moving ReLU into the convolution', () => {
    const model = tfl.sequential({layers: [
      tfl.layers.conv2d({filters: 6, kernelSize: 3, inputShape: [8, 8, 2], useBias: false, name: 'c1'}),
      tfl.layers.batchNormalization({name: 'bn1'}),
      tfl.layers.reLU({maxValue: 6, name: 'r1'}),
      tfl.layers.conv2d({filters: 5, kernelSize: 3, name: 'c2'}),
      tfl.layers.batchNormalization({name: 'bn2', epsilon: 0.01}),
      tfl.layers.reLU({name: 'r2'}),
      tfl.layers.flatten({name: 'flat'}),
      tfl.layers.dense({units: 3, name: 'out'}),
    ]});
    seedWeights(model);
    zeroChannels(model.getLayer('c1'), [2]);
    zeroChannels(model.getLayer('bn1'), [2]);
    const {plain, folded} = foldAndCheck(model, [8, 8, 2]);
    expect(plain.layers.length).toBe(8);
    expect(classes(folded)).toEqual(['Conv2D', 'ReLU', 'Conv2D', 'Flatten', 'Dense']);
    expect(folded.getLayer('c1').weights.map((w) => w.shape)).toEqual([[3, 3, 2, 5], [5]]);
    expect(folded.getLayer('c1').getConfig()['useBias']).toBe(true);
    expect(folded.getLayer('c1').getConfig()['activation']).toBe('linear');
    expect(folded.getLayer('c2').getConfig()['activation']).toBe('relu');
    expectSameOutputs(model, folded, [8, 8, 2]);
  });

  it('folds a MobileNetV2-style inverted residual block and rewires the Add', async () => {
    const model = invertedResidual();
    zeroChannels(model.getLayer('expand_bn'), [0, 5]);
    zeroChannels(model.getLayer('dw_bn'), [0, 5]);
    const {plain, folded} = foldAndCheck(model, [8, 8, 4]);
    expect(plain.getLayer('expand').weights[0].shape).toEqual([1, 1, 4, 22]);
    expect(classes(plain)).toHaveLength(10);
    expect(classes(folded)).toEqual(['InputLayer', 'Conv2D', 'ReLU', 'DepthwiseConv2D', 'ReLU', 'Conv2D', 'Add']);
    expect(folded.getLayer('dw').weights.map((w) => w.shape)).toEqual([[3, 3, 22, 1], [22]]);
    const config = folded.getConfig() as {layers: Array<{name: string; inboundNodes: unknown[]}>};
    expect(config.layers.find((l) => l.name === 'add')!.inboundNodes).toEqual(
        [[['input', 0, 0, {}], ['project', 0, 0, {}]]]);
    expect(config.layers.find((l) => l.name === 'expand_relu')!.inboundNodes).toEqual([[['expand', 0, 0, {}]]]);
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(await saveToMemory(folded)));
    expect(classes(loaded)).toEqual(classes(folded));
    expectSameOutputs(model, loaded, [8, 8, 4]);
  });

  it('folds into a depthwise layer with a depth multiplier and into a SeparableConv2D\'s pointwise part', () => {
    const model = tfl.sequential({layers: [
      tfl.layers.depthwiseConv2d({kernelSize: 3, depthMultiplier: 2, inputShape: [6, 6, 3], name: 'dw'}),
      tfl.layers.batchNormalization({name: 'dw_bn'}),
      tfl.layers.separableConv2d({filters: 4, kernelSize: 3, depthMultiplier: 2, useBias: false, name: 'sep'}),
      tfl.layers.batchNormalization({name: 'sep_bn', center: false}),
      tfl.layers.activation({activation: 'elu', name: 'act'}),
      tfl.layers.globalAveragePooling2d({name: 'gap'}),
    ]});
    seedWeights(model);
    const {folded} = foldAndCheck(model, [6, 6, 3]);
    expect(classes(folded)).toEqual(['DepthwiseConv2D', 'SeparableConv2D', 'GlobalAveragePooling2D']);
    expect(folded.getLayer('sep').getConfig()['activation']).toBe('elu');
    expect(folded.getLayer('sep').weights.map((w) => w.shape)).toEqual([[3, 3, 6, 2], [1, 1, 12, 4], [4]]);
  });

  it('folds Dense-BN and moves an Activation layer into the Dense', () => {
    const model = tfl.sequential({layers: [
      tfl.layers.dense({units: 6, inputShape: [5], name: 'd1'}),
      tfl.layers.batchNormalization({name: 'bn', scale: false}),
      tfl.layers.activation({activation: 'tanh', name: 'act'}),
      tfl.layers.dense({units: 3, useBias: false, name: 'd2'}),
      tfl.layers.batchNormalization({name: 'bn_out'}),
    ]});
    seedWeights(model);
    const {folded} = foldAndCheck(model, [5]);
    expect(folded.layers.map((l) => l.name)).toEqual(['d1', 'd2']);
    expect(folded.getLayer('d1').getConfig()['activation']).toBe('tanh');
    expect(folded.getLayer('d2').weights.map((w) => w.shape)).toEqual([[6, 3], [3]]);
  });

  it('leaves a BatchNormalization whose producer is shared, has an activation, feeds two layers or is an output', () => {
    const a = tfl.input({shape: [4, 4, 3], name: 'a'});
    const b = tfl.input({shape: [4, 4, 3], name: 'b'});
    const shared = tfl.layers.conv2d({filters: 3, kernelSize: 1, name: 'shared'});
    const sa = tfl.layers.batchNormalization({name: 'shared_bn'}).apply(shared.apply(a) as ST) as ST;
    const sb = shared.apply(b) as ST;
    const act = tfl.layers.conv2d({filters: 3, kernelSize: 1, activation: 'relu', name: 'act'}).apply(sa) as ST;
    const actBn = tfl.layers.batchNormalization({name: 'act_bn'}).apply(act) as ST;
    const two = tfl.layers.conv2d({filters: 3, kernelSize: 1, name: 'two'}).apply(actBn) as ST;
    const twoBn = tfl.layers.batchNormalization({name: 'two_bn'}).apply(two) as ST;
    const sum = tfl.layers.add({name: 'sum'}).apply([two, twoBn, sb]) as ST;
    const outConv = tfl.layers.conv2d({filters: 3, kernelSize: 1, name: 'out_conv'}).apply(sum) as ST;
    const outBn = tfl.layers.batchNormalization({name: 'out_bn'}).apply(outConv) as ST;
    const axis = tfl.layers.conv2d({filters: 4, kernelSize: 1, name: 'axis'}).apply(outBn) as ST;
    const axisBn = tfl.layers.batchNormalization({axis: 1, name: 'axis_bn'}).apply(axis) as ST;
    const model = tfl.model({inputs: [a, b], outputs: [outConv, axisBn]});
    seedWeights(model);
    const folded = shrinkModel(model, {foldBatchNorm: true});
    const names = folded.layers.map((l) => l.name);
    for (const bn of ['shared_bn', 'act_bn', 'two_bn', 'out_bn', 'axis_bn']) expect(names).toContain(bn);
    expect(names).toHaveLength(model.layers.length);
    const x = [tf.randomUniform([2, 4, 4, 3], -1, 1, 'float32', 1), tf.randomUniform([2, 4, 4, 3], -1, 1, 'float32', 2)];
    expect(maxRelativeDifference(model, folded, x)).toBeLessThan(TOLERANCE);
    tf.dispose(x);
  });

  it('folds inside a nested model on its own, never across its boundary, and keeps the outer outputs', () => {
    const inner = tfl.sequential({name: 'inner', layers: [
      tfl.layers.batchNormalization({inputShape: [6, 6, 3], name: 'inner_in_bn'}),
      tfl.layers.conv2d({filters: 4, kernelSize: 3, useBias: false, name: 'inner_conv'}),
      tfl.layers.batchNormalization({name: 'inner_bn'}),
      tfl.layers.reLU({name: 'inner_relu'}),
    ]});
    const input = tfl.input({shape: [6, 6, 3], name: 'input'});
    let y = tfl.layers.conv2d({filters: 3, kernelSize: 1, name: 'outer_conv'}).apply(input) as ST;
    y = inner.apply(y) as ST;
    y = tfl.layers.conv2d({filters: 2, kernelSize: 1, name: 'head'}).apply(y) as ST;
    y = tfl.layers.batchNormalization({name: 'head_bn'}).apply(y) as ST;
    const model = tfl.model({inputs: input, outputs: y});
    seedWeights(model);
    const {folded} = foldAndCheck(model, [6, 6, 3]);
    expect(folded.layers.map((l) => l.name)).toEqual(['input', 'outer_conv', 'inner', 'head']);
    expect((folded.getLayer('inner') as tfl.LayersModel).layers.map((l) => l.name)).toEqual(['inner_in_bn', 'inner_conv']);
    expect(folded.outputNames).toEqual(['head']);
  });

  it('reloads with stock tfjs, does not change its input and leaks no tensor', async () => {
    const model = invertedResidual();
    const before = snapshot(model);
    const tensors = tf.memory().numTensors;
    const folded = shrinkModel(model, {foldBatchNorm: true});
    expect(tf.memory().numTensors - tensors).toBe(folded.weights.length);
    expect(snapshot(model)).toEqual(before);
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(await saveToMemory(folded)));
    expectSameOutputs(folded, loaded, [8, 8, 4]);
    const {model: again, batchNorms, activations} = foldBatchNorm(folded);
    expect([batchNorms, activations]).toEqual([0, 0]);
    for (const m of [folded, loaded, again]) m.dispose();
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('keeps every layer without the option, or with it false', () => {
    const model = invertedResidual();
    for (const options of [undefined, {}, {foldBatchNorm: false}]) {
      const small = shrinkModel(model, options);
      expect(small.layers).toHaveLength(model.layers.length);
      small.dispose();
    }
  });

  it('rejects options that are not an object, an unknown option and a foldBatchNorm that is not a boolean', () => {
    const model = invertedResidual();
    expect(() => shrinkModel(model, 5 as never)).toThrow("shrinkModel: 'options' must be an object, but got 5.");
    expect(() => shrinkModel(model, {foldBN: true} as never)).toThrow(
        "shrinkModel: unknown option 'foldBN' (received true); the options are foldBatchNorm.");
    expect(() => shrinkModel(model, {foldBatchNorm: 'yes'} as never)).toThrow(
        "shrinkModel: 'foldBatchNorm' must be a boolean, but got \"yes\".");
  });
});
