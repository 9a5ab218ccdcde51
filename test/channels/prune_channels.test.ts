// pruneChannels: UpdatePruningStep zeroes whole channel groups on the schedule's steps; strip and shrink keep the outputs.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {channelGroups} from '../../src/channels/channel_groups';
import {pruneChannels} from '../../src/channels/prune_channels';
import {shrinkModel} from '../../src/channels/shrink';
import {saveToMemory} from '../../src/io/gzipped_size';
import {pruneLowMagnitude, stripPruning} from '../../src/sparsity/prune';
import {UpdatePruningStep} from '../../src/sparsity/pruning_callbacks';
import {ConstantSparsity, PolynomialDecay} from '../../src/sparsity/pruning_schedule';
import {PruneLowMagnitude} from '../../src/sparsity/pruning_wrapper';
import {snapshot} from '../helpers/models';
import {maxRelativeDifference, parameterCount, seedWeights} from './helpers';

type ST = tfl.SymbolicTensor;

/** Indices of the last-axis channels of `layer`'s weight `index` that are exactly zero everywhere. */
function zeroChannelsOf(layer: tfl.layers.Layer, index: number, axis = -1): number[] {
  const value = layer.getWeights()[index];
  const rank = value.shape.length;
  const a = axis < 0 ? rank + axis : axis;
  const perm = [...Array(rank).keys()].filter((d) => d !== a).concat([a]);
  const moved = tf.tidy(() => tf.max(tf.abs(tf.reshape(tf.transpose(value, perm), [-1, value.shape[a]])), 0).arraySync() as number[]);
  return moved.flatMap((v, c) => (v === 0 ? [c] : []));
}

function mlp(): tfl.Sequential {
  const model = tfl.sequential({layers: [
    tfl.layers.dense({units: 8, inputShape: [5], activation: 'relu', name: 'a'}),
    tfl.layers.dense({units: 6, activation: 'tanh', name: 'b'}),
    tfl.layers.dense({units: 3, name: 'c'}),
  ]});
  seedWeights(model);
  return model;
}

/** A CNN with BatchNorm and a residual Add; its input and output channels are fixed. */
function residualCnn(): tfl.LayersModel {
  const input = tfl.input({shape: [6, 6, 2]});
  const stem = tfl.layers.conv2d({filters: 8, kernelSize: 3, padding: 'same', name: 'stem'}).apply(input) as ST;
  const bn = tfl.layers.batchNormalization({name: 'bn'}).apply(stem) as ST;
  const act = tfl.layers.reLU({name: 'act'}).apply(bn) as ST;
  const branch = tfl.layers.conv2d({filters: 8, kernelSize: 1, name: 'branch'}).apply(act) as ST;
  const sum = tfl.layers.add({name: 'sum'}).apply([act, branch]) as ST;
  const pooled = tfl.layers.globalAveragePooling2d({name: 'gap'}).apply(sum) as ST;
  const out = tfl.layers.dense({units: 4, name: 'head'}).apply(pooled) as ST;
  const model = tfl.model({inputs: input, outputs: out});
  seedWeights(model);
  return model;
}

async function train(model: tfl.LayersModel, inputShape: number[], outputs: number, batches: number): Promise<void> {
  model.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
  const x = tf.randomUniform([batches * 4, ...inputShape], -1, 1, 'float32', 5);
  const y = tf.randomUniform([batches * 4, outputs], -1, 1, 'float32', 6);
  await model.fit(x, y, {batchSize: 4, epochs: 1, shuffle: false, verbose: 0, callbacks: [new UpdatePruningStep()]});
  tf.dispose([x, y]);
}

