// The clustered weight and its gradient (tfmot's clustering_algorithm.py): nearest-centroid
// association, the gathered values, the centroid gradient (the sum of its members' gradients, or
// their mean with AVG) and the straight-through gradient of the original weights.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {ClusterWeights, ClusteringError} from '../../src';
import {
  centroidGradient,
  clusteredWeight,
  effectiveCentroids,
  nearestCentroidIndices,
} from '../../src/clustering/clustering_algorithm';

describe('nearestCentroidIndices (tfmot get_pulling_indices)', () => {
  it('gives each weight its nearest centroid, whatever the order of the centroids', () => {
    // tfmot clustering_registry_test's centroids [-1, 0, 1], shuffled.
    const centroids = Float32Array.from([1, -1, 0]);
    const indices = nearestCentroidIndices([0.1, -0.9, 0.6, -0.4, 5, -5], centroids, null, 'w');
    expect(Array.from(indices)).toEqual([2, 1, 0, 2, 0, 1]);
  });

  it('sends a weight halfway between two centroids to the lower index, as argmin does', () => {
    expect(Array.from(nearestCentroidIndices([0.5], Float32Array.from([1, 0]), null, 'w'))).toEqual([0]);
    expect(Array.from(nearestCentroidIndices([0.5], Float32Array.from([0, 1]), null, 'w'))).toEqual([0]);
    // Equal centroids: the first of them.
    expect(Array.from(nearestCentroidIndices([3], Float32Array.from([0, 3, 3]), null, 'w'))).toEqual([1]);
  });

  it('counts a masked weight as zero', () => {
    expect(Array.from(nearestCentroidIndices([0.9, 0.9], Float32Array.from([0, 1]), [0, 1], 'w'))).toEqual([0, 1]);
  });

  it('refuses NaN, naming the weight and the index', () => {
    expect(() => nearestCentroidIndices([0, NaN], Float32Array.from([0, 1]), null, 'dense/kernel')).toThrow(
        new ClusteringError('ClusterWeights: weight "dense/kernel" holds NaN at flat index 1; only finite weights ' +
            'can be clustered (the training diverged: lower the learning rate).'));
  });
});

describe('effectiveCentroids', () => {
  it('holds the centroid closest to zero at exactly +0 with sparsity preservation', () => {
    const {centroids, pinned} = effectiveCentroids([-0.5, -0.001, 0.3], true);
    expect(pinned).toBe(1);
    expect(Array.from(centroids)).toEqual(Array.from(Float32Array.from([-0.5, 0, 0.3])));
    expect(Object.is(centroids[1], 0)).toBe(true);
    expect(effectiveCentroids([-0.5, -0.001], false).pinned).toBe(-1);
  });
});

describe('centroidGradient', () => {
  it('sums the gradients of each cluster (SUM, tfmot default) and averages them (AVG)', () => {
    const dy = [1, 2, 3, 4, 5];
    const indices = Int32Array.from([0, 2, 0, 2, 2]);
    expect(Array.from(centroidGradient(dy, indices, 3, 'SUM', -1))).toEqual([4, 0, 11]);
    expect(Array.from(centroidGradient(dy, indices, 3, 'AVG', -1))).toEqual([2, 0, Math.fround(11 / 3)]);
    expect(Array.from(centroidGradient(dy, indices, 3, 'SUM', 0))).toEqual([0, 0, 11]);
  });
});

