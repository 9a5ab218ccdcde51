// Clustering with the rest of the package: a pruned, stripped model clustered with
// preserveSparsity keeps every zero (tfmot's sparsity-preserving clustering), int8 codes of a
// clustered kernel take at most k values, and a model saved mid-clustering resumes exactly.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {
  ClusterWeights, ConstantSparsity, UpdatePruningStep, clusterWeights, getSparsity, pruneLowMagnitude,
  quantizeDynamicRange, stripClustering, stripPruning,
} from '../../src';
import {fitBatches} from '../helpers/models';

/** Dense(64) on 32 inputs then Dense(4): kernels of 2048 and 256 weights (the first is quantized). */
function model(): tfl.Sequential {
  const init = (seed: number) => tfl.initializers.glorotUniform({seed});
  return tfl.sequential({layers: [
    tfl.layers.dense({units: 64, inputShape: [32], activation: 'relu', kernelInitializer: init(1)}),
    tfl.layers.dense({units: 4, kernelInitializer: init(2)}),
  ]});
}

/** A model pruned to 70% and stripped. */
async function prunedAndStripped(): Promise<tfl.LayersModel> {
  const source = model();
  const pruned = pruneLowMagnitude(source, {
    pruningSchedule: new ConstantSparsity({targetSparsity: 0.7, beginStep: 0, frequency: 1}),
  });
  pruned.compile({optimizer: tf.train.sgd(0.01), loss: 'meanSquaredError'});
  await fitBatches(pruned, [32], [4], 1, [new UpdatePruningStep()]);
  const stripped = stripPruning(pruned);
  pruned.optimizer.dispose();
  pruned.dispose();
  source.dispose();
  return stripped;
}

function zerosOf(values: ArrayLike<number>): number[] {
  return Array.from(values).flatMap((v, i) => (v === 0 ? [i] : []));
}

describe('sparsity-preserving clustering of a pruned model', () => {
  it('keeps every zero exactly, through training and stripping, with at most k values per kernel', async () => {
    const pruned = await prunedAndStripped();
    const kernels = pruned.layers.map((l) => l.getWeights()[0].dataSync());
    expect((await getSparsity(pruned)).map((s) => s.sparsity)).toEqual([1434 / 2048, 179 / 256]);
    const clustered = clusterWeights(pruned, {numberOfClusters: 8, preserveSparsity: true});
    clustered.compile({optimizer: tf.train.adam(0.01), loss: 'meanSquaredError'});
    await fitBatches(clustered, [32], [4], 5, []);
    const stripped = stripClustering(clustered);
    stripped.layers.forEach((layer, i) => {
      const values = layer.getWeights()[0].dataSync();
      // Every pruned zero is still an exact (+0) zero; clustering may only add zeros (weights nearest 0).
      for (const z of zerosOf(kernels[i])) expect(Object.is(values[z], 0)).toBe(true);
      expect(new Set(Array.from(values)).size).toBeLessThanOrEqual(8);
      expect(new Set(Array.from(values).filter((v) => v !== 0)).size).toBeLessThanOrEqual(7);
    });
    // The original weights of the wrapper keep their zeros too (their gradient is masked).
    const [{weight}] = (clustered.layers[0] as ClusterWeights).getClusteredWeights();
    const inner = weight.read().dataSync();
    for (const z of zerosOf(kernels[0])) expect(inner[z]).toBe(0);
    clustered.optimizer.dispose();
    [pruned, clustered, stripped].forEach((m) => m.dispose());
  });

  it('leaves the zero centroid at 0 and only it', async () => {
    const pruned = await prunedAndStripped();
    const clustered = clusterWeights(pruned, {numberOfClusters: 6, preserveSparsity: true, clusterCentroidsInit: 'LINEAR'});
    const wrapper = clustered.layers[0] as ClusterWeights;
    const centroids = Array.from(wrapper.getClusteredWeights()[0].centroids.read().dataSync());
    // Negative centroids, then 0, then positive ones (tfmot's order).
    expect(centroids.filter((c) => c === 0)).toHaveLength(1);
    const zero = centroids.indexOf(0);
    expect(centroids.slice(0, zero).every((c) => c < 0)).toBe(true);
    expect(centroids.slice(zero + 1).every((c) => c > 0)).toBe(true);
    [pruned, clustered].forEach((m) => m.dispose());
  });
});

