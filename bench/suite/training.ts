/**
 * What pruning costs in training: `fit` on one batch of the seed CNN with
 * every weighted layer pruned (PolynomialDecay, masks recomputed every 100
 * steps or every step, driven by UpdatePruningStep), and with its channels
 * pruned (pruneChannels, every 100 steps), against `fit` on one batch of the
 * same model unpruned. The four models run interleaved.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import {PolynomialDecay, UpdatePruningStep, pruneChannels, pruneLowMagnitude} from '../../src';
import {disposeWithOptimizer, seedCnn, syntheticBatch} from '../seed_cnn';
import {Backend, Figure, Settings, figure} from './figures';
import {interleave, pairedRatios, summarize} from './harness';

/** The seed CNN with every weighted layer pruned, masks recomputed every `frequency` steps. */
function prunedSeedCnn(frequency: number): tfl.LayersModel {
  const source = seedCnn();
  const model = pruneLowMagnitude(source, {
    pruningSchedule: new PolynomialDecay({initialSparsity: 0.5, finalSparsity: 0.7, beginStep: 0, endStep: 1_000_000, frequency}),
  }) as tfl.LayersModel;
  disposeWithOptimizer(source);
  model.compile({optimizer: tf.train.adam(), loss: 'categoricalCrossentropy'});
  return model;
}

/** The seed CNN with its channels pruned, masks recomputed every 100 steps. */
function channelPrunedSeedCnn(): tfl.LayersModel {
  const source = seedCnn();
  const model = pruneChannels(source, {
    pruningSchedule: new PolynomialDecay({initialSparsity: 0.25, finalSparsity: 0.5, beginStep: 0, endStep: 1_000_000, frequency: 100}),
  });
  disposeWithOptimizer(source);
  model.compile({optimizer: tf.train.adam(), loss: 'categoricalCrossentropy'});
  return model;
}

export async function measureTraining(backend: Backend, settings: Settings): Promise<Figure[]> {
  const {x, y} = syntheticBatch(settings.batch);
  const unpruned = seedCnn();
  const every100 = prunedSeedCnn(100);
  const every1 = prunedSeedCnn(1);
  const channels = channelPrunedSeedCnn();
  const fitOnce = (model: tfl.LayersModel, callbacks: tfl.Callback[] = []) => async () => {
    await model.fit(x, y, {batchSize: settings.batch, epochs: 1, verbose: 0, callbacks});
  };
  try {
    const measured = await interleave([
      {name: 'unpruned', fn: fitOnce(unpruned)},
      {name: 'frequency 100', fn: fitOnce(every100, [new UpdatePruningStep()])},
      {name: 'frequency 1', fn: fitOnce(every1, [new UpdatePruningStep()])},
      {name: 'channels, frequency 100', fn: fitOnce(channels, [new UpdatePruningStep()])},
    ], settings.training);
    const channelsRatio = summarize(pairedRatios(measured, 'channels, frequency 100', 'unpruned'));
    const every100Ratio = summarize(pairedRatios(measured, 'frequency 100', 'unpruned'));
    const every1Ratio = summarize(pairedRatios(measured, 'frequency 1', 'unpruned'));
    const details = {
      batch: settings.batch,
      msPerFit: measured.times,
      // The median batch of frequency 100 has no mask update; one batch in 100 costs what a batch of frequency 1 does.
      amortizedFrequency100:
          every100Ratio.median + (every1Ratio.median - every100Ratio.median) / 100,
    };
    return [
      figure({
        id: 'training-frequency-100', backend,
        title: `fit on one batch of ${settings.batch}, seed CNN pruned, PolynomialDecay frequency 100`,
        baseline: 'fit on one batch, the same model unpruned', unit: 'x',
        target: {comparison: '<=', value: 1.05, text: 'at most 1.05x'}, details,
      }, every100Ratio),
      figure({
        id: 'training-frequency-1', backend,
        title: `fit on one batch of ${settings.batch}, seed CNN pruned, a mask update every batch`,
        baseline: 'fit on one batch, the same model unpruned', unit: 'x',
        target: {comparison: '<=', value: 1.25, text: 'at most 1.25x'}, details,
      }, every1Ratio),
      figure({
        id: 'training-channels-frequency-100', backend,
        title: `fit on one batch of ${settings.batch}, seed CNN channel-pruned (pruneChannels), frequency 100`,
        baseline: 'fit on one batch, the same model unpruned', unit: 'x',
        target: {comparison: '<=', value: 1.10, text: 'at most 1.10x'}, details,
      }, channelsRatio),
    ];
  } finally {
    tf.dispose([x, y]);
    for (const model of [unpruned, every100, every1, channels]) disposeWithOptimizer(model);
  }
}
