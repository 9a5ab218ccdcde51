// stripPruning gives back the original model's config, key for key (docs/pruning.md). tfjs 4.22 does not make
// that easy for Embedding: it derives batchInputShape from inputLength without a dtype, and a layer rebuilt from
// a config holding that batchInputShape gets dtype "float32" from tfjs's base constructor.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {ConstantSparsity, PruneSelectedLayers, UpdatePruningStep, pruneLowMagnitude, stripPruning} from '../../src';
import {fitBatches} from '../helpers/models';

const rnn = {units: 3, recurrentInitializer: 'glorotUniform'} as const;

const MODELS: Array<[string, () => tfl.LayersModel]> = [
  ['an Embedding with inputLength as first layer', () => tfl.sequential({
    layers: [tfl.layers.embedding({inputDim: 10, outputDim: 4, inputLength: 3}), tfl.layers.flatten(), tfl.layers.dense({units: 1})],
  })],
  ['an Embedding without inputLength', () => tfl.sequential({
    layers: [tfl.layers.embedding({inputDim: 10, outputDim: 4}), tfl.layers.globalAveragePooling1d({}), tfl.layers.dense({units: 1})],
  })],
  ['an Embedding with an inputShape', () => tfl.sequential({
    layers: [tfl.layers.embedding({inputDim: 10, outputDim: 4, inputShape: [3]}), tfl.layers.flatten()],
  })],
  ['an Embedding and an LSTM in a functional model', () => {
    const input = tfl.input({shape: [5], dtype: 'int32'});
    const embedded = tfl.layers.embedding({inputDim: 10, outputDim: 4}).apply(input) as tfl.SymbolicTensor;
    const encoded = tfl.layers.lstm(rnn).apply(embedded) as tfl.SymbolicTensor;
    return tfl.model({inputs: input, outputs: tfl.layers.dense({units: 2}).apply(encoded) as tfl.SymbolicTensor});
  }],
  ['an Embedding inside a nested Sequential', () => tfl.sequential({
    layers: [
      tfl.sequential({layers: [tfl.layers.embedding({inputDim: 5, outputDim: 2, inputLength: 2}), tfl.layers.flatten()]}),
      tfl.layers.dense({units: 1}),
    ],
  })],
  ['a CNN with BatchNormalization, DepthwiseConv2D, pooling and Dropout', () => tfl.sequential({
    layers: [
      tfl.layers.conv2d({filters: 2, kernelSize: 3, inputShape: [8, 8, 1]}), tfl.layers.batchNormalization({}),
      tfl.layers.depthwiseConv2d({kernelSize: 3}), tfl.layers.maxPooling2d({poolSize: 2}), tfl.layers.flatten(),
      tfl.layers.dropout({rate: 0.1}), tfl.layers.dense({units: 3, activation: 'softmax'}),
    ],
  })],
  ['Bidirectional, TimeDistributed and SimpleRNN layers', () => tfl.sequential({
    layers: [
      tfl.layers.bidirectional({layer: tfl.layers.gru({...rnn, returnSequences: true}) as tfl.RNN, inputShape: [4, 2]}),
      tfl.layers.timeDistributed({layer: tfl.layers.dense({units: 2})}), tfl.layers.simpleRNN(rnn),
    ],
  })],
  ['a Dense with a fixed batch size', () => tfl.sequential({
    layers: [tfl.layers.dense({units: 2, inputShape: [3], batchSize: 4})],
  })],
];

describe('stripPruning', () => {
  it.each(MODELS)('returns the original config for %s', (_, make) => {
    const model = make();
    const pruned = pruneLowMagnitude(model);
    const stripped = stripPruning(pruned);
    expect(stripped.getConfig()).toStrictEqual(model.getConfig());
    [model, pruned, stripped].forEach((m) => m.dispose());
  });

  it('keeps an Embedding without dtype after training, and when a policy leaves it unwrapped', async () => {
    const make = () => tfl.sequential({
      layers: [tfl.layers.embedding({inputDim: 10, outputDim: 4, inputLength: 3, name: 'e'}), tfl.layers.flatten(),
        tfl.layers.dense({units: 1, name: 'd'})],
    });
    const model = make();
    expect(model.layers[0].getConfig()['dtype']).toBeUndefined();
    const schedule = new ConstantSparsity({targetSparsity: 0.5, beginStep: 0, frequency: 1});
    const pruned = pruneLowMagnitude(model, {pruningSchedule: schedule});
    pruned.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
    const x = tf.tensor2d([[1, 2, 3], [4, 5, 6], [7, 8, 9], [0, 1, 2]], [4, 3], 'int32');
    await pruned.fit(x, tf.zeros([4, 1]), {epochs: 1, batchSize: 4, callbacks: [new UpdatePruningStep()], verbose: 0});
    const partly = pruneLowMagnitude(model, {pruningPolicy: new PruneSelectedLayers({names: ['d']})});
    for (const stripped of [stripPruning(pruned), stripPruning(partly)]) {
      expect(stripped.layers[0].getConfig()['dtype']).toBeUndefined();
      expect(stripped.getConfig()).toStrictEqual(model.getConfig());
      stripped.dispose();
    }
    x.dispose();
    [model, pruned, partly].forEach((m) => m.dispose());
  });

  it('keeps the original config of a trained CNN', async () => {
    const model = MODELS[5][1]();
    const pruned = pruneLowMagnitude(model, {
      pruningSchedule: new ConstantSparsity({targetSparsity: 0.5, beginStep: 0, frequency: 1}),
    });
    pruned.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
    await fitBatches(pruned, [8, 8, 1], [3], 2, [new UpdatePruningStep()]);
    const stripped = stripPruning(pruned);
    expect(stripped.getConfig()).toStrictEqual(model.getConfig());
    [model, pruned, stripped].forEach((m) => m.dispose());
  });
});
