// Pruning policies: which layers pruneLowMagnitude wraps, on Sequential and functional models.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {
  ConstantSparsity,
  PruneLowMagnitude,
  PruneSelectedLayers,
  PruningError,
  PruningPolicy,
  SkipUnsupportedLayers,
  UpdatePruningStep,
  getSparsity,
  isPrunable,
  pruneLowMagnitude,
  stripPruning,
} from '../../src';
import {ChannelScale, fitBatches, seeded, snapshot} from '../helpers/models';

const everyStep = () => new ConstantSparsity({targetSparsity: 0.5, beginStep: 0, frequency: 1});
const classes = (model: tfl.LayersModel) => model.layers.map((l) => l.getClassName());

/** Dense, ChannelScale (weights pruning does not know), Dense, Dropout: a Sequential model. */
function sequentialWithScale(): tfl.Sequential {
  return tfl.sequential({
    layers: [
      tfl.layers.dense({units: 6, inputShape: [4], name: 'd1'}),
      new ChannelScale({scale: 0.5, name: 'scale'}),
      tfl.layers.dense({units: 3, name: 'd2'}),
      tfl.layers.dropout({rate: 0.1, name: 'drop'}),
    ],
  });
}

/** input -> conv -> flatten -> [dense_a, ChannelScale -> dense_b] -> concatenate: a functional model. */
function functionalWithScale(): tfl.LayersModel {
  const input = tfl.input({shape: [4, 4, 1], name: 'image'});
  const conv = tfl.layers.conv2d({filters: 2, kernelSize: 3, name: 'conv'}).apply(input) as tfl.SymbolicTensor;
  const flat = tfl.layers.flatten({name: 'flat'}).apply(conv) as tfl.SymbolicTensor;
  const a = tfl.layers.dense({units: 3, name: 'dense_a'}).apply(flat) as tfl.SymbolicTensor;
  const scaled = new ChannelScale({scale: 2, name: 'scale'}).apply(flat) as tfl.SymbolicTensor;
  const b = tfl.layers.dense({units: 3, name: 'dense_b'}).apply(scaled) as tfl.SymbolicTensor;
  const out = tfl.layers.concatenate({name: 'cat'}).apply([a, b]) as tfl.SymbolicTensor;
  return tfl.model({inputs: input, outputs: out, name: 'two_heads'});
}

function expectSamePredictions(a: tfl.LayersModel, b: tfl.LayersModel, x: tf.Tensor): void {
  const [pa, pb] = [a.predict(x) as tf.Tensor, b.predict(x) as tf.Tensor];
  expect(Array.from(pb.dataSync())).toEqual(Array.from(pa.dataSync()));
  tf.dispose([pa, pb]);
}

describe('SkipUnsupportedLayers', () => {
  it('wraps the prunable layers of a Sequential model and leaves the unsupported one as it is', async () => {
    const model = sequentialWithScale();
    expect(() => pruneLowMagnitude(model)).toThrow(/layer "scale" \(class ChannelScaleForTests\) cannot be pruned/);
    const pruned = pruneLowMagnitude(model, {pruningPolicy: new SkipUnsupportedLayers(), pruningSchedule: everyStep()});
    expect(classes(pruned)).toEqual(['PruneLowMagnitude', 'ChannelScaleForTests', 'PruneLowMagnitude', 'PruneLowMagnitude']);
    expect(pruned.layers[1].name).toBe('scale');
    const x = seeded([3, 4], 1);
    expectSamePredictions(model, pruned, x);
    x.dispose();
    pruned.compile({optimizer: 'adam', loss: 'meanSquaredError'});
    await fitBatches(pruned, [4], [3], 1, [new UpdatePruningStep()]);
    expect((await getSparsity(pruned)).map((s) => [s.layer, s.sparsity])).toEqual([['d1', 0.5], ['d2', 0.5]]);
    expect(stripPruning(pruned).toJSON(null, false)).toEqual(model.toJSON(null, false));
  });

  it('leaves the unsupported layer of a functional model unwrapped and keeps the graph', async () => {
    const model = functionalWithScale();
    const pruned = pruneLowMagnitude(model, {pruningPolicy: new SkipUnsupportedLayers(), pruningSchedule: everyStep()});
    expect(pruned.layers.map((l) => l.name)).toEqual([
      'image', 'prune_low_magnitude_conv', 'prune_low_magnitude_flat', 'scale', 'prune_low_magnitude_dense_a',
      'prune_low_magnitude_dense_b', 'prune_low_magnitude_cat',
    ]);
    const x = seeded([2, 4, 4, 1], 2);
    expectSamePredictions(model, pruned, x);
    x.dispose();
    pruned.compile({optimizer: 'adam', loss: 'meanSquaredError'});
    await fitBatches(pruned, [4, 4, 1], [6], 1, [new UpdatePruningStep()]);
    expect((await getSparsity(pruned)).map((s) => s.layer)).toEqual(['conv', 'dense_a', 'dense_b']);
    expect(stripPruning(pruned).toJSON(null, false)).toEqual(model.toJSON(null, false));
  });

  it('judges a TimeDistributed by the layer it wraps', () => {
    const td = tfl.layers.timeDistributed({layer: tfl.layers.rescaling({scale: 2}), inputShape: [3, 2]});
    expect(isPrunable(td)).toBe(false);
    expect(new SkipUnsupportedLayers().allowPruning(td)).toBe(false);
    expect(new SkipUnsupportedLayers().allowPruning(tfl.layers.dense({units: 1}))).toBe(true);
  });
});

