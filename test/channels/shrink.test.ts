// shrinkModel: every exactly-zero channel group goes, the outputs stay, stock tfjs loads the result.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {zeroLeastImportantChannels} from '../../src/channels/one_shot';
import {shrinkModel} from '../../src/channels/shrink';
import {pruneLowMagnitude} from '../../src/sparsity/prune';
import {saveToMemory} from '../../src/io/gzipped_size';
import {snapshot} from '../helpers/models';
import {maxRelativeDifference, parameterCount, seedWeights, zeroChannels} from './helpers';

type ST = tfl.SymbolicTensor;

function shapes(model: tfl.LayersModel, name: string): string[] {
  return model.getLayer(name).weights.map((w) => w.shape.join('x'));
}

function expectSameOutputs(a: tfl.LayersModel, b: tfl.LayersModel, inputShape: number[]): void {
  const x = tf.randomUniform([3, ...inputShape], -1, 1, 'float32', 11);
  expect(maxRelativeDifference(a, b, x)).toBeLessThan(1e-5);
  x.dispose();
}

describe('shrinkModel', () => {
  it('removes zero units of an MLP and the matching rows of the next Dense', () => {
    const model = tfl.sequential({layers: [
      tfl.layers.dense({units: 8, inputShape: [5], activation: 'relu', name: 'a'}),
      tfl.layers.dense({units: 6, activation: 'tanh', name: 'b'}),
      tfl.layers.dense({units: 3, name: 'c'}),
    ]});
    seedWeights(model);
    zeroChannels(model.getLayer('a'), [0, 3, 7]);
    zeroChannels(model.getLayer('b'), [5]);
    const small = shrinkModel(model);
    expect(shapes(small, 'a')).toEqual(['5x5', '5']);
    expect(shapes(small, 'b')).toEqual(['5x5', '5']);
    expect(shapes(small, 'c')).toEqual(['5x3', '3']);
    expect(small.getLayer('a').getConfig()['units']).toBe(5);
    expectSameOutputs(model, small, [5]);
  });

  it('keeps a unit whose bias is not zero, and one behind an activation that does not map 0 to 0', () => {
    const model = tfl.sequential({layers: [
      tfl.layers.dense({units: 4, inputShape: [3], name: 'a'}),
      tfl.layers.dense({units: 4, activation: 'sigmoid', name: 'b'}),
      tfl.layers.dense({units: 2, name: 'c'}),
    ]});
    seedWeights(model);
    zeroChannels(model.getLayer('a'), [1], ['kernel']);
    zeroChannels(model.getLayer('b'), [2]);
    const small = shrinkModel(model);
    expect(shapes(small, 'a')).toEqual(['3x4', '4']);
    expect(shapes(small, 'b')).toEqual(['4x4', '4']);
  });

  it('shrinks a CNN through BatchNormalization, pooling and Flatten into Dense rows', async () => {
    const model = tfl.sequential({layers: [
      tfl.layers.conv2d({filters: 6, kernelSize: 3, inputShape: [8, 8, 2], name: 'conv1'}),
      tfl.layers.batchNormalization({name: 'bn'}),
      tfl.layers.reLU({name: 'relu'}),
      tfl.layers.maxPooling2d({poolSize: 2, name: 'pool'}),
      tfl.layers.conv2d({filters: 4, kernelSize: 2, activation: 'relu', name: 'conv2'}),
      tfl.layers.dropout({rate: 0.5, name: 'drop'}),
      tfl.layers.flatten({name: 'flat'}),
      tfl.layers.dense({units: 3, name: 'out'}),
    ]});
    seedWeights(model);
    zeroChannels(model.getLayer('bn'), [0, 5]);
    zeroChannels(model.getLayer('conv2'), [2]);
    const small = shrinkModel(model);
    expect(shapes(small, 'conv1')).toEqual(['3x3x2x4', '4']);
    expect(shapes(small, 'bn')).toEqual(['4', '4', '4', '4']);
    expect(shapes(small, 'conv2')).toEqual(['2x2x4x3', '3']);
    // conv2's 2x2 map of 4 channels flattens to 16 rows; channel 2 fed rows 2, 6, 10, 14.
    expect(shapes(small, 'out')).toEqual(['12x3', '3']);
    expectSameOutputs(model, small, [8, 8, 2]);
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(await saveToMemory(small)));
    expectSameOutputs(small, loaded, [8, 8, 2]);
    expect(parameterCount(small)).toBeLessThan(parameterCount(model));
  });

  it('removes a channel of a residual Add only when every branch is zero there', () => {
    const input = tfl.input({shape: [6, 6, 3]});
    const stem = tfl.layers.conv2d({filters: 5, kernelSize: 1, name: 'stem', activation: 'relu'}).apply(input) as ST;
    const branch = tfl.layers.conv2d({filters: 5, kernelSize: 3, padding: 'same', name: 'branch'}).apply(stem) as ST;
    const sum = tfl.layers.add({name: 'sum'}).apply([stem, branch]) as ST;
    const head = tfl.layers.globalAveragePooling2d({name: 'gap'}).apply(sum) as ST;
    const output = tfl.layers.dense({units: 2, name: 'head'}).apply(head) as ST;
    const model = tfl.model({inputs: input, outputs: output});
    seedWeights(model);
    zeroChannels(model.getLayer('stem'), [1, 3]);
    zeroChannels(model.getLayer('branch'), [1, 4]);
    const small = shrinkModel(model);
    expect(shapes(small, 'stem')).toEqual(['1x1x3x4', '4']);
    expect(shapes(small, 'branch')).toEqual(['3x3x4x4', '4']);
    expect(shapes(small, 'head')).toEqual(['4x2', '2']);
    expectSameOutputs(model, small, [6, 6, 3]);
  });

  it('shifts channel indices through Concatenate', () => {
    const input = tfl.input({shape: [4, 4, 2]});
    const a = tfl.layers.conv2d({filters: 3, kernelSize: 1, name: 'a'}).apply(input) as ST;
    const b = tfl.layers.conv2d({filters: 4, kernelSize: 1, name: 'b'}).apply(input) as ST;
    const joined = tfl.layers.concatenate({name: 'cat'}).apply([a, b]) as ST;
    const output = tfl.layers.conv2d({filters: 2, kernelSize: 1, name: 'c'}).apply(joined) as ST;
    const model = tfl.model({inputs: input, outputs: output});
    seedWeights(model);
    zeroChannels(model.getLayer('a'), [2]);
    zeroChannels(model.getLayer('b'), [0, 1]);
    const small = shrinkModel(model);
    expect(shapes(small, 'a')).toEqual(['1x1x2x2', '2']);
    expect(shapes(small, 'b')).toEqual(['1x1x2x2', '2']);
    expect(shapes(small, 'c')).toEqual(['1x1x4x2', '2']);
    // Rows 2 (a's channel 2), 3 and 4 (b's 0 and 1) are gone.
    const kept = tf.tidy(() => Array.from(tf.reshape(small.getLayer('c').getWeights()[0], [-1]).dataSync()));
    const all = tf.tidy(() => Array.from(tf.reshape(model.getLayer('c').getWeights()[0], [-1]).dataSync()));
    expect(kept).toEqual([...all.slice(0, 4), ...all.slice(10, 14)]);
    expectSameOutputs(model, small, [4, 4, 2]);
  });

  it('ties a depthwise layer\'s inputs to its outputs, with a depth multiplier, and shrinks SeparableConv2D', async () => {
    const model = tfl.sequential({layers: [
      tfl.layers.conv2d({filters: 4, kernelSize: 1, inputShape: [6, 6, 3], name: 'expand'}),
      tfl.layers.depthwiseConv2d({kernelSize: 3, depthMultiplier: 2, padding: 'same', name: 'dw'}),
      tfl.layers.separableConv2d({filters: 5, kernelSize: 3, depthMultiplier: 2, name: 'sep'}),
      tfl.layers.globalMaxPooling2d({name: 'gmp'}),
      tfl.layers.dense({units: 2, name: 'out'}),
    ]});
    seedWeights(model);
    zeroChannels(model.getLayer('expand'), [1]);
    zeroChannels(model.getLayer('dw'), [2, 3], ['bias']);
    zeroChannels(model.getLayer('sep'), [0, 4]);
    const small = shrinkModel(model);
    expect(shapes(small, 'expand')).toEqual(['1x1x3x3', '3']);
    expect(shapes(small, 'dw')).toEqual(['3x3x3x2', '6']);
    expect(shapes(small, 'sep')).toEqual(['3x3x6x2', '1x1x12x3', '3']);
    expect(shapes(small, 'out')).toEqual(['3x2', '2']);
    expectSameOutputs(model, small, [6, 6, 3]);
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(await saveToMemory(small)));
    expect(shapes(loaded, 'sep')).toEqual(['3x3x6x2', '1x1x12x3', '3']);
  });

  it('follows channels into and out of a nested model, and through a shared layer', () => {
    const block = tfl.sequential({name: 'block', layers: [
      tfl.layers.dense({units: 6, inputShape: [4], activation: 'relu', name: 'inner1'}),
      tfl.layers.dense({units: 4, name: 'inner2'}),
    ]});
    const input = tfl.input({shape: [3]});
    const stem = tfl.layers.dense({units: 4, name: 'stem'}).apply(input) as ST;
    const shared = tfl.layers.dense({units: 4, activation: 'relu', name: 'shared'});
    const left = shared.apply(stem) as ST;
    const right = shared.apply(block.apply(stem) as ST) as ST;
    const output = tfl.layers.dense({units: 2, name: 'out'}).apply(tfl.layers.add().apply([left, right]) as ST) as ST;
    const model = tfl.model({inputs: input, outputs: output});
    seedWeights(model);
    zeroChannels(block.getLayer('inner1'), [0, 5]);
    zeroChannels(model.getLayer('shared'), [1]);
    // stem's channel 2 feeds shared directly and block's inner1: zero it in stem and in inner2's output.
    zeroChannels(model.getLayer('stem'), [2]);
    zeroChannels(block.getLayer('inner2'), [2]);
    const small = shrinkModel(model);
    const smallBlock = small.getLayer('block') as tfl.LayersModel;
    expect(smallBlock.getLayer('inner1').weights.map((w) => w.shape.join('x'))).toEqual(['3x4', '4']);
    expect(smallBlock.getLayer('inner2').weights.map((w) => w.shape.join('x'))).toEqual(['4x3', '3']);
    expect(shapes(small, 'stem')).toEqual(['3x3', '3']);
    expect(shapes(small, 'shared')).toEqual(['3x3', '3']);
    expect(shapes(small, 'out')).toEqual(['3x2', '2']);
    expectSameOutputs(model, small, [3]);
  });

  it('leaves channels that reach an unsupported layer whole, and shrinks the rest', () => {
    const input = tfl.input({shape: [5, 4]});
    const proj = tfl.layers.dense({units: 6, name: 'proj'}).apply(input) as ST;
    const norm = tfl.layers.layerNormalization({name: 'norm'}).apply(proj) as ST;
    const hidden = tfl.layers.dense({units: 6, activation: 'relu', name: 'hidden'}).apply(norm) as ST;
    const output = tfl.layers.dense({units: 2, name: 'out'}).apply(hidden) as ST;
    const model = tfl.model({inputs: input, outputs: output});
    seedWeights(model);
    zeroChannels(model.getLayer('proj'), [1]);
    zeroChannels(model.getLayer('hidden'), [3, 4]);
    const small = shrinkModel(model);
    expect(shapes(small, 'proj')).toEqual(['4x6', '6']);
    expect(shapes(small, 'hidden')).toEqual(['6x4', '4']);
    expectSameOutputs(model, small, [5, 4]);
  });

  it('keeps one channel of a tensor whose channels are all zero', () => {
    const model = tfl.sequential({layers: [
      tfl.layers.dense({units: 3, inputShape: [2], name: 'a'}),
      tfl.layers.dense({units: 2, name: 'b'}),
    ]});
    seedWeights(model);
    zeroChannels(model.getLayer('a'), [0, 1, 2]);
    const small = shrinkModel(model);
    expect(shapes(small, 'a')).toEqual(['2x1', '1']);
    expectSameOutputs(model, small, [2]);
  });

  it('does not change its input and leaks no tensor', () => {
    const model = tfl.sequential({layers: [
      tfl.layers.dense({units: 4, inputShape: [3], name: 'a'}),
      tfl.layers.dense({units: 2, name: 'b'}),
    ]});
    seedWeights(model);
    zeroChannels(model.getLayer('a'), [1]);
    const before = snapshot(model);
    const tensors = tf.memory().numTensors;
    const small = shrinkModel(model);
    expect(tf.memory().numTensors - tensors).toBe(small.weights.length);
    small.dispose();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(snapshot(model)).toEqual(before);
  });

  it('rejects what is not a layers model, naming the argument', () => {
    expect(() => shrinkModel({} as tfl.LayersModel)).toThrow(
        "shrinkModel: 'model' must be a tf.Sequential or functional tf.LayersModel, but got an object.");
  });
});

