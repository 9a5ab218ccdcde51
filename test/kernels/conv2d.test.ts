// The Conv2D kernels (cpu: forward, fused, both gradients; wasm: both
// gradients) against the stock cpu kernels, captured before registration.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';

import {registerTrainingKernels, unregisterTrainingKernels} from '../../src/kernels';
import {cross, expectClose, randomInput, runKernel} from './harness';
import type {RawInput, RawOutput} from './harness';

const NAMES = ['Conv2D', 'FusedConv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput'];
const stock: Record<string, tf.KernelConfig> = {};

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
type Row = [batch: number, inChannels: number, outChannels: number, filter: [number, number], stride: number, pad: Pad];

// NHWC on a 9x7 input. tfjs has no gradient for dilated convolutions, so the
// gradient kernels are only ever called with dilation 1.
const TABLE = cross([1, 7], [1, 3, 16], [1, 3, 16], [[3, 3], [2, 3]] as [number, number][], [1, 2], ['same', 'valid'] as Pad[]) as Row[];

type Density = 'dense' | 'sparse' | 'one entry';

/**
 * A convolution's inputs. A `'sparse'` dy has one nonzero entry in ten, as
 * after ReLU and max pooling in training (the gradient kernels then loop over
 * the nonzero entries, on wasm where the cost model expects it to pay).
 */
function geometry([batch, inChannels, outChannels, [fh, fw], stride, pad]: Row, dilation = 1, density: Density = 'dense') {
  const x = randomInput([batch, 9, 7, inChannels], 11);
  const filter = randomInput([fh, fw, inChannels, outChannels], 12);
  const attrs = {strides: stride, pad, dataFormat: 'NHWC', dilations: dilation};
  const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number], filter.shape as [number, number, number, number],
      stride, dilation, pad);
  const dy = randomInput(info.outShape, 13);
  if (density === 'sparse') dy.values = dy.values.map((v, i) => (i % 10 === 3 ? v : 0));
  if (density === 'one entry') dy.values = dy.values.map((v, i) => (i === Math.floor(dy.values.length / 2) ? v : 0));
  return {x, filter, dy, attrs};
}

// The stock cpu gradients are slow: compute each expected result once for both backends.
const expected = new Map<string, RawOutput>();
function stockResult(kernelName: string, row: Row, density: Density, compute: () => RawOutput): RawOutput {
  const key = `${kernelName} ${density} ${JSON.stringify(row)}`;
  if (!expected.has(key)) expected.set(key, compute());
  return expected.get(key) as RawOutput;
}

describe.each(cross(['cpu', 'wasm'], ['dense', 'sparse'] as Density[]))(
    'Conv2D gradients on %s with %s dy match the stock cpu kernels', (backendName, density) => {
  it.each(TABLE)('batch %d, %d -> %d channels, filter %j, stride %d, %s padding', (...row) => {
    const {x, filter, dy, attrs} = geometry(row, 1, density);
    const filterAttrs = {...attrs, filterShape: filter.shape};
    const inputAttrs = {...attrs, inputShape: x.shape};
    expectClose(
        runKernel(tf.getKernel('Conv2DBackpropFilter', backendName), backendName, {x, dy}, filterAttrs),
        stockResult('Conv2DBackpropFilter', row, density, () => runKernel(stock.Conv2DBackpropFilter, 'cpu', {x, dy}, filterAttrs)));
    expectClose(
        runKernel(tf.getKernel('Conv2DBackpropInput', backendName), backendName, {dy, filter}, inputAttrs),
        stockResult('Conv2DBackpropInput', row, density, () => runKernel(stock.Conv2DBackpropInput, 'cpu', {dy, filter}, inputAttrs)));
  });
});

