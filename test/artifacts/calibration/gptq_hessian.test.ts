// GPTQ's pieces (src/artifacts/calibration/hessian.ts, gptq.ts): the Hessians against tfjs's own ops
// (w^T H w is the summed square of what the op makes of w), and the rounding against round-to-nearest.
import * as tf from '@tensorflow/tfjs-core';

import {FREE, gptqRound} from '../../../src/artifacts/calibration/gptq';
import {addConvInputs, addMatMulInputs, newHessian, symmetrize} from '../../../src/artifacts/calibration/hessian';
import type {Hessian, KernelOp} from '../../../src/artifacts/calibration/hessian';

/** A deterministic pseudo-random sequence in [-1, 1). */
function sequence(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({length: n}, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

const quadratic = (h: Hessian, w: ArrayLike<number>, block = 0) => {
  const {d} = h;
  let sum = 0;
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) sum += w[i] * h.h[block * d * d + i * d + j] * w[j];
  return sum;
};
const sumOfSquares = (t: tf.Tensor) => (t.dataSync() as Float32Array).reduce((a, v) => a + v * v, 0);

it('sums x x^T over the rows of a MatMul\'s activations', () => {
  const x = sequence(5 * 2 * 6, 1);
  const h = newHessian(6);
  addMatMulInputs(h, x);
  symmetrize(h);
  expect(h.count).toBe(10);
  const w = sequence(6, 2);
  const y = tf.matMul(tf.tensor2d(x, [10, 6]), tf.tensor2d(w, [6, 1]));
  expect(quadratic(h, w)).toBeCloseTo(sumOfSquares(y), 3);
});

describe.each<[string, KernelOp & {kind: 'conv2d'}, tf.Tensor4D['shape']]>([
  ['same padding, stride 2', {kind: 'conv2d', strides: [2, 2], dilations: [1, 1], padding: 'same'}, [2, 7, 6, 3]],
  ['valid padding, dilation 2', {kind: 'conv2d', strides: [1, 1], dilations: [2, 2], padding: 'valid'}, [1, 8, 9, 3]],
  ['explicit padding, strides 1x2', {kind: 'conv2d', strides: [1, 2], dilations: [1, 1], padding: [[1, 0], [2, 1]]},
    [1, 5, 6, 3]],
])('a Conv2D with %s', (_title, op, shape) => {
  it('gives w^T H w = the summed square of the convolution by w', () => {
    const x = sequence(shape.reduce((a, b) => a * b), 3);
    const h = newHessian(3 * 2 * 3);
    addConvInputs(h, x, shape, 3, 2, op);
    symmetrize(h);
    const w = sequence(3 * 2 * 3, 4);
    const pad = Array.isArray(op.padding) ?
      [[0, 0], ...op.padding, [0, 0]] as [[number, number], [number, number], [number, number], [number, number]] :
      op.padding;
    const y = tf.conv2d(tf.tensor4d(x, shape), tf.tensor4d(w, [3, 2, 3, 1]), op.strides, pad, 'NHWC', op.dilations);
    expect(quadratic(h, w)).toBeCloseTo(sumOfSquares(y), 2);
    expect(h.count).toBe(y.shape[0] * y.shape[1] * y.shape[2]);
  });
});

it('keeps one Hessian per channel of a depthwise convolution', () => {
  const shape: [number, number, number, number] = [1, 6, 5, 3];
  const x = sequence(shape.reduce((a, b) => a * b), 5);
  const op: KernelOp = {kind: 'depthwise', strides: [1, 2], dilations: [1, 1], padding: 'same'};
  const h = newHessian(3 * 3, 3);
  addConvInputs(h, x, shape, 3, 3, op);
  symmetrize(h);
  const w = sequence(3 * 3 * 3, 6); // [3, 3, 3, 1]
  const y = tf.depthwiseConv2d(tf.tensor4d(x, shape), tf.tensor4d(w, [3, 3, 3, 1]), op.strides, 'same');
  const ys = y.dataSync();
  for (let c = 0; c < 3; c++) {
    const wc = Array.from({length: 9}, (_, i) => w[i * 3 + c]);
    let expected = 0;
    for (let i = c; i < ys.length; i += 3) expected += ys[i] * ys[i];
    expect(quadratic(h, wc, c)).toBeCloseTo(expected, 3);
  }
});

function problem(d: number, m: number, h: Float64Array, w: Float32Array, maxCode = 127) {
  const scales = Float64Array.from({length: m}, (_, j) => {
    let max = 0;
    for (let i = 0; i < d; i++) max = Math.max(max, Math.abs(w[i * m + j]));
    return max / maxCode;
  });
  return {w: Float64Array.from(w), d, m, h, scales, maxCode, fixed: new Int16Array(d * m).fill(FREE)};
}

it('rounds to nearest when the inputs are uncorrelated (H diagonal)', () => {
  const d = 8;
  const m = 3;
  const w = sequence(d * m, 7);
  const h = new Float64Array(d * d);
  for (let i = 0; i < d; i++) h[i * d + i] = 1 + i;
  const p = problem(d, m, h, w);
  expect(gptqRound(p)).toBe(true);
  for (let i = 0; i < d * m; i++) expect(p.w[i]).toBeCloseTo(Math.round(w[i] / p.scales[i % m]) * p.scales[i % m], 12);
});

it('moves the outputs on correlated inputs less than rounding to nearest, on the same grid', () => {
  const d = 24;
  const m = 4;
  const n = 200;
  // Correlated inputs: a shared component plus noise, positive mean like post-ReLU activations.
  const base = sequence(n, 8);
  const noise = sequence(n * d, 9);
  const x = Float32Array.from({length: n * d}, (_, k) => 0.5 + base[Math.floor(k / d)] + 0.3 * noise[k]);
  const h = newHessian(d);
  addMatMulInputs(h, x);
  symmetrize(h);
  const w = sequence(d * m, 10);
  const p = problem(d, m, h.h, w, 7); // a coarse grid, so that rounding matters
  const nearest = Float64Array.from(w, (v, k) => Math.round(v / p.scales[k % m]) * p.scales[k % m]);
  expect(gptqRound(p)).toBe(true);
  const outputError = (q: ArrayLike<number>) => {
    let sum = 0;
    for (let j = 0; j < m; j++) sum += quadratic(h, Array.from({length: d}, (_, i) => w[i * m + j] - q[i * m + j]));
    return sum;
  };
  expect(outputError(p.w)).toBeLessThan(0.5 * outputError(nearest));
  for (let k = 0; k < d * m; k++) {
    const code = p.w[k] / p.scales[k % m];
    expect(Math.abs(code - Math.round(code))).toBeLessThan(1e-9);
    expect(Math.abs(code)).toBeLessThanOrEqual(7);
  }
});

it('keeps fixed codes, and leaves w alone when H cannot be factored', () => {
  const d = 6;
  const m = 2;
  const w = sequence(d * m, 11);
  const h = new Float64Array(d * d).fill(0.5);
  for (let i = 0; i < d; i++) h[i * d + i] = 1;
  const p = problem(d, m, h, w);
  p.fixed[0] = 0;
  p.fixed[5] = -127;
  expect(gptqRound(p)).toBe(true);
  expect(p.w[0]).toBe(0);
  expect(p.w[5]).toBeCloseTo(-127 * p.scales[1], 12);
  for (const bad of [NaN, Infinity]) {
    const broken = problem(d, m, new Float64Array(d * d).fill(bad), w);
    expect(gptqRound(broken)).toBe(false);
    expect(Array.from(broken.w)).toEqual(Array.from(Float64Array.from(w)));
  }
});

it('sums an evenly spaced subset of the patches when a batch has more than maxRows, starting elsewhere each batch', () => {
  // A constant input and valid padding: every patch is the same vector of 2s, so H = count * 4.
  const shape = [2, 20, 20, 1];
  const x = new Float32Array(2 * 20 * 20).fill(2);
  const op: KernelOp = {kind: 'conv2d', strides: [1, 1], dilations: [1, 1], padding: 'valid'};
  const h = newHessian(4);
  addConvInputs(h, x, shape, 2, 2, op, 100); // 2 * 19 * 19 = 722 patches: every 8th, 91 of them
  expect(h.count).toBe(91);
  addConvInputs(h, x, shape, 2, 2, op, 100); // the next batch starts at patch 91 % 8 = 3: 90 of them
  expect(h.count).toBe(181);
  symmetrize(h);
  expect(Array.from(h.h)).toEqual(new Array(16).fill(181 * 4));
  const rows = newHessian(3);
  addMatMulInputs(rows, new Float32Array(3 * 50).fill(1), 10); // 50 rows: every 5th
  expect(rows.count).toBe(10);
});
