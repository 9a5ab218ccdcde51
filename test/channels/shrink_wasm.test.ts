// shrinkModel's output runs on tfjs-backend-wasm: its fused Conv2D and MatMul accept the cut biases.
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {shrinkModel} from '../../src/channels/shrink';
import {zeroChannels} from './helpers';

afterAll(async () => {
  await tf.setBackend('cpu');
});

it('runs a shrunk Conv2D + Dense model on wasm with the outputs of the zeroed one', async () => {
  await tf.setBackend('wasm');
  const model = tfl.sequential({layers: [
    tfl.layers.conv2d({filters: 6, kernelSize: 3, inputShape: [8, 8, 2], activation: 'relu', name: 'conv'}),
    tfl.layers.flatten(),
    tfl.layers.dense({units: 5, activation: 'relu', name: 'hidden'}),
    tfl.layers.dense({units: 3, name: 'out'}),
  ]});
  zeroChannels(model.getLayer('conv'), [1, 4]);
  zeroChannels(model.getLayer('hidden'), [0, 2]);
  const small = shrinkModel(model);
  expect(small.getLayer('conv').weights.map((w) => w.shape)).toEqual([[3, 3, 2, 4], [4]]);
  expect(small.getLayer('hidden').weights.map((w) => w.shape)).toEqual([[144, 3], [3]]);
  const x = tf.randomUniform([2, 8, 8, 2], -1, 1, 'float32', 3);
  const [expected, actual] = tf.tidy(() => [model, small].map((m) => (m.predict(x) as tf.Tensor).arraySync() as number[][]));
  for (let i = 0; i < 2; i++) {
    for (let j = 0; j < 3; j++) expect(actual[i][j]).toBeCloseTo(expected[i][j], 4);
  }
  x.dispose();
  model.dispose();
  small.dispose();
});
