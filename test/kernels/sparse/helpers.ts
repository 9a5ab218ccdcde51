// Shared by the sparse kernel tests: sparse weights of every pattern, and a
// comparison of an op run on the sparse kernels with the same op run on the
// stock kernels.
import * as tf from '@tensorflow/tfjs-core';

import {registerSparseKernels, unregisterSparseKernels} from '../../../src/kernels/sparse';
import {sparseRuns} from '../../../src/kernels/sparse/plan';
import {uniform} from '../harness';

/** How the zeros of a `[k, n]` weight are laid out. */
export type Pattern = 'unstructured' | '[1,4]' | '[4,1]' | '2:4';

/**
 * Values of a `[k, n]` weight (row-major) with `sparsity` of them zero in
 * `pattern`: unstructured, blocks of 1 x 4 (4 output channels) or 4 x 1
 * (4 inputs), or 2 of every 4 consecutive inputs (sparsity ignored).
 */
export function sparseValues(k: number, n: number, sparsity: number, pattern: Pattern, seed: number): Float32Array {
  const w = uniform(k * n, seed);
  const draw = uniform(k * n, seed + 1);
  for (let kk = 0; kk < k; kk++) {
    for (let j = 0; j < n; j++) {
      const i = kk * n + j;
      let zero: boolean;
      if (pattern === 'unstructured') zero = draw[i] * 0.5 + 0.5 < sparsity;
      else if (pattern === '[1,4]') zero = draw[kk * n + (j & ~3)] * 0.5 + 0.5 < sparsity;
      else if (pattern === '[4,1]') zero = draw[(kk & ~3) * n + j] * 0.5 + 0.5 < sparsity;
      else zero = (kk % 4) === (j % 2) || (kk % 4) === (j % 2) + 2;
      if (zero) w[i] = 0;
    }
  }
  return w;
}

/** The same values laid out `[n, k]`. */
export function transposed(w: Float32Array, k: number, n: number): Float32Array {
  const t = new Float32Array(k * n);
  for (let kk = 0; kk < k; kk++) for (let j = 0; j < n; j++) t[j * k + kk] = w[kk * n + j];
  return t;
}

/** Sparse products run so far on a backend, all paths. */
export function sparseRunCount(backend: 'wasm' | 'cpu'): number {
  return Object.values(sparseRuns[backend]).reduce((a, b) => a + (b ?? 0), 0);
}

/** `fn()`'s values, disposing of its result. */
export function values(fn: () => tf.Tensor): Float32Array {
  const y = fn();
  const out = y.dataSync() as Float32Array;
  y.dispose();
  return Float32Array.from(out);
}

/**
 * Checks `actual` against `expected`: NaN where it is NaN, the same infinity,
 * and finite values within `tolerance` of the largest finite |expected|.
 */
export function expectSame(actual: Float32Array, expected: Float32Array, tolerance = 2e-6): void {
  expect(actual.length).toBe(expected.length);
  let scale = 1e-30;
  for (const v of expected) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const a = actual[i];
    if (!Number.isFinite(e)) {
      if (!Object.is(a, e) && !(Number.isNaN(a) && Number.isNaN(e))) throw new Error(`value ${i}: expected ${e}, got ${a}`);
    } else if (!(Math.abs(a - e) <= tolerance * scale)) {
      throw new Error(`value ${i}: expected ${e}, got ${a} (scale ${scale})`);
    }
  }
}

/**
 * Runs `op` on the stock kernels, then twice on the sparse kernels (the
 * first call only sights the weight), checks the second against the stock
 * result, and returns how many sparse products the second call ran.
 */
export function compareWithStock(backend: 'wasm' | 'cpu', op: () => tf.Tensor, tolerance?: number): number {
  unregisterSparseKernels();
  const expected = values(op);
  registerSparseKernels();
  try {
    const first = values(op);
    expectSame(first, expected, tolerance);
    const before = sparseRunCount(backend);
    const second = values(op);
    expectSame(second, expected, tolerance);
    return sparseRunCount(backend) - before;
  } finally {
    unregisterSparseKernels();
  }
}
