// The SIMD gradients of wasm/training_simd_grads.ts and the 1 x 32 tiles of
// the filter gradient (training/*.wat on the wasm heap), called directly so
// that no cost model or fallback hides them, against the stock cpu kernels
// on a table of geometries (dense dy, and dy 85% zeros as in training after
// ReLU and max pooling); then NaN and infinities, and the registered wasm
// kernels, with leaks and changed inputs caught by the harness.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';

import {simdConvFilterGradient} from '../../src/kernels/wasm/training_simd';
import {
  simdInputGradientByProduct, simdMaxPoolGradient, simdSparseFilterGradient,
} from '../../src/kernels/wasm/training_simd_grads';
import {stockCpuKernelsAndRegister, simdKernel} from './simd_harness';
import type {Pad, Shape4} from './simd_harness';
import {cross, expectClose, expectSameSpecials, poison, randomInput, runKernel, uniform} from './harness';
import type {RawInput} from './harness';

const CONV_FILTER = 'Conv2DBackpropFilter';
const CONV_INPUT = 'Conv2DBackpropInput';
const MAX_POOL = 'MaxPool';
const MAX_POOL_GRAD = 'MaxPoolGrad';
const stock = stockCpuKernelsAndRegister([CONV_FILTER, CONV_INPUT, MAX_POOL, MAX_POOL_GRAD]);

const convInfo = (xShape: number[], filterShape: number[], attrs: tf.NamedAttrMap) =>
  tf.backend_util.computeConv2DInfo(xShape as Shape4, filterShape as Shape4, attrs.strides as number, 1, attrs.pad as Pad);
const narrowFilter = simdKernel(CONV_FILTER, (backend, {x, dy}, attrs) =>
  simdConvFilterGradient(backend, x, dy, convInfo(x.shape, attrs.filterShape as number[], attrs), true));
const sparseFilter = simdKernel(CONV_FILTER, (backend, {x, dy}, attrs) =>
  simdSparseFilterGradient(backend, x, dy, convInfo(x.shape, attrs.filterShape as number[], attrs)));
const productInput = (sparse: boolean) => simdKernel(CONV_INPUT, (backend, {dy, filter}, attrs) =>
  simdInputGradientByProduct(backend, dy, filter, convInfo(attrs.inputShape as number[], filter.shape, attrs), sparse));
const denseInput = productInput(false);
const sparseInput = productInput(true);
const maxPoolGrad = simdKernel(MAX_POOL_GRAD, (backend, {input, dy}, attrs) => simdMaxPoolGradient(backend, input, dy,
    tf.backend_util.computePool2DInfo(input.shape as Shape4, attrs.filterSize as [number, number],
        attrs.strides as number, 1, attrs.pad as Pad)));

/** `input` with about 85% of its entries set to zero (a dy after ReLU and max pooling). */
function sparsified(input: RawInput, seed: number): RawInput {
  const keep = uniform(input.values.length, seed);
  return {...input, values: input.values.map((v, i) => (keep[i] > 0.7 ? v : 0))};
}

type ConvRow = [batch: number, channels: [number, number], filter: number, stride: number, pad: Pad, sparse: boolean];
// [inChannels, outChannels] over the channel counts 1, 3, 4, 5 and 32.
const CHANNELS: [number, number][] = [[1, 32], [3, 5], [4, 4], [5, 3], [32, 1], [5, 32]];
const CONV_TABLE = cross([1, 3], CHANNELS, [3, 1], [1, 2], ['same', 'valid'] as Pad[], [false, true]) as ConvRow[];

function convCase(batch: number, [ci, co]: [number, number], size: number, stride: number, pad: Pad, sparse: boolean) {
  const x = randomInput([batch, 7, 6, ci], 101);
  const filter = randomInput([size, size, ci, co], 102);
  const info = tf.backend_util.computeConv2DInfo(x.shape as Shape4, filter.shape as Shape4, stride, 1, pad);
  const dense = randomInput(info.outShape, 103);
  const dy = sparse ? sparsified(dense, 104) : dense;
  const attrs = {strides: stride, pad, dataFormat: 'NHWC', dilations: 1};
  return {x, filter, dy, filterAttrs: {...attrs, filterShape: filter.shape}, inputAttrs: {...attrs, inputShape: x.shape}};
}

