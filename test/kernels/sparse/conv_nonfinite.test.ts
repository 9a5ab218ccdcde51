// Conv2D and FusedConv2D with 1x1 filters on the sparse kernels against the
// stock kernels; NaN and infinities in activations and weights.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';

import {unregisterSparseKernels} from '../../../src/kernels/sparse';
import {cross, uniform} from '../harness';
import {compareWithStock, sparseValues} from './helpers';

type Backend = 'wasm' | 'cpu';

afterEach(() => {
  unregisterSparseKernels();
});

describe.each(['wasm', 'cpu'] as Backend[])('on %s', (backend) => {
  beforeAll(async () => {
    await tf.setBackend(backend);
  });

  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it.each(cross([[1, 5, 5], [2, 7, 3], [4, 8, 8]] as [number, number, number][], ['same', 'valid'] as const))(
      'a 1x1 conv2d on %j images, padding %s, runs sparse and matches the stock kernel', ([batch, h, w], pad) => {
        const x = tf.tensor4d(uniform(batch * h * w * 128, 31), [batch, h, w, 128]);
        const filter = tf.tensor4d(sparseValues(128, 64, 0.85, 'unstructured', 32), [1, 1, 128, 64]);
        expect(compareWithStock(backend, () => tf.conv2d(x, filter, 1, pad))).toBe(1);
        tf.dispose([x, filter]);
      });

  const activations = ['linear', 'relu', 'relu6', 'elu', 'leakyrelu', 'prelu', 'sigmoid'] as const;
  it.each(cross([...activations], ['[1,4]', 'unstructured'] as const))(
      'a fused 1x1 conv2d with bias and %s (%s) matches the stock kernel', (activation, pattern) => {
        const x = tf.tensor4d(uniform(2 * 6 * 6 * 256, 33), [2, 6, 6, 256]);
        const filter = tf.tensor4d(sparseValues(256, 32, 0.9, pattern, 34), [1, 1, 256, 32]);
        const bias = tf.tensor1d(uniform(32, 35));
        const preluActivationWeights = activation === 'prelu' ? tf.tensor1d(uniform(32, 36)) : undefined;
        const runs = compareWithStock(backend, () => tf.fused.conv2d({
          x, filter, strides: 1, pad: 'same', bias, activation, preluActivationWeights, leakyreluAlpha: 0.1,
        }));
        expect(runs).toBe(1);
        tf.dispose([x, filter, bias, ...(preluActivationWeights ? [preluActivationWeights] : [])]);
      });

  it('leaves 3x3 filters, strides and dilations to the stock kernel', () => {
    const x = tf.tensor4d(uniform(1 * 8 * 8 * 16, 37), [1, 8, 8, 16]);
    const f3 = tf.tensor4d(uniform(9 * 16 * 8, 38).map((v) => (v > 0.8 ? v : 0)), [3, 3, 16, 8]);
    const f1 = tf.tensor4d(sparseValues(16, 8, 0.9, 'unstructured', 39), [1, 1, 16, 8]);
    expect(compareWithStock(backend, () => tf.conv2d(x, f3, 1, 'same'))).toBe(0);
    expect(compareWithStock(backend, () => tf.conv2d(x, f1, 2, 'same'))).toBe(0);
    expect(compareWithStock(backend, () => tf.conv2d(x, f1, 1, 'same', 'NHWC', 2))).toBe(0);
    tf.dispose([x, f3, f1]);
  });

  describe('NaN and infinities', () => {
    const k = 96;
    const n = 40;
    const poisoned = (m: number) => {
      const a = uniform(m * k, 41);
      a[3] = NaN;
      a[k + 5] = Infinity;
      if (m > 2) a[2 * k + 7] = -Infinity;
      return a;
    };

    it.each(cross([1, 3, 20], ['linear', 'relu'] as const))(
        'activations with NaN or infinities at %i rows (%s) run on the stock kernel: NaN rows stay NaN',
        (m, activation) => {
          const a = tf.tensor2d(poisoned(m), [m, k]);
          const w = tf.tensor2d(sparseValues(k, n, 0.9, 'unstructured', 42), [k, n]);
          // A skipped zero weight times NaN or infinity would drop the NaN the dense product has.
          expect(compareWithStock(backend, () => tf.fused.matMul({a, b: w, activation}))).toBe(0);
          const y = tf.matMul(a, w);
          expect(Number.isNaN(y.dataSync()[0])).toBe(true);
          tf.dispose([a, w, y]);
        });

    it.each(cross([1, 20], ['linear', 'relu', 'relu6'] as const))(
        'NaN and infinite weights at %i rows (%s) run sparse and reach the output as in the stock kernel',
        (m, activation) => {
          const a = tf.tensor2d(uniform(m * k, 43), [m, k]);
          const values = sparseValues(k, n, 0.9, 'unstructured', 44);
          values[0] = NaN; // channel 0
          values[5 * n + 1] = Infinity; // channel 1
          values[6 * n + 2] = -Infinity; // channel 2
          values[7 * n + 3] = Infinity; // channel 3 gets +inf and -inf
          values[8 * n + 3] = -Infinity;
          const w = tf.tensor2d(values, [k, n]);
          expect(compareWithStock(backend, () => tf.fused.matMul({a, b: w, activation}))).toBe(1);
          tf.dispose([a, w]);
        });

    it('a 1x1 conv with an infinite activation runs on the stock kernel', () => {
      const xv = uniform(1 * 4 * 4 * 64, 45);
      xv[17] = Infinity;
      const x = tf.tensor4d(xv, [1, 4, 4, 64]);
      const filter = tf.tensor4d(sparseValues(64, 32, 0.9, 'unstructured', 46), [1, 1, 64, 32]);
      expect(compareWithStock(backend, () => tf.conv2d(x, filter, 1, 'same'))).toBe(0);
      tf.dispose([x, filter]);
    });
  });
});
