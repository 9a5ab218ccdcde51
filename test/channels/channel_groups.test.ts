// channelGroups: which channels go together, how many, and why some cannot be pruned.
import * as tfl from '@tensorflow/tfjs-layers';

import {channelGroups} from '../../src/channels/channel_groups';
import {snapshot} from '../helpers/models';

type ST = tfl.SymbolicTensor;

describe('channelGroups', () => {
  it('groups a convolution\'s filters with its BatchNormalization and the Dense rows behind Flatten', () => {
    const model = tfl.sequential({layers: [
      tfl.layers.conv2d({filters: 8, kernelSize: 3, inputShape: [6, 6, 1], name: 'conv'}),
      tfl.layers.batchNormalization({name: 'bn'}),
      tfl.layers.flatten({name: 'flatten'}),
      tfl.layers.dense({units: 10, name: 'dense'}),
    ]});
    expect(channelGroups(model)).toEqual([
      {id: 0, layers: ['conv'], weights: ['conv:kernel@2'], channels: 1, prunableChannels: 0,
        reasons: ['a model input keeps its shape']},
      {id: 1, layers: ['bn', 'conv', 'dense'],
        weights: ['bn:beta@0', 'bn:gamma@0', 'bn:moving_mean@0', 'bn:moving_variance@0', 'conv:bias@0',
          'conv:kernel@3', 'dense:kernel@0'],
        channels: 8, prunableChannels: 8, reasons: []},
      {id: 2, layers: ['dense'], weights: ['dense:bias@0', 'dense:kernel@1'], channels: 10, prunableChannels: 0,
        reasons: ['a model output keeps its shape']},
    ]);
  });

  it('puts the branches of a residual addition into one group', () => {
    const input = tfl.input({shape: [4, 4, 3]});
    const a = tfl.layers.conv2d({filters: 4, kernelSize: 1, name: 'a'}).apply(input) as ST;
    const b = tfl.layers.conv2d({filters: 4, kernelSize: 1, name: 'b'}).apply(a) as ST;
    const sum = tfl.layers.add({name: 'sum'}).apply([a, b]) as ST;
    const out = tfl.layers.conv2d({filters: 2, kernelSize: 1, name: 'out'}).apply(sum) as ST;
    const groups = channelGroups(tfl.model({inputs: input, outputs: out}));
    const residual = groups.find((g) => g.layers.includes('b') && g.weights.includes('b:kernel@3'));
    expect(residual).toMatchObject({layers: ['a', 'b', 'out'], channels: 4, prunableChannels: 4});
  });

  it('names the layer and the reason for channels it cannot prune', () => {
    const input = tfl.input({shape: [5, 3]});
    const proj = tfl.layers.dense({units: 6, name: 'proj'}).apply(input) as ST;
    const rnn = tfl.layers.simpleRNN({units: 4, name: 'rnn', recurrentInitializer: 'glorotNormal'}).apply(proj) as ST;
    const out = tfl.layers.dense({units: 2, activation: 'sigmoid', name: 'head'}).apply(
        tfl.layers.dense({units: 3, activation: 'softplus', name: 'mid'}).apply(rnn) as ST) as ST;
    const groups = channelGroups(tfl.model({inputs: input, outputs: out}));
    expect(groups.find((g) => g.weights.includes('proj:kernel@1'))?.reasons).toEqual([
      '"rnn" (SimpleRNN) is a recurrent or wrapper layer, which channel pruning does not support',
    ]);
    expect(groups.find((g) => g.weights.includes('mid:kernel@1'))?.reasons).toEqual([
      '"mid" (Dense) has activation \'softplus\', which does not map 0 to 0',
    ]);
  });

  it('does not change the model', () => {
    const model = tfl.sequential({layers: [tfl.layers.dense({units: 3, inputShape: [2]}), tfl.layers.dense({units: 1})]});
    const before = snapshot(model);
    channelGroups(model);
    expect(snapshot(model)).toEqual(before);
  });
});
