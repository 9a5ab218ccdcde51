import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {PerChannelQuantization} from '../../src/quantization/manifest';
import {loadQuantizedLayersModel} from '../../src/quantization/load';
import {quantizeDynamicRange} from '../../src/quantization/quantize';
import {countZeros, gaussians, pruneKernels, seedCnn, setGaussianWeights, weightValues} from './fixtures';

function perChannelSpec(artifacts: tf.io.ModelArtifacts, name: string): PerChannelQuantization {
  const spec = artifacts.weightSpecs!.find((s) => s.name === name)!;
  return spec.quantization as unknown as PerChannelQuantization;
}

/** A Dense kernel whose output channel c has standard deviation 10^(-3c / (units - 1)) (1 down to 0.001). */
function unevenDense(units: number): tfl.Sequential {
  const model = tfl.sequential({layers: [tfl.layers.dense({units, inputShape: [256], useBias: false})]});
  const values = gaussians(256 * units, 21);
  for (let i = 0; i < values.length; i++) values[i] *= 10 ** ((-3 * (i % units)) / (units - 1));
  const kernel = tf.tensor(values, [256, units]);
  model.setWeights([kernel]);
  kernel.dispose();
  return model;
}

/** The RMS error of each channel (last axis) relative to that channel's RMS value, averaged over channels. */
function meanRelativeError(original: Float32Array, decoded: Float32Array, channels: number): number {
  let total = 0;
  for (let c = 0; c < channels; c++) {
    let error = 0;
    let power = 0;
    for (let i = c; i < original.length; i += channels) {
      error += (decoded[i] - original[i]) ** 2;
      power += original[i] ** 2;
    }
    total += Math.sqrt(error / power);
  }
  return total / channels;
}