describe('zeroLeastImportantChannels then shrinkModel', () => {
  it('halves every prunable group of a CNN and keeps the outputs of the zeroed model', () => {
    const input = tfl.input({shape: [8, 8, 3]});
    const a = tfl.layers.conv2d({filters: 8, kernelSize: 3, padding: 'same', name: 'a', activation: 'relu'}).apply(input) as ST;
    const bn = tfl.layers.batchNormalization({name: 'bn'}).apply(a) as ST;
    const b = tfl.layers.conv2d({filters: 8, kernelSize: 3, padding: 'same', name: 'b'}).apply(bn) as ST;
    const sum = tfl.layers.add({name: 'sum'}).apply([bn, b]) as ST;
    const c = tfl.layers.conv2d({filters: 6, kernelSize: 1, name: 'c', activation: 'relu'}).apply(sum) as ST;
    const joined = tfl.layers.concatenate({name: 'cat'}).apply([sum, c]) as ST;
    const pooled = tfl.layers.globalAveragePooling2d({name: 'gap'}).apply(joined) as ST;
    const output = tfl.layers.dense({units: 3, name: 'head'}).apply(pooled) as ST;
    const model = tfl.model({inputs: input, outputs: output});
    seedWeights(model);
    const {model: zeroed, zeroed: count} = zeroLeastImportantChannels(model, 0.5);
    expect(count).toBe(4 + 3);
    const small = shrinkModel(zeroed);
    expect(shapes(small, 'a')).toEqual(['3x3x3x4', '4']);
    expect(shapes(small, 'b')).toEqual(['3x3x4x4', '4']);
    expect(shapes(small, 'c')).toEqual(['1x1x4x3', '3']);
    expect(shapes(small, 'head')).toEqual(['7x3', '3']);
    expectSameOutputs(zeroed, small, [8, 8, 3]);
    zeroed.dispose();
    small.dispose();
  });

  it('refuses a model that still holds pruning wrappers', () => {
    const model = tfl.sequential({layers: [tfl.layers.dense({units: 2, inputShape: [2], name: 'd'})]});
    const wrapped = pruneLowMagnitude(model);
    expect(() => shrinkModel(wrapped)).toThrow(
        `shrinkModel: model "${wrapped.name}" still holds the pruning wrapper "prune_low_magnitude_d"; ` +
        'call stripPruning(model) first and shrink its result.');
  });
});
