// pruneArtifacts on real graph models (see fixtures.ts) and on a layers model: which weights are
// pruned, how many zeros each gets, the encodings kept, and loading with stock tfjs.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {isPrunedMByN, pruneArtifacts, quantizeArtifacts} from '../../src';
import {saveToMemory} from '../../src/io/gzipped_size';
import {keepCount} from '../../src/sparsity/pruning_impl';
import {
  decodedWeights,
  graphRunner,
  inputShape,
  layersRunner,
  loadHumanModel,
  outputsOn,
  randomInput,
  relativeError,
  smallCnn,
  tfconv,
} from './fixtures';

const LIVENESS_KERNELS = [
  'conv2d_1/Conv2D', 'conv2d_2/Conv2D', 'conv2d_3/Conv2D', 'conv2d_4/Conv2D', 'dense_1/MatMul', 'dense_2/MatMul',
].map((k) => `StatefulPartitionedCall/sequential_1/${k}/ReadVariableOp`);

function zeros(values: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === 0) n++;
  return n;
}

describe('graph models', () => {
  it('prunes every kernel to its sparsity by magnitude and leaves every other weight as it is', async () => {
    const original = loadHumanModel('liveness');
    const pruned = await pruneArtifacts(original, {sparsity: 0.5});
    const before = decodedWeights(original);
    const after = decodedWeights(pruned);
    for (const spec of original.weightSpecs!) {
      const values = after[spec.name];
      if (!LIVENESS_KERNELS.includes(spec.name)) {
        expect(values).toEqual(before[spec.name]);
        continue;
      }
      expect(values.length - zeros(values)).toBe(keepCount(values.length, 0.5));
      // The kept weights are the largest: none pruned is larger than the smallest kept.
      let smallestKept = Infinity;
      let largestPruned = 0;
      values.forEach((v, i) => {
        if (v !== 0) smallestKept = Math.min(smallestKept, Math.abs(v));
        else largestPruned = Math.max(largestPruned, Math.abs(before[spec.name][i]));
      });
      expect(largestPruned).toBeLessThanOrEqual(smallestKept);
    }
    expect(pruned.convertedBy).toBe('tfjs-model-optimization pruneArtifacts (0.5)');
  });

  it('at sparsity 0 gives the same outputs, and pruned models load with stock loadGraphModel', async () => {
    const original = loadHumanModel('liveness');
    const reference = await tfconv.loadGraphModel(tf.io.fromMemory(original));
    const unpruned = await tfconv.loadGraphModel(tf.io.fromMemory(await pruneArtifacts(original, {sparsity: 0})));
    const light = await tfconv.loadGraphModel(tf.io.fromMemory(await pruneArtifacts(original, {sparsity: 0.2})));
    const x = randomInput(inputShape(reference, 8));
    const expected = outputsOn(graphRunner(reference), x);
    expect(outputsOn(graphRunner(unpruned), x)).toEqual(expected);
    // One-shot pruning without fine-tuning costs accuracy: 20% of each kernel moves these softmax outputs
    // by 49% of their range on random inputs (measured), which is why the guide says to measure on real data.
    const error = relativeError(expected, outputsOn(graphRunner(light), x));
    expect(error).toBeGreaterThan(0);
    expect(outputsOn(graphRunner(light), x)[0].every(Number.isFinite)).toBe(true);
    for (const m of [reference, unpruned, light]) m.dispose();
    x.dispose();
  });

  it('cuts one threshold over all kernels with global', async () => {
    const original = loadHumanModel('liveness');
    const after = decodedWeights(await pruneArtifacts(original, {sparsity: 0.8, global: true}));
    const total = LIVENESS_KERNELS.reduce((n, k) => n + after[k].length, 0);
    const kept = LIVENESS_KERNELS.reduce((n, k) => n + after[k].length - zeros(after[k]), 0);
    expect(kept).toBe(keepCount(total, 0.8));
    // Kernels end at different sparsities: the large Dense kernel loses more than the first filter.
    const sparsity = (k: string) => zeros(after[k]) / after[k].length;
    expect(sparsity(LIVENESS_KERNELS[4])).toBeGreaterThan(sparsity(LIVENESS_KERNELS[0]));
  });

  it('prunes 2:4 along the input channels of filters and matrices', async () => {
    const original = loadHumanModel('liveness');
    const pruned = await pruneArtifacts(original, {mByN: [2, 4]});
    const after = decodedWeights(pruned);
    for (const name of LIVENESS_KERNELS) {
      const spec = original.weightSpecs!.find((s) => s.name === name)!;
      const tensor = tf.tensor(after[name], spec.shape);
      expect(await isPrunedMByN(tensor, [2, 4])).toBe(true);
      tensor.dispose();
    }
  });

  it('prunes whole 1x4 blocks of the [inputs, outputs] matrix', async () => {
    const original = loadHumanModel('liveness');
    const after = decodedWeights(await pruneArtifacts(original, {sparsity: 0.5, block: [1, 4]}));
    const dense = after[LIVENESS_KERNELS[4]]; // [2048, 64]
    let mixed = 0;
    for (let i = 0; i < dense.length; i += 4) {
      const block = zeros(dense.subarray(i, i + 4));
      if (block !== 0 && block !== 4) mixed++;
    }
    expect(mixed).toBe(0);
    expect(zeros(dense) / dense.length).toBeCloseTo(0.5, 2);
  });

  it('keeps the float16 encoding of converter-quantized kernels', async () => {
    const original = loadHumanModel('antispoof');
    const pruned = await pruneArtifacts(original, {sparsity: 0.5});
    expect(pruned.weightSpecs!.map((s) => s.quantization?.dtype)).toEqual(original.weightSpecs!.map((s) => s.quantization?.dtype));
    expect((pruned.weightData as ArrayBuffer).byteLength).toBe((original.weightData as ArrayBuffer).byteLength);
    const kernel = pruned.weightSpecs!.find((s) => s.shape.length === 4)!;
    const values = decodedWeights(pruned)[kernel.name];
    expect(zeros(values)).toBe(values.length - keepCount(values.length, 0.5));
  });

  it('leaves excluded kernels as they are', async () => {
    const original = loadHumanModel('liveness');
    const after = decodedWeights(await pruneArtifacts(original, {sparsity: 0.5, exclude: [/dense_/, LIVENESS_KERNELS[0]]}));
    const before = decodedWeights(original);
    for (const k of [LIVENESS_KERNELS[0], LIVENESS_KERNELS[4], LIVENESS_KERNELS[5]]) expect(after[k]).toEqual(before[k]);
    expect(zeros(after[LIVENESS_KERNELS[1]])).toBeGreaterThan(0);
  });
});

