// MatMul and _FusedMatMul on the sparse kernels against the stock kernels of
// the same backend: shapes, transposes, batch 1 to 64, every fused bias and
// activation, unstructured and block sparsity.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';

import {unregisterSparseKernels} from '../../../src/kernels/sparse';
import {sparseRuns} from '../../../src/kernels/sparse/plan';
import {cross, uniform} from '../harness';
import {compareWithStock, sparseValues, transposed} from './helpers';
import type {Pattern} from './helpers';

type Backend = 'wasm' | 'cpu';

afterEach(() => {
  unregisterSparseKernels();
});

/** A `[k, n]` weight of `sparsity` in `pattern`, stored `[n, k]` when `transposeB`; and activations. */
function operands(m: number, k: number, n: number, transposeA: boolean, transposeB: boolean, sparsity: number,
    pattern: Pattern = 'unstructured') {
  const w = sparseValues(k, n, sparsity, pattern, 11);
  const b = transposeB ? tf.tensor2d(transposed(w, k, n), [n, k]) : tf.tensor2d(w, [k, n]);
  const a = tf.tensor2d(uniform(m * k, 12), transposeA ? [k, m] : [m, k]);
  return {a, b};
}

describe.each(['wasm', 'cpu'] as Backend[])('on %s', (backend) => {
  beforeAll(async () => {
    await tf.setBackend(backend);
  });

  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  const rows = [1, 2, 3, 4, 7, 16, 33, 64];
  it.each(cross(rows, [false, true], [false, true]))(
      'matMul of %i rows, transposeA %s, transposeB %s runs sparse and matches the stock kernel',
      (m, transposeA, transposeB) => {
        const {a, b} = operands(m, 96, 40, transposeA, transposeB, 0.9);
        const runs = compareWithStock(backend, () => tf.matMul(a, b, transposeA, transposeB));
        expect(runs).toBe(1);
        tf.dispose([a, b]);
      });

  const activations = ['linear', 'relu', 'relu6', 'elu', 'leakyrelu', 'prelu', 'sigmoid'] as const;
  it.each(cross([...activations], [false, true], [1, 24]))(
      'fused matMul with %s, bias %s, %i rows matches the stock kernel', (activation, withBias, m) => {
        const {a, b} = operands(m, 256, 32, false, false, 0.9);
        const bias = withBias ? tf.tensor1d(uniform(32, 13)) : undefined;
        const preluActivationWeights = activation === 'prelu' ? tf.tensor1d(uniform(32, 14)) : undefined;
        const runs = compareWithStock(backend, () => tf.fused.matMul({
          a, b, bias, activation, preluActivationWeights, leakyreluAlpha: 0.3,
        }));
        expect(runs).toBe(1);
        tf.dispose([a, b, ...(bias ? [bias] : []), ...(preluActivationWeights ? [preluActivationWeights] : [])]);
      });

  it.each(cross(['unstructured', '[1,4]', '[4,1]', '2:4'] as Pattern[], [1, 5, 40]))(
      '%s sparsity at %i rows matches the stock kernel', (pattern, m) => {
        const {a, b} = operands(m, 128, 64, false, false, 0.85, pattern);
        const bias = tf.tensor1d(uniform(64, 15));
        compareWithStock(backend, () => tf.fused.matMul({a, b, bias, activation: 'relu'}));
        tf.dispose([a, b, bias]);
      });

  if (backend === 'wasm') {
    it.each([[1, 'spmvBlocked'], [40, 'spmmBlocked']] as const)(
        '[1,4] blocks at %i rows run the blocked kernel (%s) and match the stock kernel', (m, path) => {
          const {a, b} = operands(m, 512, 128, false, false, 0.9, '[1,4]');
          const before = sparseRuns.wasm[path] ?? 0;
          expect(compareWithStock(backend, () => tf.matMul(a, b))).toBe(1);
          expect((sparseRuns.wasm[path] ?? 0) - before).toBe(1);
          tf.dispose([a, b]);
        });
  }

  if (backend === 'wasm') {
    it.each(cross([5, 37, 64], [false, true], ['linear', 'relu6'] as const))(
        'a single row with %i output channels (transposeA %s, %s unless transposed) runs the row kernel (spmv) and '
        + 'matches the stock kernel',
        (n, transposeA, activation) => {
          const {a, b} = operands(1, 800, n, transposeA, false, 0.95);
          const bias = tf.tensor1d(uniform(n, 16));
          const before = sparseRuns.wasm.spmv ?? 0;
          // tfjs-backend-wasm's own _FusedMatMul gets transposeA wrong (4.22); BatchMatMul gets it right.
          const op = transposeA ?
            () => tf.matMul(a, b, true, false) :
            () => tf.fused.matMul({a, b, bias, activation});
          expect(compareWithStock(backend, op)).toBe(1);
          expect((sparseRuns.wasm.spmv ?? 0) - before).toBe(1);
          tf.dispose([a, b, bias]);
        });

    it.each([0.7, 0.9])('a single row at %f sparsity (blocks and single entries) runs the row kernel', (sparsity) => {
      const {a, b} = operands(1, 1600, 64, false, false, sparsity);
      const bias = tf.tensor1d(uniform(64, 19));
      const before = sparseRuns.wasm.spmv ?? 0;
      expect(compareWithStock(backend, () => tf.fused.matMul({a, b, bias, activation: 'relu'}))).toBe(1);
      expect((sparseRuns.wasm.spmv ?? 0) - before).toBe(1);
      tf.dispose([a, b, bias]);
    });

    it.each([false, true])(
        'three rows run the row kernel, and fall back to the stock kernel when only the last row is not finite '
        + '(transposeA %s)', (transposeA) => {
          const k = 800;
          const w = tf.tensor2d(sparseValues(k, 64, 0.95, 'unstructured', 17), [k, 64]);
          const values = uniform(3 * k, 18);
          const a = tf.tensor2d(values, transposeA ? [k, 3] : [3, k]);
          const before = sparseRuns.wasm.spmv ?? 0;
          expect(compareWithStock(backend, () => tf.matMul(a, w, transposeA, false))).toBe(1);
          expect((sparseRuns.wasm.spmv ?? 0) - before).toBe(1);
          // Row 2's value at k = 10: the last one copied, after rows 0 and 1 ran.
          values[transposeA ? 10 * 3 + 2 : 2 * k + 10] = NaN;
          const poisoned = tf.tensor2d(values, transposeA ? [k, 3] : [3, k]);
          expect(compareWithStock(backend, () => tf.matMul(poisoned, w, transposeA, false))).toBe(0);
          const y = tf.matMul(poisoned, w, transposeA, false).dataSync();
          expect(y.slice(2 * 64).every(Number.isNaN)).toBe(true);
          tf.dispose([w, a, poisoned]);
        });
  }

  it('runs batched activations against one weight (3D a, transposed or not)', () => {
    const w = tf.tensor3d(sparseValues(256, 32, 0.9, 'unstructured', 21), [1, 256, 32]);
    for (const transposeA of [false, true]) {
      const a = tf.tensor3d(uniform(3 * 256 * 5, 22), transposeA ? [3, 256, 5] : [3, 5, 256]);
      expect(compareWithStock(backend, () => tf.matMul(a, w, transposeA, false))).toBe(1);
      a.dispose();
    }
    w.dispose();
  });

  it('falls back to the stock kernel for a dense weight', () => {
    // Large enough that the stock kernel's fixed cost per call (about 4 us on wasm) does not decide.
    const {a, b} = operands(8, 256, 128, false, false, 0.1);
    expect(compareWithStock(backend, () => tf.matMul(a, b))).toBe(0);
    tf.dispose([a, b]);
  });
});