describe('PruneSelectedLayers', () => {
  it('prunes only the layers named (exact strings and RegExps)', () => {
    const pruned = pruneLowMagnitude(sequentialWithScale(), {pruningPolicy: new PruneSelectedLayers({names: ['d2', /^dr/]})});
    expect(pruned.layers.map((l) => l.name)).toEqual(['d1', 'scale', 'prune_low_magnitude_d2', 'prune_low_magnitude_drop']);
  });

  it('prunes only the layers a predicate selects, in a functional model', () => {
    const pruned = pruneLowMagnitude(functionalWithScale(), {
      pruningPolicy: new PruneSelectedLayers({predicate: (layer) => layer.getClassName() === 'Dense'}),
    });
    expect(pruned.layers.map((l) => l.name)).toEqual([
      'image', 'conv', 'flat', 'scale', 'prune_low_magnitude_dense_a', 'prune_low_magnitude_dense_b', 'cat',
    ]);
  });

  it('needs a layer to match both names and predicate when both are given', () => {
    const policy = new PruneSelectedLayers({names: [/^d/], predicate: (layer) => layer.getClassName() === 'Dense'});
    const pruned = pruneLowMagnitude(sequentialWithScale(), {pruningPolicy: policy});
    expect(pruned.layers.map((l) => l.name)).toEqual(['prune_low_magnitude_d1', 'scale', 'prune_low_magnitude_d2', 'drop']);
  });

  it('moves the input shape onto the first layer only when that layer is wrapped', () => {
    const pruned = pruneLowMagnitude(sequentialWithScale(), {pruningPolicy: new PruneSelectedLayers({names: ['d2']})});
    const x = seeded([2, 4], 3);
    const y = pruned.predict(x) as tf.Tensor;
    expect(y.shape).toEqual([2, 3]);
    tf.dispose([x, y]);
  });

  it('still fails on a selected layer that cannot be pruned, naming it', () => {
    expect(() => pruneLowMagnitude(sequentialWithScale(), {pruningPolicy: new PruneSelectedLayers({names: ['scale']})}))
        .toThrow(/^pruneLowMagnitude: layer "scale" \(class ChannelScaleForTests\) cannot be pruned/);
  });

  it('rejects a model without a layer of a given name (a typo), listing the layers', () => {
    const call = () => pruneLowMagnitude(sequentialWithScale(), {pruningPolicy: new PruneSelectedLayers({names: ['dense2']})});
    expect(call).toThrow(PruningError);
    expect(call).toThrow(
        /^PruneSelectedLayers: model "sequential_\d+" has no layer named "dense2"; its layers are "d1", "scale", "d2", "drop"\.$/);
  });

  it.each<[string, unknown, string]>([
    ['no argument', undefined, "PruneSelectedLayers: 'args' must be an object, but got undefined."],
    ['neither names nor predicate', {}, "PruneSelectedLayers: 'args' must have 'names' or 'predicate' (or both), but got neither."],
    ['names that are not strings or RegExps', {names: ['a', 3]},
      "PruneSelectedLayers: 'names' must be an array of strings and RegExps, but got an array of length 2."],
    ['a predicate that is not a function', {predicate: true}, "PruneSelectedLayers: 'predicate' must be a function, but got true."],
  ])('rejects %s with a TypeError', (_what, args, message) => {
    expect(() => new PruneSelectedLayers(args as never)).toThrow(TypeError);
    expect(() => new PruneSelectedLayers(args as never)).toThrow(message);
  });
});

describe('a custom PruningPolicy', () => {
  class DenseOnlyModels extends PruningPolicy {
    allowPruning(layer: tfl.layers.Layer): boolean {
      return layer.getClassName() === 'Dense';
    }
    override ensureModelSupportsPruning(model: tfl.LayersModel): void {
      if (model.layers.some((l) => l.getClassName() === 'Conv2D')) {
        throw new PruningError(`DenseOnlyModels: model "${model.name}" has a Conv2D layer.`);
      }
    }
  }

  it('can reject a whole model with its own error, before anything is built', () => {
    expect(() => pruneLowMagnitude(functionalWithScale(), {pruningPolicy: new DenseOnlyModels()}))
        .toThrow('DenseOnlyModels: model "two_heads" has a Conv2D layer.');
  });

  it('is asked about every layer, nested models included, and never about input layers', () => {
    const seen: string[] = [];
    const inner = tfl.sequential({name: 'inner', layers: [tfl.layers.dense({units: 2, inputShape: [3], name: 'inner_dense'})]});
    const input = tfl.input({shape: [3], name: 'x'});
    const output = tfl.layers.dense({units: 1, name: 'head'}).apply(inner.apply(input) as tfl.SymbolicTensor) as tfl.SymbolicTensor;
    const model = tfl.model({inputs: input, outputs: output});
    const pruned = pruneLowMagnitude(model, {pruningPolicy: {allowPruning: (layer) => (seen.push(layer.name), layer.name === 'inner_dense')}});
    expect(seen).toEqual(['inner_dense', 'head']);
    expect((pruned.getLayer('inner') as tfl.LayersModel).layers[0]).toBeInstanceOf(PruneLowMagnitude);
    expect(pruned.getLayer('head')).not.toBeInstanceOf(PruneLowMagnitude);
  });

  it('does not modify the model it is given', () => {
    const model = sequentialWithScale();
    const before = snapshot(model);
    pruneLowMagnitude(model, {pruningPolicy: new SkipUnsupportedLayers()});
    expect(snapshot(model)).toEqual(before);
  });
});
