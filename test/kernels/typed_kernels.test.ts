// The typed-array kernels shared by cpu and wasm (depthwise gradients,
// pooling gradients, UnsortedSegmentSum, the bias-gradient Sum) against the
// stock cpu kernels, captured before registration.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';

import {registerTrainingKernels, unregisterTrainingKernels} from '../../src/kernels';
import {cross, expectClose, randomInput, runKernel} from './harness';
import type {RawInput} from './harness';

const NAMES = [
  'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'MaxPool', 'MaxPoolGrad',
  'AvgPoolGrad', 'UnsortedSegmentSum', 'Sum',
];
const stock: Record<string, tf.KernelConfig> = {};
const BACKENDS = ['cpu', 'wasm'];

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.setBackend('cpu');
  for (const name of NAMES) stock[name] = tf.getKernel(name, 'cpu');
  registerTrainingKernels();
});

afterAll(() => {
  unregisterTrainingKernels();
});

type Pad = 'same' | 'valid';

describe('depthwise convolution gradients match the stock cpu kernels', () => {
  type Row = [backend: string, batch: number, channels: number, multiplier: number, filter: [number, number], stride: number, pad: Pad];
  const table = cross(BACKENDS, [1, 7], [1, 3, 16], [1, 2], [[3, 3], [2, 3]] as [number, number][], [1, 2],
      ['same', 'valid'] as Pad[]) as Row[];

  it.each(table)('%s: batch %d, %d channels x %d, filter %j, stride %d, %s padding',
      (backendName, batch, channels, multiplier, [fh, fw], stride, pad) => {
        const x = randomInput([batch, 9, 7, channels], 21);
        const filter = randomInput([fh, fw, channels, multiplier], 22);
        const info = tf.backend_util.computeConv2DInfo(
            x.shape as [number, number, number, number], filter.shape as [number, number, number, number],
            stride, 1, pad, undefined, true);
        const dy = randomInput(info.outShape, 23);
        const attrs = {strides: stride, pad, dilations: 1};
        const filterAttrs = {...attrs, filterShape: filter.shape};
        const inputAttrs = {...attrs, inputShape: x.shape};
        const filterGrad = 'DepthwiseConv2dNativeBackpropFilter';
        const inputGrad = 'DepthwiseConv2dNativeBackpropInput';
        expectClose(runKernel(tf.getKernel(filterGrad, backendName), backendName, {x, dy}, filterAttrs),
            runKernel(stock[filterGrad], 'cpu', {x, dy}, filterAttrs));
        expectClose(runKernel(tf.getKernel(inputGrad, backendName), backendName, {dy, filter}, inputAttrs),
            runKernel(stock[inputGrad], 'cpu', {dy, filter}, inputAttrs));
      });
});

describe('pooling gradients match the stock cpu kernels', () => {
  type Row = [backend: string, batch: number, channels: number, window: [number, number, number], pad: Pad];
  // [pool height, pool width, stride]: disjoint, overlapping and non-square windows.
  const windows: [number, number, number][] = [[2, 2, 2], [3, 3, 1], [3, 2, 2]];
  const table = cross(BACKENDS, [1, 7], [1, 3, 16], windows, ['same', 'valid'] as Pad[]) as Row[];

  function poolCase(batch: number, channels: number, [ph, pw, stride]: [number, number, number], pad: Pad, x: RawInput) {
    const attrs = {filterSize: [ph, pw], strides: stride, pad};
    const output = runKernel(stock.MaxPool, 'cpu', {x}, attrs);
    const dy = randomInput(output.shape, 32 + batch + channels);
    return {attrs, output, dy};
  }

  it.each(table)('%s: MaxPoolGrad, batch %d, %d channels, window %j, %s padding', (backendName, batch, channels, window, pad) => {
    const x = randomInput([batch, 9, 7, channels], 31);
    const {attrs, output, dy} = poolCase(batch, channels, window, pad, x);
    const inputs = {dy, input: x, output};
    expectClose(runKernel(tf.getKernel('MaxPoolGrad', backendName), backendName, inputs, attrs),
        runKernel(stock.MaxPoolGrad, 'cpu', inputs, attrs));
  });

  it.each(table)('%s: AvgPoolGrad, batch %d, %d channels, window %j, %s padding', (backendName, batch, channels, window, pad) => {
    const x = randomInput([batch, 9, 7, channels], 33);
    const {attrs, dy} = poolCase(batch, channels, window, pad, x);
    const inputs = {dy, input: x};
    expectClose(runKernel(tf.getKernel('AvgPoolGrad', backendName), backendName, inputs, attrs),
        runKernel(stock.AvgPoolGrad, 'cpu', inputs, attrs));
  });

  it.each(BACKENDS)('%s: MaxPoolGrad breaks ties like the stock kernel (first maximum, row-major)', (backendName) => {
    // A ReLU output: mostly zeros, so most windows are all ties.
    const x = randomInput([2, 6, 6, 3], 34);
    x.values = x.values.map((v) => Math.max(0, v - 0.5));
    for (const [window, pad] of [[[2, 2, 2], 'valid'], [[3, 3, 1], 'same']] as const) {
      const {attrs, output, dy} = poolCase(2, 3, window as [number, number, number], pad, x);
      const inputs = {dy, input: x, output};
      const actual = runKernel(tf.getKernel('MaxPoolGrad', backendName), backendName, inputs, attrs);
      const expected = runKernel(stock.MaxPoolGrad, 'cpu', inputs, attrs);
      // The same inputs receive a gradient (sums of overlapping windows may round differently).
      expect(actual.values.map((v) => (v === 0 ? 0 : 1))).toEqual(expected.values.map((v) => (v === 0 ? 0 : 1)));
      expectClose(actual, expected);
    }
  });
});