describe('pruneChannels', () => {
  it('zeroes half the units of every hidden Dense in one shot, then shrinks to a smaller MLP with the same outputs', async () => {
    const model = mlp();
    const before = snapshot(model);
    // One shot: cut at the first batch (step 1) only, then fine-tuned with the channels held at zero.
    const pruned = pruneChannels(model, {pruningSchedule: new ConstantSparsity({targetSparsity: 0.5, beginStep: 1, endStep: 1})});
    expect(pruned.layers.map((l) => l.getClassName())).toEqual(['PruneLowMagnitude', 'PruneLowMagnitude', 'PruneLowMagnitude']);
    expect((pruned.layers[0] as PruneLowMagnitude).getPrunedWeights().map((p) => p.weight.shape)).toEqual([[5, 8], [8]]);
    await train(pruned, [5], 3, 3);
    const stripped = stripPruning(pruned);
    // 8 units keep 4, 6 keep 3 (tfmot's k-rule); the output layer's units touch the model's output: whole.
    const a = zeroChannelsOf(stripped.getLayer('a'), 0);
    const b = zeroChannelsOf(stripped.getLayer('b'), 0);
    expect(a).toHaveLength(4);
    expect(b).toHaveLength(3);
    expect(zeroChannelsOf(stripped.getLayer('a'), 1)).toEqual(a);
    expect(zeroChannelsOf(stripped.getLayer('b'), 0, 0)).toEqual(a);
    expect(zeroChannelsOf(stripped.getLayer('c'), 0, 0)).toEqual(b);
    expect(zeroChannelsOf(stripped.getLayer('c'), 0)).toEqual([]);
    const small = shrinkModel(stripped);
    expect(small.layers.map((l) => l.getWeights()[0].shape)).toEqual([[5, 4], [4, 3], [3, 3]]);
    expect(maxRelativeDifference(stripped, small, tf.randomUniform([5, 5], -1, 1, 'float32', 9))).toBeLessThan(1e-5);
    expect(snapshot(model)).toEqual(before);
  });

  it('prunes a residual CNN with BatchNorm gradually: the branches of the Add are one group, gamma and beta zeroed', async () => {
    const model = residualCnn();
    // Cuts at steps 2 (sparsity 0.4259: 8 channels keep 5), 4 (0.4907: keep 4) and 6 (0.5: keep 4).
    const schedule = new PolynomialDecay({initialSparsity: 0.25, finalSparsity: 0.5, beginStep: 0, endStep: 6, frequency: 2});
    const pruned = pruneChannels(model, {pruningSchedule: schedule});
    const wrapped = pruned.layers.filter((l) => l instanceof PruneLowMagnitude).map((l) => (l as PruneLowMagnitude).layer.name);
    expect(wrapped.sort()).toEqual(['bn', 'branch', 'head', 'stem']);
    const bn = pruned.getLayer('prune_low_magnitude_bn') as PruneLowMagnitude;
    expect(bn.getPrunedWeights().map((p) => p.weight.originalName.split('/').pop())).toEqual(['gamma', 'beta']);
    await train(pruned, [6, 6, 2], 4, 2);
    let stripped = stripPruning(pruned);
    expect(zeroChannelsOf(stripped.getLayer('stem'), 0)).toHaveLength(3);
    await train(pruned, [6, 6, 2], 4, 4);
    expect((pruned.getLayer('prune_low_magnitude_stem') as PruneLowMagnitude).pruningStep).toBe(6);
    stripped = stripPruning(pruned);
    const zeroed = zeroChannelsOf(stripped.getLayer('stem'), 0);
    expect(zeroed).toHaveLength(4);
    for (const [name, weight, axis] of [['stem', 1, -1], ['bn', 0, -1], ['bn', 1, -1], ['branch', 0, -1], ['branch', 0, 2],
      ['branch', 1, -1], ['head', 0, 0]] as const) {
      expect([name, weight, axis, zeroChannelsOf(stripped.getLayer(name), weight, axis)]).toEqual([name, weight, axis, zeroed]);
    }
    // BatchNormalization's moving statistics are neither masked nor zeroed.
    expect(zeroChannelsOf(stripped.getLayer('bn'), 3)).toEqual([]);
    const small = shrinkModel(stripped);
    expect(small.getLayer('stem').getWeights()[0].shape).toEqual([3, 3, 2, 4]);
    expect(parameterCount(small)).toBeLessThan(parameterCount(stripped) / 2 + 20);
    expect(maxRelativeDifference(stripped, small, tf.randomUniform([2, 6, 6, 2], -1, 1, 'float32', 9))).toBeLessThan(1e-5);
  });

  it('saves and resumes mid-training: the wrappers keep channelImportance and the step', async () => {
    const pruned = pruneChannels(mlp(), {
      pruningSchedule: new ConstantSparsity({targetSparsity: 0.5, beginStep: 0, frequency: 100}), importance: 'l1',
    });
    await train(pruned, [5], 3, 2);
    const first = pruned.layers[0] as PruneLowMagnitude;
    expect(first.getConfig()['channelImportance']).toBe('l1');
    const artifacts = await saveToMemory(pruned);
    const restored = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
    const layer = restored.layers[0] as PruneLowMagnitude;
    expect(layer.channelImportance).toBe('l1');
    expect(layer.pruningStep).toBe(2);
    expect(zeroChannelsOf(stripPruning(restored).getLayer('a'), 0)).toEqual(zeroChannelsOf(stripPruning(pruned).getLayer('a'), 0));
  });

  it('prunes through a nested model, a shared layer, Concatenate and SeparableConv2D; shrinks with the same outputs', async () => {
    const block = tfl.sequential({name: 'block', layers: [
      tfl.layers.separableConv2d({filters: 6, kernelSize: 3, padding: 'same', depthMultiplier: 2, inputShape: [5, 5, 4],
        activation: 'relu', name: 'sep'}),
      tfl.layers.conv2d({filters: 4, kernelSize: 1, name: 'inner'}),
    ]});
    const input = tfl.input({shape: [5, 5, 2]});
    const stem = tfl.layers.conv2d({filters: 4, kernelSize: 3, padding: 'same', name: 'stem'}).apply(input) as ST;
    const shared = tfl.layers.conv2d({filters: 8, kernelSize: 1, activation: 'relu', name: 'shared'});
    const left = shared.apply(stem) as ST;
    const right = shared.apply(block.apply(stem) as ST) as ST;
    const joined = tfl.layers.concatenate({name: 'cat'}).apply([left, right]) as ST;
    const flat = tfl.layers.flatten({name: 'flat'}).apply(joined) as ST;
    const out = tfl.layers.dense({units: 3, name: 'out'}).apply(flat) as ST;
    const model = tfl.model({inputs: input, outputs: out});
    seedWeights(model);
    const pruned = pruneChannels(model, {pruningSchedule: new ConstantSparsity({targetSparsity: 0.5, beginStep: 1, endStep: 1})});
    await train(pruned, [5, 5, 2], 3, 2);
    const stripped = stripPruning(pruned);
    const small = shrinkModel(stripped);
    const smallBlock = small.getLayer('block') as tfl.LayersModel;
    // stem + inner (tied by the shared layer's two calls): 4 -> 2; sep's pointwise 6 -> 3; shared 8 -> 4.
    expect(small.getLayer('stem').getWeights()[0].shape).toEqual([3, 3, 2, 2]);
    expect(smallBlock.getLayer('sep').getWeights().map((w) => w.shape)).toEqual([[3, 3, 2, 2], [1, 1, 4, 3], [3]]);
    expect(smallBlock.getLayer('inner').getWeights()[0].shape).toEqual([1, 1, 3, 2]);
    expect(small.getLayer('shared').getWeights()[0].shape).toEqual([1, 1, 2, 4]);
    expect(small.getLayer('out').getWeights()[0].shape).toEqual([5 * 5 * 8, 3]);
    expect(maxRelativeDifference(stripped, small, tf.randomUniform([2, 5, 5, 2], -1, 1, 'float32', 9))).toBeLessThan(1e-5);
  });

  it('refuses to rank channels when a weight holds NaN, naming the weight', async () => {
    const model = mlp();
    const [kernel, bias] = model.getLayer('a').getWeights();
    const values = kernel.arraySync() as number[][];
    values[2][3] = NaN;
    model.getLayer('a').setWeights([tf.tensor2d(values), bias]);
    const pruned = pruneChannels(model, {pruningSchedule: new ConstantSparsity({targetSparsity: 0.5, beginStep: 1, endStep: 1})});
    pruned.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
    const x = tf.ones([4, 5]);
    const y = tf.ones([4, 3]);
    await expect(pruned.fit(x, y, {batchSize: 4, epochs: 1, verbose: 0, callbacks: [new UpdatePruningStep()]}))
        .rejects.toThrow(/Cannot prune weight "prune_low_magnitude_a\/kernel": it holds NaN \(at flat index 19\)/);
    tf.dispose([x, y]);
  });

  it('leaks no tensor: prune, train, strip and shrink, then dispose what was made', async () => {
    const model = mlp();
    const before = tf.memory().numTensors;
    const pruned = pruneChannels(model, {pruningSchedule: new ConstantSparsity({targetSparsity: 0.5, beginStep: 1, endStep: 1})});
    await train(pruned, [5], 3, 2);
    const stripped = stripPruning(pruned);
    const small = shrinkModel(stripped);
    for (const m of [pruned, stripped, small]) m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('leaves what it cannot handle whole and reports it through channelGroups', () => {
    const input = tfl.input({shape: [4]});
    const hidden = tfl.layers.dense({units: 6, name: 'hidden'}).apply(input) as ST;
    const mixed = tfl.layers.reshape({targetShape: [2, 3], name: 'mix'}).apply(hidden) as ST;
    const flat = tfl.layers.flatten().apply(mixed) as ST;
    const other = tfl.layers.dense({units: 5, name: 'other'}).apply(input) as ST;
    const out = tfl.layers.dense({units: 2, name: 'out'}).apply(tfl.layers.concatenate().apply([flat, other]) as ST) as ST;
    const model = tfl.model({inputs: input, outputs: out});
    const pruned = pruneChannels(model);
    const wrapped = pruned.layers.filter((l) => l instanceof PruneLowMagnitude).map((l) => (l as PruneLowMagnitude).layer.name);
    expect(wrapped.sort()).toEqual(['other', 'out']);
    const blocked = channelGroups(model).filter((g) => g.prunableChannels === 0);
    expect(blocked.some((g) => g.layers.includes('hidden') && g.reasons.some((r) => r.includes('mix')))).toBe(true);
  });

  it('rejects what it cannot prune with errors naming the argument', () => {
    const model = mlp();
    expect(() => pruneChannels({} as tfl.LayersModel)).toThrow(
        "pruneChannels: 'model' must be a tf.Sequential or functional tf.LayersModel, but got an object.");
    expect(() => pruneChannels(model, {importance: 'l3' as 'l2'})).toThrow(
        "pruneChannels: 'importance' must be 'l2' or 'l1', but got \"l3\".");
    expect(() => pruneChannels(model, {pruningSchedule: {} as ConstantSparsity})).toThrow(
        "pruneChannels: 'pruningSchedule' must be a PruningSchedule (e.g. new ConstantSparsity(...)), but got an object.");
    expect(() => pruneChannels(model, {sparsity: 0.5} as object)).toThrow(/pruneChannels: unknown parameter 'sparsity'/);
    const wrapped = pruneLowMagnitude(model);
    expect(() => pruneChannels(wrapped)).toThrow(
        `pruneChannels: model "${wrapped.name}" already holds the pruning wrapper "prune_low_magnitude_a"; channel ` +
        `pruning wraps a plain model: call stripPruning(model) first.`);
  });
});
