/**
 * Pruning in a custom training loop: the UpdatePruningStep hooks called by hand.
 *
 * Run: npx tsx examples/custom_training_loop/main.ts
 */
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {ConstantSparsity, UpdatePruningStep, getSparsity, pruneLowMagnitude, stripPruning} from '../../src';

/** Trains a small regression model for `epochs` epochs while pruning it to 80%; returns the kernels' sparsity. */
export async function run(epochs = 3, batches = 5): Promise<{losses: number[]; sparsity: number[]}> {
  await tf.setBackend('cpu');
  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({units: 16, inputShape: [8], activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({seed: 1})}),
      tfl.layers.dense({units: 1, kernelInitializer: tfl.initializers.glorotUniform({seed: 2})}),
    ],
  });
  const pruned = pruneLowMagnitude(model, {
    pruningSchedule: new ConstantSparsity({targetSparsity: 0.8, beginStep: 2, frequency: 2}),
  });
  const optimizer = tf.train.adam(0.01);
  const xs = tf.randomNormal([batches * 16, 8], 0, 1, 'float32', 1);
  const ys = tf.tidy(() => tf.sum(xs, 1, true));

  // The hooks model.fit would call, in the same order.
  const step = new UpdatePruningStep();
  step.setModel(pruned);
  await step.onTrainBegin();
  const losses: number[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let b = 0; b < batches; b++) {
      await step.onBatchBegin(b); // advances the step, updates masks when the schedule says so
      const loss = optimizer.minimize(() => tf.tidy(() => {
        const x = tf.slice(xs, [b * 16, 0], [16, 8]);
        const y = tf.slice(ys, [b * 16, 0], [16, 1]);
        return tf.losses.meanSquaredError(y, pruned.apply(x, {training: true}) as tf.Tensor) as tf.Scalar;
      }), true);
      losses.push((await loss!.data())[0]);
      loss!.dispose();
      await step.onBatchEnd(b); // writes weight * mask into the weights
    }
    await step.onEpochEnd(epoch);
  }
  await step.onTrainEnd();

  const stripped = stripPruning(pruned);
  const sparsity = (await getSparsity(stripped)).map((w) => w.sparsity);
  tf.dispose([xs, ys]);
  optimizer.dispose();
  pruned.dispose();
  stripped.dispose();
  return {losses, sparsity};
}

if (process.argv[1]?.endsWith('main.ts')) {
  run().then(({losses, sparsity}) => {
    console.log(`loss: ${losses[0].toFixed(3)} -> ${losses[losses.length - 1].toFixed(3)}`);
    console.log(`kernel sparsity: ${sparsity.map((s) => s.toFixed(3)).join(', ')}`);
  });
}
