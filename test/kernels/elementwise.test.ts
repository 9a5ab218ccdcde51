// The cpu element-wise kernels against the stock ones: bit-identical results
// (NaN, infinities and signed zeros included), and the stock kernel for every
// case they do not cover.
import * as tf from '@tensorflow/tfjs-core';

import {registerTrainingKernels, unregisterTrainingKernels} from '../../src/kernels';
import {randomInput, runKernel} from './harness';
import type {RawInput} from './harness';

const BINARY = ['Add', 'Sub', 'Multiply', 'RealDiv'];
const UNARY = ['Relu', 'Step', 'Sqrt', 'Floor'];
const stock: Record<string, tf.KernelConfig> = {};

beforeAll(() => {
  for (const name of [...BINARY, ...UNARY]) stock[name] = tf.getKernel(name, 'cpu');
  registerTrainingKernels();
});

afterAll(() => {
  unregisterTrainingKernels();
});

const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1e-45, -3.5, 2];

/** Random values with the special ones mixed in. */
function input(shape: number[], seed: number): RawInput {
  const raw = randomInput(shape, seed);
  raw.values.forEach((_, i) => {
    if (i % 5 === 0) raw.values[i] = SPECIAL[(i / 5 + seed) % SPECIAL.length];
  });
  return raw;
}

function expectIdentical(name: string, inputs: Record<string, RawInput>, attrs: tf.NamedAttrMap = {}): void {
  const actual = runKernel(tf.getKernel(name, 'cpu'), 'cpu', inputs, attrs);
  const expected = runKernel(stock[name], 'cpu', inputs, attrs);
  expect(actual.shape).toEqual(expected.shape);
  expect(actual.dtype).toBe(expected.dtype);
  expect(Array.from(actual.values)).toEqual(Array.from(expected.values));
}

describe('binary kernels', () => {
  // [a shape, b shape]: same shape, scalars, biases of the trailing axes (either side),
  // rank expansion, and broadcasts that go to the stock kernel.
  const shapes: [number[], number[]][] = [
    [[4, 5], [4, 5]],
    [[4, 5], []],
    [[], [4, 5]],
    [[2, 3, 4, 6], [6]],
    [[6], [2, 3, 4, 6]],
    [[2, 3, 4, 6], [1, 1, 6]],
    [[2, 3, 4, 6], [4, 6]],
    [[3], [1, 3]],
    [[3, 1], [1, 4]],
    [[2, 3, 4], [3, 1]],
    [[0, 3], [3]],
  ];
  it.each(BINARY.flatMap((name) => shapes.map(([a, b]) => [name, a, b] as const)))(
      '%s of %j and %j is identical to the stock kernel', (name, aShape, bShape) => {
        expectIdentical(name, {a: input(aShape, 1), b: input(bShape, 2)});
      });

  it.each(BINARY)('%s hands int32 data to the stock kernel', (name) => {
    const a: RawInput = {values: Int32Array.from([1, -2, 3, 4]), shape: [4], dtype: 'int32'};
    const b: RawInput = {values: Int32Array.from([5, 6, -7, 2]), shape: [4], dtype: 'int32'};
    expectIdentical(name, {a, b});
  });
});

describe('unary kernels', () => {
  it.each(UNARY)('%s is identical to the stock kernel', (name) => {
    expectIdentical(name, {x: input([3, 7, 5], 3)}, name === 'Step' ? {alpha: 0} : {});
  });

  it('Step takes its alpha (the LeakyReLU-style mask)', () => {
    expectIdentical('Step', {x: input([40], 4)}, {alpha: 0.25});
  });

  it.each(['Relu', 'Floor'])('%s hands int32 data to the stock kernel', (name) => {
    expectIdentical(name, {x: {values: Int32Array.from([-3, 0, 4]), shape: [3], dtype: 'int32'}});
  });
});