describe('Conv2D gradients of a dy that is all zeros or nearly', () => {
  // One nonzero entry: the sparse loops on both backends, whatever the geometry.
  const few = [TABLE[0], TABLE[40], TABLE[101], TABLE[143]];
  it.each(cross(['cpu', 'wasm'], few))('%s: a single nonzero dy entry, %j', (backendName, row) => {
    const {x, filter, dy, attrs} = geometry(row, 1, 'one entry');
    const filterAttrs = {...attrs, filterShape: filter.shape};
    const inputAttrs = {...attrs, inputShape: x.shape};
    expectClose(runKernel(tf.getKernel('Conv2DBackpropFilter', backendName), backendName, {x, dy}, filterAttrs),
        runKernel(stock.Conv2DBackpropFilter, 'cpu', {x, dy}, filterAttrs));
    expectClose(runKernel(tf.getKernel('Conv2DBackpropInput', backendName), backendName, {dy, filter}, inputAttrs),
        runKernel(stock.Conv2DBackpropInput, 'cpu', {dy, filter}, inputAttrs));
  });

  it.each(['cpu', 'wasm'])('gives zero gradients on %s for an all-zero dy', (backendName) => {
    const {x, filter, dy, attrs} = geometry([2, 3, 4, [3, 3], 1, 'same']);
    dy.values.fill(0);
    const filterAttrs = {...attrs, filterShape: filter.shape};
    const inputAttrs = {...attrs, inputShape: x.shape};
    const dFilter = runKernel(tf.getKernel('Conv2DBackpropFilter', backendName), backendName, {x, dy}, filterAttrs);
    const dx = runKernel(tf.getKernel('Conv2DBackpropInput', backendName), backendName, {dy, filter}, inputAttrs);
    expect(dFilter.shape).toEqual(filter.shape);
    expect(dx.shape).toEqual(x.shape);
    expect([...dFilter.values, ...dx.values].every((v) => v === 0)).toBe(true);
  });
});

describe('the cpu Conv2D forward kernels match the stock ones', () => {
  it.each(TABLE)('batch %d, %d -> %d channels, filter %j, stride %d, %s padding', (...row) => {
    const {x, filter, attrs} = geometry(row);
    expectClose(runKernel(tf.getKernel('Conv2D', 'cpu'), 'cpu', {x, filter}, attrs),
        runKernel(stock.Conv2D, 'cpu', {x, filter}, attrs));
  });

  it.each([1, 2])('handles dilation %d with stride 1', (dilation) => {
    const {x, filter, attrs} = geometry([2, 3, 4, [3, 2], 1, 'same'], dilation);
    expectClose(runKernel(tf.getKernel('Conv2D', 'cpu'), 'cpu', {x, filter}, attrs),
        runKernel(stock.Conv2D, 'cpu', {x, filter}, attrs));
  });

  it('computes a 1x1 convolution (the pointwise half of SeparableConv2D)', () => {
    const {x, filter, dy, attrs} = geometry([3, 16, 8, [1, 1], 1, 'valid']);
    expectClose(runKernel(tf.getKernel('Conv2D', 'cpu'), 'cpu', {x, filter}, attrs),
        runKernel(stock.Conv2D, 'cpu', {x, filter}, attrs));
    const filterAttrs = {...attrs, filterShape: filter.shape};
    expectClose(runKernel(tf.getKernel('Conv2DBackpropFilter', 'cpu'), 'cpu', {x, dy}, filterAttrs),
        runKernel(stock.Conv2DBackpropFilter, 'cpu', {x, dy}, filterAttrs));
  });

  const activations: [string, Record<string, RawInput>, tf.NamedAttrMap][] = [
    ['linear', {}, {}],
    ['relu', {}, {}],
    ['relu6', {}, {}],
    ['elu', {}, {}],
    ['sigmoid', {}, {}],
    ['leakyrelu', {}, {leakyreluAlpha: 0.3}],
    ['prelu', {preluActivationWeights: randomInput([4], 14)}, {}],
  ];
  it.each(activations)('fuses a bias and the %s activation', (activation, extraInputs, extraAttrs) => {
    const {x, filter, attrs} = geometry([2, 3, 4, [3, 3], 2, 'same']);
    const inputs = {x, filter, bias: randomInput([4], 15), ...extraInputs};
    const fusedAttrs = {...attrs, activation, ...extraAttrs};
    expectClose(runKernel(tf.getKernel('FusedConv2D', 'cpu'), 'cpu', inputs, fusedAttrs),
        runKernel(stock.FusedConv2D, 'cpu', inputs, fusedAttrs));
  });

  it('hands NCHW data to the stock kernel', () => {
    const x = randomInput([2, 3, 6, 5], 16);
    const filter = randomInput([3, 3, 3, 4], 17);
    const attrs = {strides: 1, pad: 'same', dataFormat: 'NCHW', dilations: 1};
    expectClose(runKernel(tf.getKernel('Conv2D', 'cpu'), 'cpu', {x, filter}, attrs),
        runKernel(stock.Conv2D, 'cpu', {x, filter}, attrs));
  });
});
