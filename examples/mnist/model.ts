/** The seed article's MNIST CNN, built and compiled with tfjs-layers. */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {IMAGE_SIZE, NUM_CLASSES} from './data';

/**
 * Conv2D(32, 3x3, relu) -> MaxPooling2D(2) -> Dropout(0.25) ->
 * Conv2D(64, 3x3, relu) -> MaxPooling2D(2) -> Dropout(0.25) ->
 * Flatten -> Dense(256, relu) -> Dense(10, softmax): 431,242 parameters.
 * Layers are named as Keras names them, so weight names match the article's.
 */
export function createCnn(): tfl.Sequential {
  return tfl.sequential({
    name: 'mnist_cnn',
    layers: [
      tfl.layers.conv2d({
        name: 'conv2d', inputShape: [IMAGE_SIZE, IMAGE_SIZE, 1], filters: 32, kernelSize: 3, activation: 'relu',
      }),
      tfl.layers.maxPooling2d({name: 'max_pooling2d', poolSize: 2}),
      tfl.layers.dropout({name: 'dropout', rate: 0.25}),
      tfl.layers.conv2d({name: 'conv2d_1', filters: 64, kernelSize: 3, activation: 'relu'}),
      tfl.layers.maxPooling2d({name: 'max_pooling2d_1', poolSize: 2}),
      tfl.layers.dropout({name: 'dropout_1', rate: 0.25}),
      tfl.layers.flatten({name: 'flatten'}),
      tfl.layers.dense({name: 'dense', units: 256, activation: 'relu'}),
      tfl.layers.dense({name: 'dense_1', units: NUM_CLASSES, activation: 'softmax'}),
    ],
  });
}

/** Categorical cross-entropy with Adam (default learning rate), reporting accuracy. */
export function compileForTraining(model: tfl.LayersModel): void {
  // 'adam' by name, so that model.dispose() also disposes the optimizer's state.
  model.compile({optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy']});
}

/** Test loss and accuracy of one model. */
export interface Evaluation {
  testLoss: number;
  testAccuracy: number;
}

/** Evaluates a compiled model on a test split, in batches of `batchSize`. */
export async function evaluate(
    model: tfl.LayersModel, xs: tf.Tensor, ys: tf.Tensor, batchSize: number): Promise<Evaluation> {
  const [loss, accuracy] = model.evaluate(xs, ys, {batchSize}) as tf.Scalar[];
  try {
    return {testLoss: (await loss.data())[0], testAccuracy: (await accuracy.data())[0]};
  } finally {
    tf.dispose([loss, accuracy]);
  }
}
