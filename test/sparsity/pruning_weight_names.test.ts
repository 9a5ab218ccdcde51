// Weight names of the wrappers: unique, stable across save and load, and loadable next to a live copy.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {PruneLowMagnitude, pruneLowMagnitude} from '../../src';
import {saveToMemory} from '../../src/io/gzipped_size';


const lstmModel = () => tfl.sequential({
  layers: [
    tfl.layers.lstm({units: 2, inputShape: [3, 2], recurrentInitializer: 'glorotNormal'}),
    tfl.layers.dense({units: 1}),
  ],
});

it('names the masks after their weights when a layer has several prunable weights', () => {
  const pruned = pruneLowMagnitude(lstmModel());
  const lstm = pruned.layers[0] as PruneLowMagnitude;
  const dense = pruned.layers[1] as PruneLowMagnitude;
  const own = (w: PruneLowMagnitude) => w.nonTrainableWeights.map((v) => v.originalName.slice(w.name.length + 1));
  expect(own(lstm)).toEqual(['kernel_mask', 'kernel_threshold', 'recurrent_kernel_mask',
    'recurrent_kernel_threshold', 'pruning_step']);
  expect(own(dense)).toEqual(['mask', 'threshold', 'pruning_step']);
});

it('loads a saved pruned LSTM model twice in the process that holds the original', async () => {
  const pruned = pruneLowMagnitude(lstmModel());
  const artifacts = await saveToMemory(pruned);
  const first = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
  const second = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
  expect(second.weights.map((w) => w.originalName)).toEqual(pruned.weights.map((w) => w.originalName));
  expect(first.layers[0]).toBeInstanceOf(PruneLowMagnitude);
});