describe('quantizing a clustered model', () => {
  it('gives int8 codes that take at most k distinct values per clustered kernel', async () => {
    const pruned = await prunedAndStripped();
    const clustered = clusterWeights(pruned, {numberOfClusters: 16, preserveSparsity: true});
    const stripped = stripClustering(clustered);
    const artifacts = await quantizeDynamicRange(stripped, {minElements: 0});
    const data = new Uint8Array(artifacts.weightData as ArrayBuffer);
    let offset = 0;
    const codesPerKernel: number[] = [];
    for (const spec of artifacts.weightSpecs!) {
      const n = spec.shape.reduce((a, b) => a * b, 1);
      const bytes = spec.quantization === undefined ? 4 * n : n;
      if (spec.name.endsWith('kernel')) {
        expect(spec.quantization?.dtype).toBe('uint8');
        const codes = new Set(data.subarray(offset, offset + n));
        codesPerKernel.push(codes.size);
        // Zero is code 128 (int8 0, stored as code + 128).
        expect(codes.has(128)).toBe(true);
      }
      offset += bytes;
    }
    expect(codesPerKernel).toHaveLength(2);
    for (const count of codesPerKernel) expect(count).toBeLessThanOrEqual(16);
    [pruned, clustered, stripped].forEach((m) => m.dispose());
  });

  it('strips a still-wrapped clustered model itself: the same weights as quantizing its stripped form', async () => {
    const pruned = await prunedAndStripped();
    const clustered = clusterWeights(pruned, {numberOfClusters: 8, preserveSparsity: true});
    const stripped = stripClustering(clustered);
    const before = tf.memory().numTensors;
    const direct = await quantizeDynamicRange(clustered, {minElements: 0});
    expect(tf.memory().numTensors).toBe(before);
    const viaStrip = await quantizeDynamicRange(stripped, {minElements: 0});
    expect(direct.weightSpecs).toEqual(viaStrip.weightSpecs);
    expect(new Uint8Array(direct.weightData as ArrayBuffer)).toEqual(new Uint8Array(viaStrip.weightData as ArrayBuffer));
    expect(JSON.stringify(direct.modelTopology)).not.toContain('ClusterWeights');
    [pruned, clustered, stripped].forEach((m) => m.dispose());
  });
});

describe('saving mid-clustering', () => {
  async function saved(m: tfl.LayersModel): Promise<tf.io.ModelArtifacts> {
    let artifacts: tf.io.ModelArtifacts | undefined;
    await m.save(tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
    }));
    return artifacts!;
  }

  it('reloads into ClusterWeights wrappers and resumes exactly where it stopped', async () => {
    const pruned = await prunedAndStripped();
    const clustered = clusterWeights(pruned, {numberOfClusters: 8, preserveSparsity: true, clusterCentroidsInit: 'DENSITY_BASED'});
    clustered.compile({optimizer: tf.train.sgd(0.05), loss: 'meanSquaredError'});
    await fitBatches(clustered, [32], [4], 2, []);
    const artifacts = await saved(clustered);
    const restored = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
    expect(restored.layers.map((l) => l.getClassName())).toEqual(['ClusterWeights', 'ClusterWeights']);
    const restoredWrapper = restored.layers[0] as ClusterWeights;
    expect([restoredWrapper.numberOfClusters, restoredWrapper.preserveSparsity, restoredWrapper.clusterCentroidsInit])
        .toEqual([8, true, 'DENSITY_BASED']);
    // Same weights, same topology when saved again.
    const again = await saved(restored);
    expect(JSON.stringify(again.modelTopology)).toBe(JSON.stringify(artifacts.modelTopology));
    expect(Buffer.from(again.weightData as ArrayBuffer).equals(Buffer.from(artifacts.weightData as ArrayBuffer))).toBe(true);
    // Both continue identically (SGD has no state to lose).
    restored.compile({optimizer: tf.train.sgd(0.05), loss: 'meanSquaredError'});
    await fitBatches(clustered, [32], [4], 2, [], 4, 21);
    await fitBatches(restored, [32], [4], 2, [], 4, 21);
    const a = clustered.weights.map((w) => Array.from(w.read().dataSync()));
    const b = restored.weights.map((w) => Array.from(w.read().dataSync()));
    expect(b).toEqual(a);
    clustered.optimizer.dispose();
    restored.optimizer.dispose();
    [pruned, clustered, restored].forEach((m) => m.dispose());
  });

  it('round-trips its config through fromConfig', () => {
    const wrapper = new ClusterWeights({
      layer: tfl.layers.dense({units: 3, name: 'd'}), numberOfClusters: 5, clusterCentroidsInit: 'RANDOM',
      preserveSparsity: true, clusterGradientAggregation: 'AVG',
    });
    const config = wrapper.getConfig();
    const copy = JSON.parse(JSON.stringify(config));
    const rebuilt = ClusterWeights.fromConfig(ClusterWeights, config);
    expect(rebuilt.getConfig()).toEqual(config);
    expect(config).toEqual(copy);
    expect(config).toMatchObject({
      numberOfClusters: 5, clusterCentroidsInit: 'RANDOM', preserveSparsity: true, clusterGradientAggregation: 'AVG',
      name: 'cluster_d', layer: {className: 'Dense'},
    });
    expect(() => ClusterWeights.fromConfig(ClusterWeights, {...config, numberOfCentroids: 5})).toThrow(
        "ClusterWeights.fromConfig: unknown config key 'numberOfCentroids' (received 5)");
  });
});