describe('the SIMD convolution gradients match the stock cpu kernels', () => {
  it.each(CONV_TABLE)('batch %d, %j channels, filter %d, stride %d, %s padding, sparse dy %p',
      (batch, channels, size, stride, pad, sparse) => {
        const {x, filter, dy, filterAttrs, inputAttrs} = convCase(batch, channels, size, stride, pad, sparse);
        const dFilter = runKernel(stock[CONV_FILTER], 'cpu', {x, dy}, filterAttrs);
        expectClose(runKernel(sparseFilter, 'wasm', {x, dy}, filterAttrs), dFilter);
        if (channels[1] >= 4) expectClose(runKernel(narrowFilter, 'wasm', {x, dy}, filterAttrs), dFilter);
        expectClose(runKernel(tf.getKernel(CONV_FILTER, 'wasm'), 'wasm', {x, dy}, filterAttrs), dFilter);
        const dx = runKernel(stock[CONV_INPUT], 'cpu', {dy, filter}, inputAttrs);
        if (size * size * channels[0] >= 4) {
          expectClose(runKernel(denseInput, 'wasm', {dy, filter}, inputAttrs), dx);
          expectClose(runKernel(sparseInput, 'wasm', {dy, filter}, inputAttrs), dx);
        }
        expectClose(runKernel(tf.getKernel(CONV_INPUT, 'wasm'), 'wasm', {dy, filter}, inputAttrs), dx);
      });

  it('keeps accuracy over long sums (3 x 40 x 40 pixels per filter entry)', () => {
    const x = randomInput([3, 40, 40, 3], 105);
    const dy = sparsified(randomInput([3, 40, 40, 8], 106), 107);
    const attrs = {strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1, filterShape: [3, 3, 3, 8]};
    const expected = runKernel(stock[CONV_FILTER], 'cpu', {x, dy}, attrs);
    expectClose(runKernel(sparseFilter, 'wasm', {x, dy}, attrs), expected, 2e-6);
    expectClose(runKernel(narrowFilter, 'wasm', {x, dy}, attrs), expected, 2e-6);
  });

  it('declines patches shorter than 4 (the input gradient)', () => {
    const {filter, dy, inputAttrs} = convCase(1, [3, 4], 1, 1, 'same', false);
    expect(() => runKernel(denseInput, 'wasm', {dy, filter}, inputAttrs)).toThrow(/declined/);
  });
});

describe('the SIMD max-pooling gradient matches the stock cpu kernel', () => {
  type Row = [batch: number, channels: number, window: [number, number, number], pad: Pad];
  // [pool height, pool width, stride]: disjoint, overlapping and non-square windows.
  const windows: [number, number, number][] = [[2, 2, 2], [3, 3, 1], [3, 2, 2], [2, 2, 1]];
  const table = cross([1, 3], [4, 5, 32], windows, ['same', 'valid'] as Pad[]) as Row[];

  function poolCase(batch: number, channels: number, [ph, pw, stride]: [number, number, number], pad: Pad) {
    // Quarter steps and a ReLU: many ties, which go to the first maximum in row-major order.
    const x = randomInput([batch, 7, 6, channels], 111);
    x.values = x.values.map((v) => Math.max(0, Math.round(v * 4) / 4));
    const attrs = {filterSize: [ph, pw], strides: stride, pad};
    const output = runKernel(stock[MAX_POOL], 'cpu', {x}, attrs);
    return {inputs: {dy: randomInput(output.shape, 112), input: x, output}, attrs};
  }

  it.each(table)('batch %d, %d channels, window %j, %s padding', (batch, channels, window, pad) => {
    const {inputs, attrs} = poolCase(batch, channels, window, pad);
    const expected = runKernel(stock[MAX_POOL_GRAD], 'cpu', inputs, attrs);
    const actual = runKernel(maxPoolGrad, 'wasm', inputs, attrs);
    expect(actual.values.map((v) => (v === 0 ? 0 : 1))).toEqual(expected.values.map((v) => (v === 0 ? 0 : 1)));
    expectClose(actual, expected);
  });

  it.each([1, 3])('declines %d channels, and the registered wasm kernel then matches stock', (channels) => {
    const {inputs, attrs} = poolCase(2, channels, [2, 2, 2], 'valid');
    expect(() => runKernel(maxPoolGrad, 'wasm', inputs, attrs)).toThrow(/declined/);
    expectClose(runKernel(tf.getKernel(MAX_POOL_GRAD, 'wasm'), 'wasm', inputs, attrs),
        runKernel(stock[MAX_POOL_GRAD], 'cpu', inputs, attrs));
  });
});

