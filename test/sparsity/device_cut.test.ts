// The plain magnitude mask is cut on the device (cutAtThreshold) from the threshold the radix
// selection finds in JavaScript: it must be the mask magnitudeMask cuts in JavaScript, bit for bit,
// with the masked weight +0 where pruned and the weight itself where kept, on cpu and wasm.
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';

import {cutAtThreshold, keepCount, kthLargestMagnitude, magnitudeMask} from '../../src/sparsity/pruning_impl';

const BACKENDS = ['cpu', 'wasm'];

// Finite values with exact zeros of both signs, ties, subnormals and neighbours of the threshold.
const weights = fc.array(fc.oneof(
    fc.float({noNaN: true, noDefaultInfinity: true}),
    fc.constantFrom(0, -0, 1e-45, -1e-45, 1.5, -1.5, 3.4028234663852886e38),
), {minLength: 1, maxLength: 200}).map((values) => Float32Array.from(values));
const sparsities = fc.double({min: 0, max: 0.999, noNaN: true});

afterAll(async () => {
  await tf.setBackend('cpu');
});

describe.each(BACKENDS)('cutAtThreshold on %s', (backend) => {
  beforeAll(async () => {
    await tf.setBackend(backend);
  });

  it('cuts the mask magnitudeMask cuts, and applies it with +0 where pruned and the weight where kept', () => {
    fc.assert(fc.property(weights, sparsities, (values, sparsity) => {
      const expected = magnitudeMask(values, sparsity).mask;
      const threshold = kthLargestMagnitude(values, keepCount(values.length, sparsity));
      const before = tf.memory().numTensors;
      const w = tf.tensor1d(values);
      const {mask, masked} = cutAtThreshold(w, threshold);
      expect(Array.from(mask.dataSync())).toEqual(Array.from(expected));
      const applied = masked.dataSync();
      expected.forEach((keep, i) => {
        expect(Object.is(applied[i], keep === 1 ? values[i] : 0)).toBe(true);
      });
      tf.dispose([w, mask, masked]);
      expect(tf.memory().numTensors).toBe(before);
    }), {numRuns: 200});
  });

  it('keeps every weight, zeros included, at a threshold of 0', () => {
    const values = Float32Array.from([0, -0, 0, 2]);
    const w = tf.tensor1d(values);
    const {mask, masked} = cutAtThreshold(w, kthLargestMagnitude(values, 4));
    expect(Array.from(mask.dataSync())).toEqual([1, 1, 1, 1]);
    expect(Object.is(masked.dataSync()[1], -0)).toBe(true);
    tf.dispose([w, mask, masked]);
  });
});
