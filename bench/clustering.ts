/**
 * What clustering costs in training: `fit` on one batch of the seed CNN with
 * every kernel clustered (16 clusters, sparsity kept, as the MNIST example
 * does after pruning), against `fit` on one batch of the same model
 * unclustered. The two models run interleaved.
 *
 *   npx tsx bench/index.ts --only clustering [--quick] [--backends wasm]
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import {clusterWeights} from '../src';
import {disposeWithOptimizer, seedCnn, syntheticBatch} from './seed_cnn';
import {Backend, Figure, Settings, figure} from './suite/figures';
import {interleave, pairedRatios, summarize} from './suite/harness';

/** The seed CNN with every kernel clustered into 16 centroids (sparsity kept). */
function clusteredSeedCnn(): tfl.LayersModel {
  const source = seedCnn();
  const model = clusterWeights(source, {numberOfClusters: 16, preserveSparsity: true});
  disposeWithOptimizer(source);
  model.compile({optimizer: tf.train.adam(), loss: 'categoricalCrossentropy'});
  return model;
}

export async function measureClustering(backend: Backend, settings: Settings): Promise<Figure[]> {
  const {x, y} = syntheticBatch(settings.batch);
  const unclustered = seedCnn();
  const clustered = clusteredSeedCnn();
  const fitOnce = (model: tfl.LayersModel) => async () => {
    await model.fit(x, y, {batchSize: settings.batch, epochs: 1, verbose: 0});
  };
  try {
    const measured = await interleave([
      {name: 'unclustered', fn: fitOnce(unclustered)},
      {name: 'clustered', fn: fitOnce(clustered)},
    ], settings.training);
    return [figure({
      id: 'training-clustered', backend,
      title: `fit on one batch of ${settings.batch}, seed CNN clustered (16 clusters, sparsity kept)`,
      baseline: 'fit on one batch, the same model unclustered', unit: 'x',
      target: {comparison: '<=', value: 1.3, text: 'at most 1.3x'},
      details: {batch: settings.batch, msPerFit: measured.times},
    }, summarize(pairedRatios(measured, 'clustered', 'unclustered')))];
  } finally {
    disposeWithOptimizer(unclustered);
    disposeWithOptimizer(clustered);
    tf.dispose([x, y]);
  }
}