describe('MaxPoolGrad with NaN and infinite inputs', () => {
  it.each(BACKENDS)('%s: skips NaN and -Infinity inputs like the stock kernel', (backendName) => {
    const x = randomInput([2, 6, 6, 3], 35);
    const special = [NaN, -Infinity, Infinity, NaN, -Infinity];
    x.values = x.values.map((v, i) => (i % 4 === 0 ? special[(i / 4) % special.length] : v));
    // Whole windows of NaN and of -Infinity as well.
    for (const c of [0, 1]) {
      for (const [r, col] of [[0, 0], [0, 1], [1, 0], [1, 1]]) x.values[(r * 6 + col) * 3 + c] = c === 0 ? NaN : -Infinity;
    }
    for (const [window, pad] of [[[2, 2, 2], 'valid'], [[3, 3, 1], 'same'], [[2, 2, 1], 'valid']] as const) {
      const attrs = {filterSize: [window[0], window[1]], strides: window[2], pad};
      const output = runKernel(stock.MaxPool, 'cpu', {x}, attrs);
      const inputs = {dy: randomInput(output.shape, 36), input: x, output};
      const actual = runKernel(tf.getKernel('MaxPoolGrad', backendName), backendName, inputs, attrs);
      const expected = runKernel(stock.MaxPoolGrad, 'cpu', inputs, attrs);
      expect(actual.values.map((v) => (v === 0 ? 0 : 1))).toEqual(expected.values.map((v) => (v === 0 ? 0 : 1)));
      expectClose(actual, expected);
    }
  });
});

describe('UnsortedSegmentSum matches the stock cpu kernel', () => {
  const ids = (values: number[], shape = [values.length]): RawInput => ({values: Int32Array.from(values), shape, dtype: 'int32'});
  const cases: [string, RawInput, RawInput, number][] = [
    ['repeated ids (an Embedding gradient)', randomInput([6, 4], 41), ids([2, 0, 2, 5, 0, 2]), 7],
    ['ids out of range, which are dropped', randomInput([5, 3], 42), ids([-1, 1, 3, 9, 1]), 4],
    ['a rank-3 x', randomInput([4, 2, 3], 43), ids([1, 1, 0, 2]), 3],
    ['one segment', randomInput([8], 45), ids([0, 0, 0, 0, 0, 0, 0, 0]), 1],
  ];
  const rows = cross(BACKENDS, cases).map(([backendName, [title, ...rest]]) => [backendName, title, ...rest] as const);
  it.each(rows)('%s: %s', (backendName, _title, x, segmentIds, numSegments) => {
    const attrs = {numSegments};
    const actual = runKernel(tf.getKernel('UnsortedSegmentSum', backendName), backendName, {x, segmentIds}, attrs);
    expectClose(actual, runKernel(stock.UnsortedSegmentSum, 'cpu', {x, segmentIds}, attrs));
    expect(actual.dtype).toBe('float32');
  });

  it.each(BACKENDS)('%s: flattens rank-2 ids as TensorFlow does (the stock cpu kernel throws for them)', (backendName) => {
    const x = randomInput([3, 2, 5], 44);
    const segmentIds = ids([0, 1, 1, 1, 0, 2], [3, 2]);
    const actual = runKernel(tf.getKernel('UnsortedSegmentSum', backendName), backendName, {x, segmentIds}, {numSegments: 3});
    const flat = runKernel(stock.UnsortedSegmentSum, 'cpu',
        {x: {...x, shape: [6, 5]}, segmentIds: {...segmentIds, shape: [6]}}, {numSegments: 3});
    expectClose(actual, flat);
  });
});

describe('Sum matches the stock cpu kernel', () => {
  const cases: [number[], number | number[], boolean][] = [
    [[7, 5, 4, 16], [0, 1, 2], false],
    [[7, 5, 4, 16], [2, 0, 1], true],
    [[7, 3], 0, false],
    [[7, 3], [-2], true],
    [[4, 5, 6], [1], false],
    [[4, 5, 6], [0, 1, 2], false],
    [[4, 5, 6], [0, 2], true],
  ];
  it.each(cross(BACKENDS, cases))('%s: %j', (backendName, [shape, axis, keepDims]) => {
    const x = randomInput(shape, 51);
    const attrs = {axis, keepDims};
    const actual = runKernel(tf.getKernel('Sum', backendName), backendName, {x}, attrs);
    expectClose(actual, runKernel(stock.Sum, 'cpu', {x}, attrs));
  });

  it('keeps double-precision accuracy over a large bias gradient', () => {
    const x = randomInput([250, 26, 26, 2], 52);
    const attrs = {axis: [0, 1, 2], keepDims: false};
    for (const backendName of BACKENDS) {
      expectClose(runKernel(tf.getKernel('Sum', backendName), backendName, {x}, attrs),
          runKernel(stock.Sum, 'cpu', {x}, attrs), 1e-7);
    }
  });
});