describe('clusteredWeight', () => {
  it('gathers the centroids in the forward pass', () => {
    const weight = tf.tensor2d([[0.1, -0.9], [0.6, -0.4]]);
    const centroids = tf.tensor1d([-1, 0, 1]);
    const {value, indices} = clusteredWeight({weight, centroids, mask: null, aggregation: 'SUM', name: 'w'});
    expect(value.arraySync()).toEqual([[0, -1], [1, 0]]);
    expect(Array.from(indices)).toEqual([1, 0, 2, 1]);
    tf.dispose([weight, centroids, value]);
  });

  it('passes the gradient straight through to the weight and sums it per centroid', () => {
    const weight = tf.variable(tf.tensor1d([0.1, -0.9, 0.6, -0.4, 0.7]));
    const centroids = tf.variable(tf.tensor1d([-1, 0, 1]));
    const upstream = tf.tensor1d([1, 10, 100, 1000, 10000]);
    const {grads} = tf.variableGrads(() => {
      const {value} = clusteredWeight({weight, centroids, mask: null, aggregation: 'SUM', name: 'w'});
      return tf.sum(tf.mul(value, upstream)) as tf.Scalar;
    }, [weight, centroids]);
    expect(Array.from(grads[weight.name].dataSync())).toEqual([1, 10, 100, 1000, 10000]);
    // Cluster of -1: {-0.9}; of 0: {0.1, -0.4}; of 1: {0.6, 0.7}.
    expect(Array.from(grads[centroids.name].dataSync())).toEqual([10, 1001, 10100]);
    tf.dispose([weight, centroids, upstream, ...Object.values(grads)]);
  });

  it('masks the weight gradient and freezes the zero centroid with sparsity preservation', () => {
    const weight = tf.variable(tf.tensor1d([0.1, -0.9, 0.6, 0.05]));
    const centroids = tf.variable(tf.tensor1d([-1, 0.01, 1]));
    const mask = tf.tensor1d([1, 1, 1, 0]);
    const {grads, value} = tf.variableGrads(() => {
      const out = clusteredWeight({weight, centroids, mask, aggregation: 'SUM', name: 'w'});
      return tf.sum(out.value) as tf.Scalar;
    }, [weight, centroids]);
    expect(Array.from(grads[weight.name].dataSync())).toEqual([1, 1, 1, 0]);
    expect(Array.from(grads[centroids.name].dataSync())).toEqual([1, 0, 1]);
    // 0.1 -> the zero centroid (held at 0), -0.9 -> -1, 0.6 -> 1, the masked 0.05 -> 0.
    expect(value.dataSync()[0]).toBe(0);
    tf.dispose([weight, centroids, mask, value, ...Object.values(grads)]);
  });
});

describe('the gradient of a clustered Dense layer (tfmot cluster_wrapper straight-through)', () => {
  it('gives each centroid the sum of its members gradients and the kernel its usual gradient', () => {
    const dense = tfl.layers.dense({units: 2, useBias: false, inputShape: [3]});
    tfl.sequential({layers: [dense]});
    dense.setWeights([tf.tensor2d([[0.9, -0.8], [0.1, 1.1], [-1.2, 0.05]])]);
    const wrapper = new ClusterWeights({layer: dense, numberOfClusters: 3, clusterCentroidsInit: 'LINEAR'});
    const model = tfl.sequential({layers: [tfl.layers.inputLayer({inputShape: [3]}), wrapper]});
    const [{weight, centroids, indices}] = wrapper.getClusteredWeights();
    // LINEAR on [-1.2, 1.1]: centroids -1.2, -0.05, 1.1.
    const initial = centroids.read().dataSync();
    [-1.2, -0.05, 1.1].forEach((c, i) => expect(initial[i]).toBeCloseTo(c, 6));
    expect(Array.from(indices.read().dataSync())).toEqual([2, 0, 1, 2, 0, 1]);
    const x = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
    const variables = [weight.read() as tf.Variable, centroids.read() as tf.Variable];
    const {grads} = tf.variableGrads(() => tf.sum(model.apply(x) as tf.Tensor) as tf.Scalar, variables);
    // d(sum(x W)) / dW[i, j] = column sum of x, i: 5, 7, 9.
    expect(Array.from(grads[variables[0].name].dataSync())).toEqual([5, 5, 7, 7, 9, 9]);
    // Centroid 0 holds W[0,1] and W[2,0] (5 + 9); centroid 1 holds W[1,0] and W[2,1] (7 + 9); centroid 2 the rest.
    expect(Array.from(grads[variables[1].name].dataSync())).toEqual([14, 16, 12]);
    tf.dispose([x, ...Object.values(grads)]);
    model.dispose();
  });
});
