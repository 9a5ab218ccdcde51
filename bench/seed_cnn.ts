/**
 * The seed's MNIST CNN, shared by the benchmarks: Conv2D 32 3x3 relu, MaxPool 2,
 * Dropout .25, Conv2D 64 3x3 relu, MaxPool 2, Dropout .25, Flatten, Dense 256
 * relu, Dense 10 softmax; input 28x28x1; Adam; categorical crossentropy.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/** Builds and compiles the seed CNN with fixed-seed initializers. */
export function seedCnn(): tfl.Sequential {
  const seeded = (seed: number) => tfl.initializers.glorotUniform({seed});
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: seeded(1)}),
      tfl.layers.maxPooling2d({poolSize: 2}),
      tfl.layers.dropout({rate: 0.25}),
      tfl.layers.conv2d({filters: 64, kernelSize: 3, activation: 'relu', kernelInitializer: seeded(2)}),
      tfl.layers.maxPooling2d({poolSize: 2}),
      tfl.layers.dropout({rate: 0.25}),
      tfl.layers.flatten(),
      tfl.layers.dense({units: 256, activation: 'relu', kernelInitializer: seeded(3)}),
      tfl.layers.dense({units: 10, activation: 'softmax', kernelInitializer: seeded(4)}),
    ],
  });
  model.compile({optimizer: tf.train.adam(), loss: 'categoricalCrossentropy'});
  return model;
}

/** A deterministic batch of MNIST-shaped data: pixels in [0, 1), one-hot labels. */
export function syntheticBatch(batchSize: number): {x: tf.Tensor4D; y: tf.Tensor2D} {
  return tf.tidy(() => {
    const x = tf.randomUniform([batchSize, 28, 28, 1], 0, 1, 'float32', 7) as tf.Tensor4D;
    const labels = tf.randomUniformInt([batchSize], 0, 10, 8);
    const y = tf.cast(tf.oneHot(labels, 10), 'float32') as tf.Tensor2D;
    return {x, y};
  });
}

/** Disposes a model and its optimizer (compile was given an optimizer object, so the model does not own it). */
export function disposeWithOptimizer(model: tfl.LayersModel): void {
  model.dispose();
  model.optimizer?.dispose();
}
