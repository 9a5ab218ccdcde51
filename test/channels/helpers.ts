// Models and tools shared by the channel-pruning tests.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/** Sets every weight of `model` to deterministic values without ties or zeros. */
export function seedWeights(model: tfl.LayersModel, seed = 1): void {
  let s = seed;
  for (const layer of allLayers(model)) {
    layer.setWeights(layer.weights.map((w) => tf.tidy(() => {
      const role = w.name.slice(w.name.lastIndexOf('/') + 1);
      const shape = w.shape as number[];
      if (role.startsWith('moving_variance')) return tf.randomUniform(shape, 0.5, 1.5, 'float32', s++);
      return tf.randomUniform(shape, -1, 1, 'float32', s++);
    })));
  }
}

/** Every non-model layer of `model`, nested models included. */
export function allLayers(model: tfl.LayersModel): tfl.layers.Layer[] {
  return model.layers.flatMap((l) => (l instanceof tfl.LayersModel ? allLayers(l) : [l]));
}

/** Zeroes output channels `channels` of a layer: the last axis of its kernel(s) and its bias, or BN's gamma/beta. */
export function zeroChannels(layer: tfl.layers.Layer, channels: number[], roles = ['kernel', 'bias', 'gamma', 'beta',
  'pointwise_kernel']): void {
  layer.setWeights(layer.weights.map((w) => tf.tidy(() => {
    const value = w.read();
    const role = w.name.slice(w.name.lastIndexOf('/') + 1).replace(/_\d+$/, '');
    if (!roles.includes(role)) return value.clone();
    const size = w.shape[w.shape.length - 1] as number;
    const mask = tf.tensor1d(Array.from({length: size}, (_, c): number => (channels.includes(c) ? 0 : 1)));
    return tf.mul(value, mask);
  })));
}

/** The largest relative difference between two models' outputs on one input. */
export function maxRelativeDifference(a: tfl.LayersModel, b: tfl.LayersModel, input: tf.Tensor | tf.Tensor[]): number {
  return tf.tidy(() => {
    const ya = [a.predict(input)].flat() as tf.Tensor[];
    const yb = [b.predict(input)].flat() as tf.Tensor[];
    let worst = 0;
    ya.forEach((t, i) => {
      const scale = tf.max(tf.abs(t)).dataSync()[0] || 1;
      worst = Math.max(worst, tf.max(tf.abs(tf.sub(t, yb[i]))).dataSync()[0] / scale);
    });
    return worst;
  });
}

/** The number of parameters of a model. */
export function parameterCount(model: tfl.LayersModel): number {
  return model.weights.reduce((sum, w) => sum + w.shape.reduce((p: number, d) => p * (d as number), 1), 0);
}
