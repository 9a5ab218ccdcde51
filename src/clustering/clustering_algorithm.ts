/**
 * The clustered value of a weight and its gradient: each weight takes the
 * value of its nearest centroid; the centroids receive the sum (or mean) of
 * their members' gradients, and the original weights the gradient itself
 * (the straight-through estimator). Mirrors tfmot's `clustering_algorithm.py`.
 *
 * Porting note: tfmot finds the nearest centroids with an argmin over a
 * `size x k` tensor and gathers; here both run in JavaScript on the values
 * (a binary search over the sorted centroids, O(size log k)), and the
 * gradient is a `tf.customGrad`. Ties go to the lowest centroid index, as
 * argmin's do.
 */
import * as tf from '@tensorflow/tfjs-core';

import type {GradientAggregation} from './cluster_config';
import {ClusteringError} from './errors';

/** The centroids as used in the forward pass, and the index of the one held at zero (or -1). */
export interface EffectiveCentroids {
  centroids: Float32Array;
  /** With `preserveSparsity`: the centroid closest to zero (the first of equals), held at exactly 0. */
  pinned: number;
}

/**
 * The centroids used by the forward pass: a copy, where with
 * `preserveSparsity` the centroid closest to zero (tfmot's zero centroid)
 * is exactly +0.
 */
export function effectiveCentroids(centroids: ArrayLike<number>, preserveSparsity: boolean): EffectiveCentroids {
  const out = Float32Array.from(centroids);
  if (!preserveSparsity || out.length === 0) return {centroids: out, pinned: -1};
  let pinned = 0;
  for (let j = 1; j < out.length; j++) if (Math.abs(out[j]) < Math.abs(out[pinned])) pinned = j;
  out[pinned] = 0;
  return {centroids: out, pinned};
}

/**
 * The index of the nearest centroid of every value (tfmot's pulling
 * indices): the smallest `|fround(v - c)|`, ties to the lowest index.
 * Where `mask` is 0 the value counts as 0 (sparsity preservation).
 *
 * @param name The weight's name, for the error message.
 * @throws ClusteringError when a value is NaN.
 */
export function nearestCentroidIndices(
    values: ArrayLike<number>, centroids: Float32Array, mask: ArrayLike<number> | null, name: string): Int32Array {
  // Distinct centroid values in increasing order, each with the lowest index that holds it.
  const order = Array.from(centroids.keys()).sort((a, b) => centroids[a] - centroids[b] || a - b);
  const sorted: number[] = [];
  const firstIndex: number[] = [];
  for (const j of order) {
    if (sorted.length > 0 && sorted[sorted.length - 1] === centroids[j]) continue;
    sorted.push(centroids[j]);
    firstIndex.push(j);
  }
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = mask !== null && mask[i] === 0 ? 0 : values[i];
    if (v !== v) {
      throw new ClusteringError(
          `ClusterWeights: weight "${name}" holds NaN at flat index ${i}; only finite weights can be clustered ` +
          '(the training diverged: lower the learning rate).');
    }
    // The first distinct centroid >= v.
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid] < v) lo = mid + 1; else hi = mid;
    }
    if (lo === 0) {
      out[i] = firstIndex[0];
    } else if (lo === sorted.length) {
      out[i] = firstIndex[lo - 1];
    } else {
      const below = Math.abs(Math.fround(v - sorted[lo - 1]));
      const above = Math.abs(Math.fround(v - sorted[lo]));
      if (below < above) out[i] = firstIndex[lo - 1];
      else if (above < below) out[i] = firstIndex[lo];
      else out[i] = Math.min(firstIndex[lo - 1], firstIndex[lo]);
    }
  }
  return out;
}

/** The clustered values: `centroids[indices[i]]`. */
export function gatherCentroids(centroids: Float32Array, indices: Int32Array): Float32Array {
  const out = new Float32Array(indices.length);
  for (let i = 0; i < indices.length; i++) out[i] = centroids[indices[i]];
  return out;
}

/**
 * The gradient of the centroids: per centroid, the sum of the gradients of
 * the weights that hold it (divided by their count for `'AVG'`; 0 for an
 * empty cluster), and 0 for the centroid held at zero.
 */
export function centroidGradient(
    dy: ArrayLike<number>, indices: Int32Array, k: number, aggregation: GradientAggregation, pinned: number): Float32Array {
  const sums = new Float64Array(k);
  const counts = new Float64Array(k);
  for (let i = 0; i < indices.length; i++) {
    sums[indices[i]] += dy[i];
    counts[indices[i]]++;
  }
  const out = new Float32Array(k);
  for (let j = 0; j < k; j++) {
    out[j] = aggregation === 'AVG' ? (counts[j] === 0 ? 0 : sums[j] / counts[j]) : sums[j];
  }
  if (pinned >= 0) out[pinned] = 0;
  return out;
}

/** The inputs of {@link clusteredWeight}. */
export interface ClusteredWeightArgs {
  /** The original weight (a variable's value: it receives the straight-through gradient). */
  weight: tf.Tensor;
  /** The centroids, shape `[k]` (they receive the aggregated gradient). */
  centroids: tf.Tensor;
  /** With sparsity preservation: 1 where the weight may be non-zero, 0 where it stays 0; else null. */
  mask: tf.Tensor | null;
  aggregation: GradientAggregation;
  /** The weight's name, for error messages. */
  name: string;
}

/**
 * The clustered weight, differentiable with respect to the weight and the
 * centroids, and the nearest-centroid index of every element.
 *
 * Forward: `centroids'[nearest(weight * mask)]`, where `centroids'` holds the
 * zero centroid at exactly 0 with a mask. Backward: `dWeight = dy * mask`
 * (straight through; `dy` without a mask) and `dCentroids[j]` the sum of `dy`
 * over the weights of cluster `j` (see {@link centroidGradient}).
 *
 * @returns The clustered tensor (the caller disposes it) and the indices.
 */
export function clusteredWeight(args: ClusteredWeightArgs): {value: tf.Tensor; indices: Int32Array} {
  const {weight, centroids, mask, aggregation, name} = args;
  const maskValues = mask === null ? null : mask.dataSync();
  const {centroids: used, pinned} = effectiveCentroids(centroids.dataSync(), mask !== null);
  const indices = nearestCentroidIndices(weight.dataSync(), used, maskValues, name);
  const values = gatherCentroids(used, indices);
  const k = used.length;
  const forward = tf.customGrad(((...inputs: tf.Tensor[]) => ({
    value: tf.tensor(values, inputs[0].shape, 'float32'),
    gradFunc: (dy: tf.Tensor | tf.Tensor[]) => {
      const upstream = Array.isArray(dy) ? dy[0] : dy;
      const dCentroids = tf.tensor1d(centroidGradient(upstream.dataSync(), indices, k, aggregation, pinned), 'float32');
      return [mask === null ? upstream.clone() : tf.mul(upstream, mask), dCentroids];
    },
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return {value: forward(weight, centroids), indices};
}
