/**
 * The subjects of the sparse-kernel benchmarks: sparse weight matrices of a
 * given pattern, and a MobileNetV1-style model whose 1x1 convolutions and
 * Dense layer are pruned (to a given unstructured sparsity, zeroing the
 * smallest weights of each, as magnitude pruning and stripping leave them).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/** Deterministic values in [-1, 1) (mulberry32). */
export function uniformValues(size: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  }
  return out;
}

/** How the zeros of a `[k, n]` weight are laid out (blocks are k x n). */
export type SparsityPattern = 'unstructured' | '[1,4]' | '2:4';

/**
 * A `[k, n]` weight with the smallest `sparsity` of its magnitudes zeroed:
 * single weights, blocks of 4 output channels (by the blocks' mean
 * magnitude), or 2 of every 4 consecutive inputs (`sparsity` ignored).
 */
export function prunedValues(k: number, n: number, sparsity: number, pattern: SparsityPattern, seed: number): Float32Array {
  const w = uniformValues(k * n, seed);
  if (pattern === '2:4') {
    for (let j = 0; j < n; j++) {
      for (let k0 = 0; k0 + 4 <= k; k0 += 4) {
        const order = [0, 1, 2, 3].sort((a, b) => Math.abs(w[(k0 + a) * n + j]) - Math.abs(w[(k0 + b) * n + j]));
        w[(k0 + order[0]) * n + j] = 0;
        w[(k0 + order[1]) * n + j] = 0;
      }
    }
    return w;
  }
  const width = pattern === '[1,4]' ? 4 : 1;
  const scores: number[] = [];
  for (let kk = 0; kk < k; kk++) {
    for (let j = 0; j + width <= n; j += width) {
      let s = 0;
      for (let c = 0; c < width; c++) s += Math.abs(w[kk * n + j + c]);
      scores.push(s);
    }
  }
  const threshold = [...scores].sort((a, b) => a - b)[Math.floor(sparsity * scores.length)];
  for (let kk = 0; kk < k; kk++) {
    for (let j = 0; j + width <= n; j += width) {
      if (scores[kk * (n / width) + j / width] < threshold) for (let c = 0; c < width; c++) w[kk * n + j + c] = 0;
    }
  }
  return w;
}

/**
 * MobileNetV1 (Howard et al. 2017) at width 1: a 3x3 stride-2 convolution,
 * 13 depthwise-separable blocks, global average pooling and a 1000-way
 * Dense layer, with ReLU6; BatchNormalization folded into the convolutions'
 * biases, as converted models have it.
 */
export function mobileNetV1Style(inputShape: [number, number, number]): tfl.LayersModel {
  const blocks: [number, number][] = [
    [64, 1], [128, 2], [128, 1], [256, 2], [256, 1], [512, 2],
    [512, 1], [512, 1], [512, 1], [512, 1], [512, 1], [1024, 2], [1024, 1],
  ];
  const input = tfl.input({shape: inputShape});
  let x = tfl.layers.conv2d({filters: 32, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu6'})
      .apply(input) as tfl.SymbolicTensor;
  for (const [filters, strides] of blocks) {
    x = tfl.layers.depthwiseConv2d({kernelSize: 3, strides, padding: 'same', activation: 'relu6'}).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.conv2d({filters, kernelSize: 1, padding: 'same', activation: 'relu6'}).apply(x) as tfl.SymbolicTensor;
  }
  x = tfl.layers.globalAveragePooling2d({}).apply(x) as tfl.SymbolicTensor;
  const output = tfl.layers.dense({units: 1000, activation: 'softmax'}).apply(x) as tfl.SymbolicTensor;
  return tfl.model({inputs: input, outputs: output});
}

/** Zeroes the smallest `sparsity` of every 1x1 convolution kernel and Dense kernel of `model`. */
export function prunePointwise(model: tfl.LayersModel, sparsity: number): void {
  let seed = 100;
  for (const layer of model.layers) {
    const name = layer.getClassName();
    const weights = layer.getWeights();
    if (weights.length === 0) continue;
    const kernel = weights[0];
    const pointwise = name === 'Conv2D' && kernel.shape[0] === 1 && kernel.shape[1] === 1;
    if (!pointwise && name !== 'Dense') continue;
    const [k, n] = kernel.shape.slice(-2);
    const pruned = tf.tensor(prunedValues(k, n, sparsity, 'unstructured', seed++), kernel.shape);
    layer.setWeights([pruned, ...weights.slice(1)]);
    pruned.dispose();
  }
}
