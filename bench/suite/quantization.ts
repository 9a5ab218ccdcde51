/**
 * What a conversion costs: `quantizeDynamicRange` (int8, per tensor) on a
 * model of two Dense layers (25,007,500 float32 parameters in the full run,
 * ResNet-50's count), against a plain copy of the same weights: every
 * weight read from the backend (`await data()`) and copied into one output
 * buffer, which is the part of a conversion no encoder can avoid.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {quantizeDynamicRange} from '../../src';
import {gaussians} from '../../test/quantization/fixtures';
import {Backend, Figure, Settings, figure} from './figures';
import {interleave, pairedRatios, summarize} from './harness';

const MB = 1e6;

/** Dense a -> b -> c with seeded Gaussian kernels and zero biases, built without holding two copies. */
function denseModel([a, b, c]: [number, number, number]): tfl.Sequential {
  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({units: b, inputShape: [a], kernelInitializer: 'zeros'}),
      tfl.layers.dense({units: c, kernelInitializer: 'zeros'}),
    ],
  });
  model.layers.forEach((layer, i) => {
    const [kernel, bias] = layer.getWeights();
    const values = tf.tensor(gaussians(kernel.size, 100 + i, 0.02), kernel.shape);
    layer.setWeights([values, bias]);
    values.dispose();
  });
  return model;
}

/** Reads every weight and copies its bytes into one buffer of the model's float32 size. */
async function copyWeights(model: tfl.LayersModel, byteLength: number): Promise<Uint8Array> {
  const out = new Uint8Array(byteLength);
  let offset = 0;
  for (const variable of model.weights) {
    const values = await variable.read().data() as Float32Array;
    out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), offset);
    offset += values.byteLength;
  }
  return out;
}

export async function measureQuantization(backend: Backend, settings: Settings): Promise<Figure[]> {
  const model = denseModel(settings.quantization.denseUnits);
  const parameters = model.countParams();
  const bytes = parameters * 4;
  try {
    const measured = await interleave([
      {name: 'quantizeDynamicRange', fn: () => quantizeDynamicRange(model)},
      {name: 'copy', fn: () => copyWeights(model, bytes)},
    ], settings.quantization.rounds);
    const throughput = summarize(measured.rounds['quantizeDynamicRange'].map((ms) => bytes / MB / (ms / 1000)));
    const details = {parameters, float32MB: bytes / MB, ms: measured.times};
    return [
      figure({
        id: 'quantize-throughput', backend,
        title: `quantizeDynamicRange (int8) on ${parameters.toLocaleString('en-US')} float32 parameters`,
        baseline: 'none (float32 bytes in per second)', unit: 'MB/s',
        target: {comparison: '>=', value: 200, text: 'at least 200 MB/s'}, details,
      }, throughput),
      figure({
        id: 'quantize-vs-copy', backend,
        title: `quantizeDynamicRange (int8) on ${parameters.toLocaleString('en-US')} float32 parameters`,
        baseline: 'a plain copy of the same weights (read from the backend into one buffer)', unit: 'x',
        target: {comparison: '<=', value: 10, text: 'within 10x of the copy'}, details,
      }, summarize(pairedRatios(measured, 'quantizeDynamicRange', 'copy'))),
    ];
  } finally {
    model.dispose();
  }
}
