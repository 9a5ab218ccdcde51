// clusterWeights and stripClustering on layers and models (tfmot's cluster_test.py and
// cluster_integration_test.py): what is wrapped, what training changes, what stripping leaves,
// and the errors for bad input.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {
  ClusterWeights, ClusteringError, PruneLowMagnitude, clusterWeights, isClusterable, pruneLowMagnitude, stripClustering,
} from '../../src';
import {ChannelScale, denseModel, fitBatches, snapshot} from '../helpers/models';

/** A small CNN: conv, pool, flatten, dense (the seed CNN's kinds of layers). */
function smallCnn(): tfl.Sequential {
  const init = (seed: number) => tfl.initializers.glorotUniform({seed});
  return tfl.sequential({layers: [
    tfl.layers.conv2d({inputShape: [8, 8, 1], filters: 4, kernelSize: 3, kernelInitializer: init(1)}),
    tfl.layers.maxPooling2d({poolSize: 2}),
    tfl.layers.flatten(),
    tfl.layers.dense({units: 3, activation: 'softmax', kernelInitializer: init(2)}),
  ]});
}

function distinct(values: ArrayLike<number>): Set<number> {
  return new Set(Array.from(values));
}

describe('clusterWeights on a Sequential model', () => {
  it('wraps the layers with kernels, leaves the others, and predicts with clustered kernels', () => {
    const model = smallCnn();
    const clustered = clusterWeights(model, {numberOfClusters: 4});
    expect(clustered.layers.map((l) => l.getClassName())).toEqual(
        ['ClusterWeights', 'MaxPooling2D', 'Flatten', 'ClusterWeights']);
    expect(clustered.layers[0].name).toBe(`cluster_${model.layers[0].name}`);
    // Before training the inner kernel is the original one; the forward pass uses its clustered version.
    const x = tf.randomUniform([2, 8, 8, 1], 0, 1, 'float32', 3);
    const stripped = stripClustering(clustered);
    expect(Array.from((clustered.predict(x) as tf.Tensor).dataSync()))
        .toEqual(Array.from((stripped.predict(x) as tf.Tensor).dataSync()));
    for (const layer of [stripped.layers[0], stripped.layers[3]]) {
      expect(distinct(layer.getWeights()[0].dataSync()).size).toBeLessThanOrEqual(4);
    }
    tf.dispose(x);
    [model, clustered, stripped].forEach((m) => m.dispose());
  });

  it('names the weights as tfmot does and makes the centroids trainable', () => {
    const clustered = clusterWeights(denseModel(), {numberOfClusters: 3});
    const wrapper = clustered.layers[0] as ClusterWeights;
    const names = (ws: tfl.LayerVariable[]) => ws.map((w) => w.originalName.replace(`${wrapper.name}/`, ''));
    expect(names(wrapper.trainableWeights)).toEqual(['kernel', 'bias', 'cluster_centroids_kernel']);
    expect(names(wrapper.nonTrainableWeights)).toEqual(['pulling_indices_kernel']);
    wrapper.trainable = false;
    expect(wrapper.trainableWeights).toEqual([]);
    expect(names(wrapper.nonTrainableWeights)).toEqual(['kernel', 'bias', 'cluster_centroids_kernel', 'pulling_indices_kernel']);
    clustered.dispose();
  });

  it('trains: afterwards every stripped kernel holds at most k distinct values and biases are untouched', async () => {
    const source = denseModel();
    const clustered = clusterWeights(source, {numberOfClusters: 5, clusterCentroidsInit: 'DENSITY_BASED'});
    clustered.compile({optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError'});
    const before = Array.from((clustered.layers[0] as ClusterWeights).getClusteredWeights()[0].centroids.read().dataSync());
    await fitBatches(clustered, [10], [5], 3, []);
    const after = Array.from((clustered.layers[0] as ClusterWeights).getClusteredWeights()[0].centroids.read().dataSync());
    expect(after).not.toEqual(before);
    const stripped = stripClustering(clustered);
    expect(stripped.getConfig()).toEqual(source.getConfig());
    for (const layer of stripped.layers) {
      const [kernel, bias] = layer.getWeights();
      expect(distinct(kernel.dataSync()).size).toBeLessThanOrEqual(5);
      expect(distinct(bias.dataSync()).size).toBe(bias.size);
    }
    [source, clustered, stripped].forEach((m) => m.dispose());
  });

  it('never modifies the model it is given, nor the model it strips', async () => {
    const model = smallCnn();
    const before = snapshot(model);
    const clustered = clusterWeights(model, {numberOfClusters: 4, preserveSparsity: true});
    expect(snapshot(model)).toEqual(before);
    clustered.compile({optimizer: 'sgd', loss: 'categoricalCrossentropy'});
    await fitBatches(clustered, [8, 8, 1], [3], 1, []);
    const clusteredBefore = snapshot(clustered);
    const stripped = stripClustering(clustered);
    expect(snapshot(clustered)).toEqual(clusteredBefore);
    expect(snapshot(model)).toEqual(before);
    [model, clustered, stripped].forEach((m) => m.dispose());
  });

  it('leaks no tensor while wrapping, training, stripping and disposing', async () => {
    const model = smallCnn();
    const start = tf.memory().numTensors;
    const clustered = clusterWeights(model, {numberOfClusters: 4, preserveSparsity: true});
    clustered.compile({optimizer: tf.train.sgd(0.01), loss: 'categoricalCrossentropy'});
    await fitBatches(clustered, [8, 8, 1], [3], 1, []);
    const afterOneBatch = tf.memory().numTensors;
    await fitBatches(clustered, [8, 8, 1], [3], 3, []);
    expect(tf.memory().numTensors).toBe(afterOneBatch);
    const stripped = stripClustering(clustered);
    stripped.dispose();
    expect(tf.memory().numTensors).toBe(afterOneBatch);
    clustered.optimizer.dispose();
    clustered.dispose();
    expect(tf.memory().numTensors).toBe(start);
    model.dispose();
  });
});

describe('clusterWeights on other inputs', () => {
  it('clusters a functional model, keeping its connections', () => {
    const input = tfl.input({shape: [6]});
    const a = tfl.layers.dense({units: 4, name: 'a'}).apply(input) as tfl.SymbolicTensor;
    const b = tfl.layers.dense({units: 4, name: 'b'}).apply(input) as tfl.SymbolicTensor;
    const out = tfl.layers.add().apply([a, b]) as tfl.SymbolicTensor;
    const model = tfl.model({inputs: input, outputs: out});
    const clustered = clusterWeights(model, {numberOfClusters: 3});
    expect(clustered.layers.map((l) => l.name).slice(1, 3)).toEqual(['cluster_a', 'cluster_b']);
    const stripped = stripClustering(clustered);
    expect(stripped.getConfig()).toEqual(model.getConfig());
    const x = tf.ones([1, 6]);
    expect(Array.from((clustered.predict(x) as tf.Tensor).dataSync()))
        .toEqual(Array.from((stripped.predict(x) as tf.Tensor).dataSync()));
    tf.dispose(x);
    [model, clustered, stripped].forEach((m) => m.dispose());
  });

  it('wraps a copy of a single layer and of each layer of an array, returning wrappers as they are', () => {
    const dense = tfl.layers.dense({units: 2});
    const wrapper = clusterWeights(dense, {numberOfClusters: 2});
    expect(wrapper).toBeInstanceOf(ClusterWeights);
    expect(wrapper.layer).not.toBe(dense);
    expect(wrapper.numberOfClusters).toBe(2);
    expect(wrapper.clusterCentroidsInit).toBe('KMEANS_PLUS_PLUS');
    const [again, conv] = clusterWeights([wrapper, tfl.layers.conv2d({filters: 1, kernelSize: 1})], {numberOfClusters: 2});
    expect(again).toBe(wrapper);
    expect(conv.layer.getClassName()).toBe('Conv2D');
  });

  it('clusters a custom ClusterableLayer', () => {
    class Scale extends ChannelScale {
      static override className = 'ClusterableScaleForTests';
      getClusterableWeights() {
        return this.weights;
      }
    }
    tf.serialization.registerClass(Scale);
    const layer = new Scale({inputShape: [4]});
    const model = tfl.sequential({layers: [layer]});
    layer.setWeights([tf.tensor1d([0.1, 0.2, 0.9, 1])]);
    expect(isClusterable(layer)).toBe(true);
    const clustered = clusterWeights(model, {numberOfClusters: 2, clusterCentroidsInit: 'LINEAR'});
    const stripped = stripClustering(clustered);
    expect(Array.from(stripped.layers[0].getWeights()[0].dataSync())).toEqual(Array.from(Float32Array.from([0.1, 0.1, 1, 1])));
    [model, clustered, stripped].forEach((m) => m.dispose());
  });
});

describe('the clusterable classes (tfmot clustering_registry)', () => {
  it.each([
    ['DepthwiseConv2D', () => tfl.layers.depthwiseConv2d({kernelSize: 3, inputShape: [6, 6, 2]}), [6, 6, 2], ['depthwise_kernel']],
    ['SeparableConv2D', () => tfl.layers.separableConv2d({filters: 3, kernelSize: 3, inputShape: [6, 6, 2]}), [6, 6, 2],
      ['pointwise_kernel']],
    ['Embedding', () => tfl.layers.embedding({inputDim: 10, outputDim: 4, inputLength: 3}), [3], ['embeddings']],
    ['LSTM', () => tfl.layers.lstm({units: 3, inputShape: [4, 2], recurrentInitializer: 'glorotUniform'}), [4, 2], ['kernel', 'recurrent_kernel']],
  ])('clusters %s: at most k values in each clustered weight, the same predictions once stripped',
      (_name, make, inputShape, clusteredNames) => {
        const model = tfl.sequential({layers: [make() as tfl.layers.Layer]});
        const clustered = clusterWeights(model, {numberOfClusters: 3, clusterCentroidsInit: 'LINEAR'});
        const wrapper = clustered.layers[0] as ClusterWeights;
        expect(wrapper.getClusteredWeights().map((c) => c.weight.originalName.split('/').pop())).toEqual(clusteredNames);
        const stripped = stripClustering(clustered);
        const x = tf.tidy(() => tf.floor(tf.randomUniform([2, ...inputShape], 0, 9, 'float32', 5)));
        expect(Array.from((stripped.predict(x) as tf.Tensor).dataSync()))
            .toEqual(Array.from((clustered.predict(x) as tf.Tensor).dataSync()));
        const strippedWeights = new Map(stripped.layers[0].weights.map((w) => [w.originalName.split('/').pop(), w]));
        for (const name of clusteredNames) {
          expect(distinct(strippedWeights.get(name)!.read().dataSync()).size).toBeLessThanOrEqual(3);
        }
        tf.dispose(x);
        [model, clustered, stripped].forEach((m) => m.dispose());
      });
});

describe('bad input', () => {
  const dense = () => tfl.layers.dense({units: 2});

  it.each([
    [{numberOfClusters: 1}, RangeError, "clusterWeights: 'numberOfClusters' must be >= 2, but got 1."],
    [{numberOfClusters: 2, preserveSparsity: true}, RangeError,
      "clusterWeights: 'numberOfClusters' must be >= 3 with preserveSparsity, but got 2."],
    [{numberOfClusters: 2.5}, TypeError, "clusterWeights: 'numberOfClusters' must be an integer, but got 2.5."],
    [{}, TypeError, "clusterWeights: 'numberOfClusters' must be an integer, but got undefined."],
    [{numberOfClusters: 4, preserveSparsity: 'yes'}, TypeError,
      "clusterWeights: 'preserveSparsity' must be a boolean, but got \"yes\"."],
    [{numberOfClusters: 4, clusterGradientAggregation: 'MEDIAN'}, TypeError,
      "clusterWeights: 'clusterGradientAggregation' must be 'SUM' or 'AVG', but got \"MEDIAN\"."],
    [{numberOfClusters: 4, numberOfCluster: 4}, TypeError,
      "clusterWeights: unknown parameter 'numberOfCluster' (received 4); the parameters are numberOfClusters, " +
      'clusterCentroidsInit, preserveSparsity, clusterGradientAggregation.'],
  ])('refuses the parameters %j', (params, type, message) => {
    expect(() => clusterWeights(dense(), params as never)).toThrow(type);
    expect(() => clusterWeights(dense(), params as never)).toThrow(message);
  });

  it('refuses missing parameters and inputs that are not layers or models', () => {
    expect(() => clusterWeights(dense(), undefined as never)).toThrow(
        "clusterWeights: 'params' must be an object, but got undefined.");
    expect(() => clusterWeights(42 as never, {numberOfClusters: 2})).toThrow(new TypeError(
        "clusterWeights: 'toCluster' must be a tf.layers.Layer, an array of layers, a tf.Sequential model or a " +
        'functional tf.LayersModel (tf.model), but got 42.'));
    expect(() => clusterWeights([dense(), 'x'] as never, {numberOfClusters: 2})).toThrow(
        "clusterWeights: 'toCluster[1]' must be a tf.layers.Layer, but got \"x\".");
    expect(() => stripClustering({} as never)).toThrow(
        "stripClustering: 'model' must be a tf.Sequential or functional tf.LayersModel, but got an object.");
  });

  it('refuses a layer with weights it cannot cluster, saying how to make it clusterable', () => {
    const model = tfl.sequential({layers: [new ChannelScale({inputShape: [3], name: 'scale'})]});
    expect(() => clusterWeights(model, {numberOfClusters: 2})).toThrow(new ClusteringError(
        'clusterWeights: layer "scale" (class ChannelScaleForTests) cannot be clustered: ChannelScaleForTests is ' +
        'not one of the built-in clusterable classes (an exact class match: subclasses are not included). To ' +
        'cluster it, implement the ClusterableLayer interface on ChannelScaleForTests: a getClusterableWeights() ' +
        'method returning the weights to cluster.'));
    model.dispose();
  });

  it('refuses to build a ClusterWeights around a model, a wrapper or an unclusterable layer', () => {
    const model = denseModel();
    expect(() => new ClusterWeights({layer: model as never, numberOfClusters: 2})).toThrow(new TypeError(
        "ClusterWeights: 'layer' must be a single tf.layers.Layer (not a model), but got an instance of Sequential."));
    const wrapper = new ClusterWeights({layer: tfl.layers.dense({units: 1, name: 'inner'}), numberOfClusters: 2});
    expect(() => new ClusterWeights({layer: wrapper, numberOfClusters: 2})).toThrow(new ClusteringError(
        'ClusterWeights: layer "cluster_inner" is already a ClusterWeights wrapper; wrappers cannot be nested.'));
    expect(() => new ClusterWeights({layer: new ChannelScale({name: 's'}), numberOfClusters: 2}))
        .toThrow(/^ClusterWeights: layer "s" \(class ChannelScaleForTests\) cannot be clustered/);
    expect(() => new ClusterWeights({layer: tfl.layers.dense({units: 1}), numberOfClusters: 2,
      clusterCentroidsInit: 'KMEANS' as never})).toThrow(
        "ClusterWeights: 'clusterCentroidsInit' must be one of 'LINEAR', 'RANDOM', 'DENSITY_BASED', " +
        "'KMEANS_PLUS_PLUS' (CentroidInitialization), but got \"KMEANS\".");
    model.dispose();
  });

  it('refuses a model still wrapped for pruning, pointing to stripPruning', () => {
    const pruned = pruneLowMagnitude(denseModel());
    expect(pruned.layers[0]).toBeInstanceOf(PruneLowMagnitude);
    expect(() => clusterWeights(pruned, {numberOfClusters: 4})).toThrow(new ClusteringError(
        `clusterWeights: layer "${pruned.layers[0].name}" is a PruneLowMagnitude wrapper; strip the pruning first ` +
        '(stripPruning(model)), then cluster with preserveSparsity: true to keep its zeros.'));
    pruned.dispose();
  });
});
