// BatchMatMul (cpu and wasm) and _FusedMatMul (cpu) against the stock cpu kernels.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';

import {registerTrainingKernels, unregisterTrainingKernels} from '../../src/kernels';
import {cross, expectClose, randomInput, runKernel} from './harness';
import type {RawInput} from './harness';

const stock: Record<string, tf.KernelConfig> = {};

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.setBackend('cpu');
  for (const name of ['BatchMatMul', '_FusedMatMul']) stock[name] = tf.getKernel(name, 'cpu');
  registerTrainingKernels();
});

afterAll(() => {
  unregisterTrainingKernels();
});

/** Operands of an (m x k) . (k x n) product, stored transposed where asked, with `batchA`/`batchB` leading axes. */
function operands(m: number, k: number, n: number, transposeA: boolean, transposeB: boolean, batchA: number[] = [], batchB: number[] = []) {
  const a = randomInput([...batchA, ...(transposeA ? [k, m] : [m, k])], 61);
  const b = randomInput([...batchB, ...(transposeB ? [n, k] : [k, n])], 62);
  return {a, b, attrs: {transposeA, transposeB}};
}

describe('BatchMatMul matches the stock cpu kernel', () => {
  type Row = [backend: string, shape: [number, number, number], transposeA: boolean, transposeB: boolean];
  // Shapes with odd sizes exercise the blocked product's leftover rows.
  const shapes: [number, number, number][] = [[1, 1, 1], [7, 5, 3], [250, 64, 10], [9, 16, 33]];
  const table = cross(['cpu', 'wasm'], shapes, [false, true], [false, true]) as Row[];

  it.each(table)('%s: %j, transposeA %s, transposeB %s', (backendName, [m, k, n], transposeA, transposeB) => {
    const {a, b, attrs} = operands(m, k, n, transposeA, transposeB);
    expectClose(runKernel(tf.getKernel('BatchMatMul', backendName), backendName, {a, b}, attrs),
        runKernel(stock.BatchMatMul, 'cpu', {a, b}, attrs));
  });

  const batches: [number[], number[]][] = [[[3], [3]], [[3], [1]], [[1], [3]], [[2, 3], [2, 3]]];
  it.each(cross(['cpu', 'wasm'], batches, [false, true]))('%s: batch axes %j, transposed %s', (backendName, [batchA, batchB], transpose) => {
    const {a, b, attrs} = operands(4, 6, 5, transpose, transpose, batchA, batchB);
    expectClose(runKernel(tf.getKernel('BatchMatMul', backendName), backendName, {a, b}, attrs),
        runKernel(stock.BatchMatMul, 'cpu', {a, b}, attrs));
  });
});

describe('the cpu _FusedMatMul matches the stock kernel', () => {
  const activations: [string, Record<string, RawInput>, tf.NamedAttrMap][] = [
    ['linear', {}, {}],
    ['relu', {}, {}],
    ['relu6', {}, {}],
    ['elu', {}, {}],
    ['sigmoid', {}, {}],
    ['leakyrelu', {}, {leakyreluAlpha: 0.3}],
    ['prelu', {preluActivationWeights: randomInput([5], 63)}, {}],
  ];
  it.each(activations)('fuses a bias and the %s activation', (activation, extraInputs, extraAttrs) => {
    const {a, b, attrs} = operands(6, 7, 5, false, true);
    const inputs = {a, b, bias: randomInput([5], 64), ...extraInputs};
    const fusedAttrs = {...attrs, activation, ...extraAttrs};
    expectClose(runKernel(tf.getKernel('_FusedMatMul', 'cpu'), 'cpu', inputs, fusedAttrs),
        runKernel(stock._FusedMatMul, 'cpu', inputs, fusedAttrs));
  });

  it('runs without a bias', () => {
    const {a, b, attrs} = operands(6, 7, 5, true, false);
    const fusedAttrs = {...attrs, activation: 'relu'};
    expectClose(runKernel(tf.getKernel('_FusedMatMul', 'cpu'), 'cpu', {a, b}, fusedAttrs),
        runKernel(stock._FusedMatMul, 'cpu', {a, b}, fusedAttrs));
  });
});