describe('quantizeDynamicRange with perChannel', () => {
  it('gives each output channel of a Dense kernel its own scale, max|w[:, c]| / 127', async () => {
    const model = unevenDense(8);
    const kernel = weightValues(model).get(model.weights[0].originalName)!;
    const artifacts = await quantizeDynamicRange(model, {perChannel: true});
    const q = perChannelSpec(artifacts, model.weights[0].originalName);
    expect(q.dtype).toBe('uint8-per-channel');
    expect(q.axis).toBe(1);
    const maxAbs = Array.from({length: 8}, (_, c) => {
      let m = 0;
      for (let i = c; i < kernel.length; i += 8) m = Math.max(m, Math.abs(kernel[i]));
      return m;
    });
    expect(q.scale).toEqual(maxAbs.map((m) => m / 127));
    expect(q.zeroPoint).toEqual(q.scale.map(() => 128));
    model.dispose();
  });

  it.each<[string, () => tfl.layers.Layer, number[], string, number]>([
    ['Conv1D', () => tfl.layers.conv1d({filters: 16, kernelSize: 8, inputShape: [20, 8]}), [8, 8, 16], 'kernel', 2],
    ['Conv2D', () => tfl.layers.conv2d({filters: 16, kernelSize: 3, inputShape: [8, 8, 8]}), [3, 3, 8, 16], 'kernel', 3],
    ['Conv2DTranspose (filters axis)',
      () => tfl.layers.conv2dTranspose({filters: 16, kernelSize: 3, inputShape: [8, 8, 8]}), [3, 3, 16, 8], 'kernel', 2],
    ['DepthwiseConv2D (channel axis)',
      () => tfl.layers.depthwiseConv2d({kernelSize: 4, depthMultiplier: 2, inputShape: [8, 8, 32]}), [4, 4, 32, 2],
      'depthwise_kernel', 2],
    ['SeparableConv2D depthwise kernel',
      () => tfl.layers.separableConv2d({filters: 8, kernelSize: 4, depthMultiplier: 2, inputShape: [8, 8, 32]}),
      [4, 4, 32, 2], 'depthwise_kernel', 2],
    ['SeparableConv2D pointwise kernel',
      () => tfl.layers.separableConv2d({filters: 32, kernelSize: 1, inputShape: [8, 8, 64]}), [1, 1, 64, 32],
      'pointwise_kernel', 3],
  ])('uses the output-channel axis of a %s', async (_, make, shape, weight, axis) => {
    const model = tfl.sequential({layers: [make()]});
    setGaussianWeights(model, 22);
    const artifacts = await quantizeDynamicRange(model, {perChannel: true});
    const spec = artifacts.weightSpecs!.find((s) => s.name.endsWith(`/${weight}`))!;
    expect(spec.shape).toEqual(shape);
    const q = spec.quantization as unknown as PerChannelQuantization;
    expect(q.axis).toBe(axis);
    expect(q.scale).toHaveLength(shape[axis]);
    model.dispose();
  });

  it('keeps other weights per tensor in tfjs\'s own format (Embedding)', async () => {
    const model = tfl.sequential({layers: [tfl.layers.embedding({inputDim: 100, outputDim: 32, inputLength: 4})]});
    const artifacts = await quantizeDynamicRange(model, {perChannel: true});
    expect(artifacts.weightSpecs![0].quantization).toEqual(expect.objectContaining({dtype: 'uint8'}));
    const restored = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
    restored.dispose();
    model.dispose();
  });

  it('makes stock tf.loadLayersModel fail loudly, naming the weight and its dtype', async () => {
    const model = unevenDense(8);
    const artifacts = await quantizeDynamicRange(model, {perChannel: true});
    await expect(tfl.loadLayersModel(tf.io.fromMemory(artifacts))).rejects.toThrow(
        `Weight ${model.weights[0].originalName} has unknown quantization dtype uint8-per-channel.`);
    expect(() => tf.io.decodeWeights(artifacts.weightData!, artifacts.weightSpecs!)).toThrow(/unknown quantization dtype/);
    model.dispose();
  });

  it.each(['int8', 'uint8', 'uint16'] as const)(
      'loads %s per-channel artifacts with loadQuantizedLayersModel, zeros exact and within half a channel step',
      async (dtype) => {
        const model = seedCnn(23);
        pruneKernels(model, 0.7);
        const original = weightValues(model);
        const artifacts = await quantizeDynamicRange(model, {perChannel: true, dtype});
        const restored = await loadQuantizedLayersModel(tf.io.fromMemory(artifacts));
        const decoded = weightValues(restored);
        for (const spec of artifacts.weightSpecs!) {
          const before = original.get(spec.name)!;
          const after = decoded.get(spec.name)!;
          expect(countZeros(after)).toBe(countZeros(before));
          const q = spec.quantization as unknown as PerChannelQuantization | undefined;
          if (q === undefined) {
            expect(after).toEqual(before);
            continue;
          }
          expect(q.dtype).toBe(dtype === 'uint16' ? 'uint16-per-channel' : 'uint8-per-channel');
          const channels = spec.shape[q.axis];
          let worst = -Infinity;
          for (let i = 0; i < before.length; i++) {
            const step = q.scale[i % channels]; // the channel axis is the last one for these kernels
            worst = Math.max(worst, Math.abs(after[i] - before[i]) - step / 2 - Math.abs(before[i]) * 2 ** -23);
          }
          expect(worst).toBeLessThanOrEqual(1e-12);
        }
        restored.dispose();
        model.dispose();
      });

  it('cuts the relative error of channels of very different scales (1 down to 0.001) by far', async () => {
    const model = unevenDense(16);
    const name = model.weights[0].originalName;
    const original = weightValues(model).get(name)!;
    const perTensor = await loadQuantizedLayersModel(await quantizeDynamicRange(model));
    const perChannel = await loadQuantizedLayersModel(await quantizeDynamicRange(model, {perChannel: true}));
    const tensorError = meanRelativeError(original, weightValues(perTensor).get(name)!, 16);
    const channelError = meanRelativeError(original, weightValues(perChannel).get(name)!, 16);
    expect(channelError).toBeLessThan(0.01);
    expect(tensorError).toBeGreaterThan(0.3);
    // Per tensor, the smallest channels (|w| < scale / 2) collapse to zero entirely.
    const smallest = weightValues(perTensor).get(name)!.filter((_, i) => i % 16 === 15);
    expect(countZeros(smallest)).toBe(smallest.length);
    for (const m of [perTensor, perChannel, model]) m.dispose();
  });

  it('leaks no tensors', async () => {
    const model = unevenDense(8);
    const before = tf.memory().numTensors;
    const artifacts = await quantizeDynamicRange(model, {perChannel: true});
    const restored = await loadQuantizedLayersModel(artifacts);
    restored.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
