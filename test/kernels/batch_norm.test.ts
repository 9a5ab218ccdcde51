// FusedBatchNorm (BatchNormalization's forward pass) on wasm against the
// stock wasm kernel, bit for bit, and the stock cpu kernel, both captured
// before registration: channel counts, parameters of size 1 or per channel,
// no offset or scale, NaN and infinities; other shapes go to the stock kernel.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';

import {registerTrainingKernels, unregisterTrainingKernels} from '../../src/kernels';
import {cross, expectClose, randomInput, runKernel} from './harness';
import type {RawInput} from './harness';

let stock: Record<'cpu' | 'wasm', tf.KernelConfig>;

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.setBackend('cpu');
  stock = {cpu: tf.getKernel('FusedBatchNorm', 'cpu'), wasm: tf.getKernel('FusedBatchNorm', 'wasm')};
  registerTrainingKernels();
});

afterAll(() => {
  unregisterTrainingKernels();
});

/** The variance must not be negative: |values|. */
const positive = (input: RawInput): RawInput => ({...input, values: input.values.map(Math.abs)});

function inputsFor(shape: number[], paramSize: number, withOffset: boolean, withScale: boolean): Record<string, RawInput> {
  const inputs: Record<string, RawInput> = {
    x: randomInput(shape, 11),
    mean: randomInput([paramSize], 12),
    variance: positive(randomInput([paramSize], 13)),
  };
  if (withOffset) inputs.offset = randomInput([paramSize], 14);
  if (withScale) inputs.scale = randomInput([paramSize], 15);
  return inputs;
}

const ours = () => tf.getKernel('FusedBatchNorm', 'wasm');

describe('FusedBatchNorm on wasm', () => {
  const shapes = [[4], [3, 8], [2, 5, 5, 16], [3, 7, 7, 36], [1, 2, 2, 4]];
  const rows = cross(shapes, ['channels', 'scalar'] as const, [true, false], [true, false]);
  it.each(rows)('x %j, parameters %s, offset %s, scale %s: the stock wasm kernel bit for bit', (shape, params, offset, scale) => {
    const channels = shape[shape.length - 1];
    const inputs = inputsFor(shape, params === 'channels' ? channels : 1, offset, scale);
    const attrs = {varianceEpsilon: 0.001};
    const actual = runKernel(ours(), 'wasm', inputs, attrs);
    expect(Array.from(actual.values)).toEqual(Array.from(runKernel(stock.wasm, 'wasm', inputs, attrs).values));
    expectClose(actual, runKernel(stock.cpu, 'cpu', inputs, attrs));
  });

  it('keeps NaN and infinities where the stock kernel does, and a zero variance with epsilon', () => {
    const x = {values: Float32Array.from([NaN, 1, Infinity, -Infinity, 2, -0, 3, 4]), shape: [2, 4]};
    const inputs = {
      x, mean: {values: Float32Array.from([0, 1, 0, Infinity]), shape: [4]},
      variance: {values: Float32Array.from([0, 0, 1, 4]), shape: [4]},
    };
    for (const varianceEpsilon of [1e-3, 0]) {
      const actual = runKernel(ours(), 'wasm', inputs, {varianceEpsilon});
      expect(Array.from(actual.values)).toEqual(Array.from(runKernel(stock.wasm, 'wasm', inputs, {varianceEpsilon}).values));
    }
  });

  it('hands other shapes to the stock kernel: 3 channels, parameters of another size', () => {
    for (const [shape, paramSize] of [[[2, 3, 3], 3], [[2, 8], 2], [[4, 8], 32]] as const) {
      const inputs = inputsFor([...shape], paramSize, true, true);
      const attrs = {varianceEpsilon: 0.01};
      expect(Array.from(runKernel(ours(), 'wasm', inputs, attrs).values))
          .toEqual(Array.from(runKernel(stock.wasm, 'wasm', inputs, attrs).values));
    }
  });
});