describe('NaN and infinities propagate as in the stock kernels', () => {

  it.each(cross([NaN, Infinity, -Infinity], [1, 5]))('convolution gradients with %p in dy (%d input channels)', (value, ci) => {
    const {x, filter, dy, filterAttrs, inputAttrs} = convCase(2, [ci, 6], 3, 1, 'same', true);
    const poisoned = poison(dy, [3, 50, 51], value);
    const dFilter = runKernel(stock[CONV_FILTER], 'cpu', {x, dy: poisoned}, filterAttrs);
    const dx = runKernel(stock[CONV_INPUT], 'cpu', {dy: poisoned, filter}, inputAttrs);
    for (const kernel of [sparseFilter, narrowFilter, tf.getKernel(CONV_FILTER, 'wasm')]) {
      expectSameSpecials(runKernel(kernel, 'wasm', {x, dy: poisoned}, filterAttrs), dFilter);
    }
    for (const kernel of [denseInput, sparseInput, tf.getKernel(CONV_INPUT, 'wasm')]) {
      expectSameSpecials(runKernel(kernel, 'wasm', {dy: poisoned, filter}, inputAttrs), dx);
    }
  });

  it.each([NaN, Infinity])('a zero dy times %p in x or the filter is NaN (the sparse kernels decline)', (value) => {
    const {x, filter, dy, filterAttrs, inputAttrs} = convCase(2, [5, 6], 3, 1, 'same', true);
    const xBad = poison(x, [7, 100], value);
    const filterBad = poison(filter, [11], value);
    expect(() => runKernel(sparseFilter, 'wasm', {x: xBad, dy}, filterAttrs)).toThrow(/declined/);
    expectSameSpecials(runKernel(tf.getKernel(CONV_FILTER, 'wasm'), 'wasm', {x: xBad, dy}, filterAttrs),
        runKernel(stock[CONV_FILTER], 'cpu', {x: xBad, dy}, filterAttrs));
    expectSameSpecials(runKernel(tf.getKernel(CONV_INPUT, 'wasm'), 'wasm', {dy, filter: filterBad}, inputAttrs),
        runKernel(stock[CONV_INPUT], 'cpu', {dy, filter: filterBad}, inputAttrs));
  });

  it.each([NaN, Infinity, -Infinity])('the max-pooling gradient with %p in x and dy', (value) => {
    const x = poison(randomInput([2, 6, 6, 5], 121), [0, 5, 10, 15, 100, 101], value);
    const attrs = {filterSize: [2, 2], strides: 2, pad: 'valid'};
    const output = runKernel(stock[MAX_POOL], 'cpu', {x}, attrs);
    const inputs = {dy: poison(randomInput(output.shape, 122), [1, 30], value), input: x, output};
    expectSameSpecials(runKernel(maxPoolGrad, 'wasm', inputs, attrs), runKernel(stock[MAX_POOL_GRAD], 'cpu', inputs, attrs));
  });
});
