/**
 * Inference time of two models compared in one run: rounds alternate between
 * them (so a change of machine load hits both), and the speed-up is the
 * median over rounds of `time(reference) / time(candidate)`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import {IMAGE_SIZE} from './data';

/** Milliseconds for `repeats` predictions of `model` on `x`, the result read back each time. */
async function timePredictions(model: tfl.LayersModel, x: tf.Tensor, repeats: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < repeats; i++) {
    const y = model.predict(x) as tf.Tensor;
    await y.data();
    y.dispose();
  }
  return performance.now() - start;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Speed-up of `candidate` over `reference` at batch `batch`: the median ratio over interleaved rounds. */
export async function speedup(
    reference: tfl.LayersModel, candidate: tfl.LayersModel, batch: number, rounds = 15, repeats = batch === 1 ? 20 : 3):
    Promise<number> {
  const x = tf.randomUniform([batch, IMAGE_SIZE, IMAGE_SIZE, 1], 0, 1, 'float32', 7);
  try {
    await timePredictions(reference, x, 2);
    await timePredictions(candidate, x, 2);
    const ratios: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const a = await timePredictions(reference, x, repeats);
      const b = await timePredictions(candidate, x, repeats);
      ratios.push(a / b);
    }
    return median(ratios);
  } finally {
    x.dispose();
  }
}

/** Speed-ups at batch 1 and batch 32. */
export async function compareInference(reference: tfl.LayersModel, candidate: tfl.LayersModel, rounds = 15):
    Promise<{batch1: number; batch32: number}> {
  return {
    batch1: await speedup(reference, candidate, 1, rounds),
    batch32: await speedup(reference, candidate, 32, rounds),
  };
}
