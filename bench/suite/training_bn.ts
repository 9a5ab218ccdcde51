/**
 * Training against inference (issue 20): `fit` on one batch of the seed CNN
 * (batch 250, the seed article's) against `predict` on the same batch; and
 * what BatchNormalization and ReLU6 cost in training: `fit` on one batch of
 * the MobileNetV2-style model (64x64x3, batch 32 or the suite's batch if
 * smaller; on cpu 8 outside the full run), with the training kernels' one-pass gradients of FusedBatchNorm
 * and ClipByValue and with tfjs-core's stock ones (swapped in untimed before
 * each call), against `predict` on the same batch. The three run
 * interleaved, on one model.
 */
import * as tf from '@tensorflow/tfjs-core';

import {replacedGradient, TRAINING_GRADIENTS} from '../../src/kernels/training_gradients';
import {mobileNetV2Style} from '../models';
import {disposeWithOptimizer, seedCnn, syntheticBatch} from '../seed_cnn';
import {Backend, Figure, Settings, figure} from './figures';
import {interleave, pairedRatios, summarize} from './harness';

export async function measureTrainingBatchNorm(backend: Backend, settings: Settings): Promise<Figure[]> {
  return [...await measureSeedCnn(backend, settings), ...await measureMobileNetV2(backend, settings)];
}

/** `fit` on one batch of the seed CNN against `predict` on it, interleaved (wasm; batch 50 on cpu outside the full run). */
async function measureSeedCnn(backend: Backend, settings: Settings): Promise<Figure[]> {
  const full = settings.training.rounds >= 12;
  const batch = backend === 'cpu' && !full ? 50 : 250;
  const model = seedCnn();
  model.compile({optimizer: tf.train.adam(), loss: 'categoricalCrossentropy'});
  const {x, y} = syntheticBatch(batch);
  try {
    const measured = await interleave([
      {name: 'fit', fn: async () => {
        await model.fit(x, y, {batchSize: batch, epochs: 1, verbose: 0});
      }},
      {name: 'predict', fn: async () => {
        const out = model.predict(x) as tf.Tensor;
        await out.data();
        out.dispose();
      }},
    ], {...settings.training, rounds: Math.min(settings.training.rounds, full ? 12 : 4)});
    return [figure({
      id: 'training-seed-cnn', backend,
      title: `fit on one batch of ${batch}, seed CNN (28x28x1), with registerTrainingKernels`,
      baseline: 'predict on the same batch', unit: 'x',
      target: backend === 'wasm' ? {comparison: '<=', value: 3.5, text: 'at most 3.5x (issue 20)'} : null,
      details: {batch, msPerCall: measured.times},
    }, summarize(pairedRatios(measured, 'fit', 'predict')))];
  } finally {
    tf.dispose([x, y]);
    disposeWithOptimizer(model);
  }
}

async function measureMobileNetV2(backend: Backend, settings: Settings): Promise<Figure[]> {
  // MobileNetV2 trains slowly on cpu (about 10 s a batch of 32): there a batch of 8 and fewer rounds,
  // except in the full run (told apart by its training rounds: 12 or more; quick has 6, smoke 2).
  const full = settings.training.rounds >= 12;
  const batch = backend === 'cpu' && !full ? 8 : Math.min(32, settings.batch);
  const ours = TRAINING_GRADIENTS.map(({kernelName}) => tf.getGradient(kernelName));
  const stock = TRAINING_GRADIENTS.map(({kernelName}) => replacedGradient(kernelName));
  if (stock.some((config) => config === undefined)) {
    throw new Error('bench training-bn: registerTrainingKernels() did not install its gradients.');
  }
  const use = (configs: (tf.GradConfig | undefined)[]) => () => {
    for (const config of configs) tf.registerGradient(config!);
  };
  const model = mobileNetV2Style();
  model.compile({optimizer: tf.train.adam(), loss: 'categoricalCrossentropy'});
  const x = tf.randomUniform([batch, 64, 64, 3], -1, 1, 'float32', 1);
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from({length: batch}, (_, i) => i % 10), 'int32'), 10));
  const fitOnce = async () => {
    await model.fit(x, y, {batchSize: batch, epochs: 1, verbose: 0});
  };
  const predict = async () => {
    const out = model.predict(x) as tf.Tensor;
    await out.data();
    out.dispose();
  };
  // A round is about 8 s on wasm and 30 s on cpu at batch 32 on a loaded 2-core machine: few rounds outside the full run.
  const rounds = {...settings.training, rounds: Math.min(settings.training.rounds, full ? (backend === 'cpu' ? 4 : 10) : (backend === 'cpu' ? 2 : 4))};
  try {
    const measured = await interleave([
      {name: 'fit, stock gradients', fn: fitOnce, beforeEach: use(stock)},
      {name: 'fit', fn: fitOnce, beforeEach: use(ours)},
      {name: 'predict', fn: predict},
    ], rounds);
    const details = {batch, msPerCall: measured.times};
    return [
      figure({
        id: 'training-bn-mobilenetv2', backend,
        title: `fit on one batch of ${batch}, MobileNetV2-style (64x64x3), the training kernels' BatchNorm and ReLU6 gradients`,
        baseline: 'predict on the same batch', unit: 'x',
        target: backend === 'wasm' ? {comparison: '<=', value: 5, text: 'at most 5x (issue 20)'} : null, details,
      }, summarize(pairedRatios(measured, 'fit', 'predict'))),
      figure({
        id: 'training-bn-mobilenetv2-stock', backend,
        title: `fit on one batch of ${batch}, MobileNetV2-style (64x64x3), tfjs-core's stock BatchNorm and ReLU6 gradients`,
        baseline: 'predict on the same batch', unit: 'x', target: null, details,
      }, summarize(pairedRatios(measured, 'fit, stock gradients', 'predict'))),
      figure({
        id: 'training-bn-mobilenetv2-speedup', backend,
        title: `fit on one batch of ${batch}, MobileNetV2-style, the training kernels' BatchNorm and ReLU6 gradients`,
        baseline: 'the same with the stock gradients', unit: 'x faster', target: null, details,
      }, summarize(pairedRatios(measured, 'fit, stock gradients', 'fit'))),
    ];
  } finally {
    use(ours)();
    tf.dispose([x, y]);
    disposeWithOptimizer(model);
  }
}
