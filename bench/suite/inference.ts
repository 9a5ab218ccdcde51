/**
 * What a stripped model costs at inference: `predict` on one batch with the
 * seed CNN pruned to 70% and stripped, against the original (unpruned) seed
 * CNN, interleaved. Stripping must leave a plain model behind, so the two
 * should run at the same speed.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import {disposeWithOptimizer, seedCnn, syntheticBatch} from '../seed_cnn';
import {Backend, Figure, Settings, figure} from './figures';
import {interleave, pairedRatios, summarize} from './harness';
import {SPARSITY, prunedCopy} from './sizes';

export async function measureInference(backend: Backend, settings: Settings): Promise<Figure[]> {
  const original = seedCnn();
  const stripped = await prunedCopy(original, SPARSITY);
  const {x, y} = syntheticBatch(settings.batch);
  const predict = (model: tfl.LayersModel) => async () => {
    const out = model.predict(x) as tf.Tensor;
    await out.data();
    out.dispose();
  };
  try {
    const measured = await interleave([
      {name: 'stripped', fn: predict(stripped)},
      {name: 'original', fn: predict(original)},
    ], settings.inference);
    return [figure({
      id: 'inference-stripped', backend,
      title: `predict on one batch of ${settings.batch}, seed CNN pruned to ${SPARSITY * 100}% and stripped`,
      baseline: 'predict on the same batch, the original seed CNN', unit: 'x',
      target: {comparison: '<=', value: 1.01, text: 'at most 1.01x'},
      details: {batch: settings.batch, ms: measured.times},
    }, summarize(pairedRatios(measured, 'stripped', 'original')))];
  } finally {
    tf.dispose([x, y]);
    disposeWithOptimizer(original);
    stripped.dispose();
  }
}
