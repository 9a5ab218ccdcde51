// Weights that tfjs-converter already quantized are decoded first: antispoof ships float16 weights,
// handtrack uint8 weights (see fixtures.ts).
import * as tf from '@tensorflow/tfjs-core';

import {quantizeArtifacts} from '../../src';
import {decodedWeights, graphRunner, inputShape, loadHumanModel, outputsOn, randomInput, relativeError, tfconv} from './fixtures';

it('requantizes float16 weights to int8, within 2% of the float16 model and half its weight bytes', async () => {
  const original = loadHumanModel('antispoof');
  expect(original.weightSpecs!.filter((s) => s.quantization?.dtype === 'float16').length).toBe(10);
  const int8 = await quantizeArtifacts(original);
  const large = int8.weightSpecs!.filter((s) => s.dtype === 'float32' && s.shape.reduce((a, b) => a * b, 1) >= 1024 &&
      !/BiasAdd/.test(s.name));
  expect(large.map((s) => s.quantization?.dtype)).toEqual(large.map(() => 'uint8'));
  expect((int8.weightData as ArrayBuffer).byteLength).toBeLessThan(0.55 * (original.weightData as ArrayBuffer).byteLength);
  const reference = await tfconv.loadGraphModel(tf.io.fromMemory(original));
  const quantized = await tfconv.loadGraphModel(tf.io.fromMemory(int8));
  // The output is one sigmoid per image: its range is taken over a batch of 3.
  const x = randomInput(inputShape(reference, 3));
  expect(relativeError(outputsOn(graphRunner(reference), x), outputsOn(graphRunner(quantized), x))).toBeLessThan(0.02);
  reference.dispose();
  quantized.dispose();
  x.dispose();
});

it('decodes uint8 weights exactly as tfjs decodes them (float16 of the same values)', async () => {
  const original = loadHumanModel('handtrack');
  const uint8 = original.weightSpecs!.filter((s) => s.quantization?.dtype === 'uint8').map((s) => s.name);
  expect(uint8.length).toBe(272);
  const before = decodedWeights(original);
  const after = decodedWeights(await quantizeArtifacts(original, {dtype: 'float16', minElements: 0}));
  const {abs} = Math; // an alias: each lookup of the global Math is slow in Jest's vm context
  let worst = 0;
  for (const name of uint8) {
    const expected = before[name];
    const actual = after[name];
    // float16 keeps 11 significant bits: a relative error of at most 2^-11 (subnormals: 2^-25 absolute).
    for (let i = 0; i < expected.length; i++) {
      const excess = abs(actual[i] - expected[i]) - abs(expected[i]) * 2 ** -11 - 2 ** -25;
      if (excess > worst) worst = excess;
    }
  }
  expect(worst).toBeLessThanOrEqual(0);
});