describe('layers models', () => {
  it('prunes the kernels of Conv, depthwise and Dense layers, keeps biases, and loads with tf.loadLayersModel', async () => {
    const model = smallCnn();
    const saved = await saveToMemory(model);
    const pruned = await quantizeArtifacts(await pruneArtifacts(saved, {sparsity: 0.5}));
    const after = decodedWeights(pruned);
    for (const spec of pruned.weightSpecs!) {
      const values = after[spec.name];
      if (spec.name.endsWith('/bias')) expect(zeros(values)).toBe(0);
      else expect(zeros(values)).toBe(values.length - keepCount(values.length, 0.5));
    }
    const restored = await tfl.loadLayersModel(tf.io.fromMemory(pruned));
    const x = randomInput([2, 12, 12, 3]);
    expect(outputsOn(layersRunner(restored), x)[0].length).toBe(20);
    for (const m of [model, restored]) m.dispose();
    x.dispose();
  });
});

describe('bad options', () => {
  const original = loadHumanModel('liveness');

  it('requires a sparsity in [0, 1) unless mByN gives it', async () => {
    await expect(pruneArtifacts(original, {})).rejects.toThrow(
        "pruneArtifacts: 'sparsity' must be a number in [0, 1), but got undefined.");
    await expect(pruneArtifacts(original, {sparsity: 1})).rejects.toThrow(
        "pruneArtifacts: 'sparsity' must be in [0, 1), but got 1.");
    await expect(pruneArtifacts(original, {sparsity: 0.3, mByN: [2, 4]})).rejects.toThrow(
        "pruneArtifacts: 'sparsity' must be m / n = 0.5 with mByN [2, 4] (or be left out), but got 0.3.");
  });

  it('refuses ways of cutting that exclude each other, and bad blocks', async () => {
    await expect(pruneArtifacts(original, {sparsity: 0.5, global: true, block: [1, 4]})).rejects.toThrow(
        "pruneArtifacts: the options 'global' and 'block' cannot be combined; choose one way to cut the masks.");
    await expect(pruneArtifacts(original, {sparsity: 0.5, block: [0, 4]})).rejects.toThrow(
        "pruneArtifacts: 'block' must hold integers >= 1, but got [0, 4].");
    await expect(pruneArtifacts(original, {sparsity: 0.5, steps: 3} as never)).rejects.toThrow(
        "pruneArtifacts: unknown option 'steps' (received 3); the options are sparsity, global, block, blockPooling, " +
        'mByN, exclude, onProgress.');
  });
});
