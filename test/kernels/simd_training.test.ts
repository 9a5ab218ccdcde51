// The SIMD training kernels of src/kernels/simd (training/*.wat on the wasm
// heap) called directly, so that no cost model or fallback hides them,
// against the stock cpu kernels (the registered cpu kernels where stock cpu
// ignores dilations), on a table of geometries; then NaN and infinities,
// and the registered wasm kernels with leaks counted by the harness.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';

import {batchNormGradient} from '../../src/kernels/impl/batch_norm_grad_impl';
import {
  simdConvFilterGradient, simdDepthwiseFilterGradient, simdDepthwiseInputGradient, simdPointwiseInputGradient,
  trainingSimd,
} from '../../src/kernels/wasm/training_simd';
import {simdBatchNormGradient, simdChannelReduction} from '../../src/kernels/wasm/training_simd_channels';
import type {TrainingExports} from '../../src/kernels/wasm/training_simd';
import {TRAINING_WASM, TRAINING_WASM_SHARED} from '../../src/kernels/wasm/training_module';
import {instantiateOnHeap} from '../../src/kernels/wasm/wasm_instance';
import {stockCpuKernelsAndRegister, simdKernel} from './simd_harness';
import type {Pad, Shape4} from './simd_harness';
import {cross, expectClose, expectSameSpecials, poison, randomInput, runKernel} from './harness';
import type {RawInput} from './harness';

const SUM = 'Sum';
const MEAN = 'Mean';
const DW_FILTER = 'DepthwiseConv2dNativeBackpropFilter';
const DW_INPUT = 'DepthwiseConv2dNativeBackpropInput';
const CONV_FILTER = 'Conv2DBackpropFilter';
const CONV_INPUT = 'Conv2DBackpropInput';
const stock = stockCpuKernelsAndRegister([DW_FILTER, DW_INPUT, CONV_FILTER, CONV_INPUT, SUM, MEAN]);

const depthwiseInfo = (xShape: number[], filterShape: number[], attrs: tf.NamedAttrMap) =>
  tf.backend_util.computeConv2DInfo(xShape as Shape4, filterShape as Shape4, attrs.strides as number,
      attrs.dilations as number, attrs.pad as Pad, undefined, true);

const simdDwFilter = simdKernel(DW_FILTER, (backend, {x, dy}, attrs) =>
  simdDepthwiseFilterGradient(backend, x, dy, depthwiseInfo(x.shape, attrs.filterShape as number[], attrs)));
const simdDwInput = simdKernel(DW_INPUT, (backend, {dy, filter}, attrs) =>
  simdDepthwiseInputGradient(backend, dy, filter, depthwiseInfo(attrs.inputShape as number[], filter.shape, attrs)));
const simdConvFilter = simdKernel(CONV_FILTER, (backend, {x, dy}, attrs) => simdConvFilterGradient(backend, x, dy,
    tf.backend_util.computeConv2DInfo(x.shape as Shape4, attrs.filterShape as Shape4, attrs.strides as number,
        attrs.dilations as number, attrs.pad as Pad)));
const simdPointwiseInput = simdKernel(CONV_INPUT, (backend, {dy, filter}, attrs) => simdPointwiseInputGradient(backend,
    dy, filter, tf.backend_util.computeConv2DInfo(attrs.inputShape as Shape4, filter.shape as Shape4,
        attrs.strides as number, attrs.dilations as number, attrs.pad as Pad)));

it('instantiates training/*.wat on the wasm backend (Node has WebAssembly SIMD)', () => {
  expect(trainingSimd(tf.findBackend('wasm'))).not.toBeNull();
  expect(trainingSimd(tf.findBackend('cpu'))).toBeNull();
});


describe('instantiation on a heap', () => {
  /** A stand-in for tfjs-backend-wasm's module object over `memory`, with a bump allocator. */
  function fakeBackend(memory: WebAssembly.Memory) {
    let next = 1024;
    return {wasm: {
      HEAPU8: new Uint8Array(memory.buffer), wasmMemory: memory, _free: () => undefined,
      _malloc: (bytes: number) => {
        const at = next;
        next += (bytes + 15) & ~15;
        return at;
      },
    }};
  }
  /** ReLU6's gradient of [-1, 0, 3, 6, 7, NaN] on the module. */
  function clipOnce(exports: TrainingExports, memory: WebAssembly.Memory): number[] {
    const heap = new Float32Array(memory.buffer);
    heap.set([-1, 0, 3, 6, 7, NaN], 0);
    heap.set([1, 2, 3, 4, 5, 6], 16);
    exports.clipGrad(0, 64, 128, 6, 0, 6);
    return Array.from(heap.subarray(32, 38));
  }

  it('takes the shared-memory build for a shared heap (the threaded tfjs-backend-wasm)', () => {
    const memory = new WebAssembly.Memory({initial: 1, maximum: 4, shared: true});
    const exports = instantiateOnHeap<TrainingExports>(fakeBackend(memory), TRAINING_WASM, TRAINING_WASM_SHARED);
    expect(exports).not.toBeNull();
    expect(clipOnce(exports!, memory)).toEqual([0, 2, 3, 4, 0, 0]);
  });

  it('compiles in the background where synchronous compilation is refused (a browser main thread)', async () => {
    const memory = new WebAssembly.Memory({initial: 1});
    const backend = fakeBackend(memory);
    const spy = jest.spyOn(WebAssembly, 'Module').mockImplementation(() => {
      throw new RangeError('WebAssembly.Module(): Buffer size is larger than 4KB');
    });
    try {
      expect(instantiateOnHeap<TrainingExports>(backend, TRAINING_WASM, TRAINING_WASM_SHARED)).toBeNull();
    } finally {
      spy.mockRestore();
    }
    let exports: TrainingExports | null = null;
    for (let i = 0; i < 100 && exports === null; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      exports = instantiateOnHeap<TrainingExports>(backend, TRAINING_WASM, TRAINING_WASM_SHARED);
    }
    expect(exports).not.toBeNull();
    expect(clipOnce(exports!, memory)).toEqual([0, 2, 3, 4, 0, 0]);
  });
});

describe('SIMD depthwise gradients match the stock cpu kernels', () => {
  type Row = [batch: number, channels: number, multiplier: number, stride: number, dilation: number, pad: Pad];
  // Channels 1 and 3 are declined (the JavaScript math runs them): see the registered kernels below.
  const table = cross([1, 3], [4, 5, 16, 33], [1, 2], [1, 2], [1, 2], ['same', 'valid'] as Pad[]) as Row[];

  function depthwiseCase(batch: number, channels: number, multiplier: number, stride: number, dilation: number, pad: Pad) {
    // Strides and dilations together are not a convolution tfjs accepts.
    const s = dilation > 1 ? 1 : stride;
    const x = randomInput([batch, 9, 7, channels], 61 + channels);
    const filter = randomInput([3, 2, channels, multiplier], 62);
    const attrs = {strides: s, pad, dilations: dilation};
    const dy = randomInput(depthwiseInfo(x.shape, filter.shape, attrs).outShape, 63);
    return {x, filter, dy, attrs};
  }

  it.each(table)('batch %d, %d channels x %d, stride %d, dilation %d, %s padding',
      (batch, channels, multiplier, stride, dilation, pad) => {
        const {x, filter, dy, attrs} = depthwiseCase(batch, channels, multiplier, stride, dilation, pad);
        // Stock cpu ignores dilations: the registered cpu kernels (double-precision JavaScript) are the reference then.
        const reference = (name: string) => (dilation > 1 ? tf.getKernel(name, 'cpu') : stock[name]);
        const filterAttrs = {...attrs, filterShape: filter.shape};
        const inputAttrs = {...attrs, inputShape: x.shape};
        expectClose(runKernel(simdDwFilter, 'wasm', {x, dy}, filterAttrs),
            runKernel(reference(DW_FILTER), 'cpu', {x, dy}, filterAttrs));
        expectClose(runKernel(simdDwInput, 'wasm', {dy, filter}, inputAttrs),
            runKernel(reference(DW_INPUT), 'cpu', {dy, filter}, inputAttrs));
      });

  it('declines fewer than 4 channels, and the registered wasm kernels then match stock through JavaScript', () => {
    const {x, filter, dy, attrs} = depthwiseCase(2, 3, 2, 2, 1, 'same');
    expect(() => runKernel(simdDwFilter, 'wasm', {x, dy}, {...attrs, filterShape: filter.shape})).toThrow(/declined/);
    for (const channels of [1, 3]) {
      const c = depthwiseCase(3, channels, 1, 1, 1, 'same');
      expectClose(runKernel(tf.getKernel(DW_FILTER, 'wasm'), 'wasm', {x: c.x, dy: c.dy}, {...c.attrs, filterShape: c.filter.shape}),
          runKernel(stock[DW_FILTER], 'cpu', {x: c.x, dy: c.dy}, {...c.attrs, filterShape: c.filter.shape}));
      expectClose(runKernel(tf.getKernel(DW_INPUT, 'wasm'), 'wasm', {dy: c.dy, filter: c.filter}, {...c.attrs, inputShape: c.x.shape}),
          runKernel(stock[DW_INPUT], 'cpu', {dy: c.dy, filter: c.filter}, {...c.attrs, inputShape: c.x.shape}));
    }
  });

  it('keeps accuracy over long sums (a MobileNetV2 layer: 3 x 32 x 32 pixels per filter entry)', () => {
    const x = randomInput([3, 32, 32, 16], 64);
    const dy = randomInput([3, 32, 32, 16], 65);
    const attrs = {strides: 1, pad: 'same', dilations: 1, filterShape: [3, 3, 16, 1]};
    // The registered cpu kernel sums in double precision like stock, and much faster.
    expectClose(runKernel(simdDwFilter, 'wasm', {x, dy}, attrs), runKernel(tf.getKernel(DW_FILTER, 'cpu'), 'cpu', {x, dy}, attrs), 2e-6);
  });
});

describe('the SIMD convolution filter gradient matches the stock cpu kernel', () => {
  type Row = [batch: number, channels: [number, number], filter: [number, number], stride: number, pad: Pad];
  // [inChannels, outChannels]; the stock kernel is slow on wide ones: [16, 33] with one image only.
  const channels: [number, number][] = [[1, 4], [3, 5], [4, 16], [5, 33], [16, 4], [33, 5]];
  const table = [
    ...cross([1, 3], channels, [[1, 1], [3, 3], [2, 3]] as [number, number][], [1, 2], ['same', 'valid'] as Pad[]),
    ...cross([1], [[16, 33]], [[1, 1], [3, 3]] as [number, number][], [1, 2], ['same', 'valid'] as Pad[]),
  ] as Row[];

  it.each(table)('batch %d, %j channels, filter %j, stride %d, %s padding', (batch, [ci, co], [fh, fw], stride, pad) => {
    const x = randomInput([batch, 9, 7, ci], 71);
    const attrs = {strides: stride, pad, dataFormat: 'NHWC', dilations: 1, filterShape: [fh, fw, ci, co]};
    const info = tf.backend_util.computeConv2DInfo(x.shape as Shape4, [fh, fw, ci, co], stride, 1, pad);
    const dy = randomInput(info.outShape, 72);
    expectClose(runKernel(simdConvFilter, 'wasm', {x, dy}, attrs), runKernel(stock[CONV_FILTER], 'cpu', {x, dy}, attrs));
  });

  it('declines fewer than 4 output channels', () => {
    const x = randomInput([1, 5, 5, 4], 73);
    const dy = randomInput([1, 5, 5, 3], 74);
    const attrs = {strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1, filterShape: [1, 1, 4, 3]};
    expect(() => runKernel(simdConvFilter, 'wasm', {x, dy}, attrs)).toThrow(/declined/);
  });

  it('keeps accuracy over long sums (a 1x1 convolution over 3 x 32 x 32 pixels)', () => {
    const x = randomInput([3, 32, 32, 16], 75);
    const dy = randomInput([3, 32, 32, 24], 76);
    const attrs = {strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: 1, filterShape: [1, 1, 16, 24]};
    expectClose(runKernel(simdConvFilter, 'wasm', {x, dy}, attrs), runKernel(stock[CONV_FILTER], 'cpu', {x, dy}, attrs), 2e-6);
  });
});

describe('the SIMD input gradient of a 1x1 convolution matches the stock cpu kernel', () => {
  type Row = [batch: number, channels: [number, number], pad: Pad];
  // [inChannels, outChannels]: inChannels is the width of the product (at least 4), outChannels its depth.
  const channels: [number, number][] = [[4, 1], [5, 3], [16, 4], [33, 5], [4, 16], [5, 33], [16, 33], [24, 144]];
  const table = cross([1, 3], channels, ['same', 'valid'] as Pad[]) as Row[];

  const pointwiseCase = (batch: number, [ci, co]: [number, number], pad: Pad) => ({
    dy: randomInput([batch, 9, 7, co], 91),
    filter: randomInput([1, 1, ci, co], 92),
    attrs: {strides: 1, pad, dataFormat: 'NHWC', dilations: 1, inputShape: [batch, 9, 7, ci]},
  });

  it.each(table)('batch %d, %j channels, %s padding', (batch, pair, pad) => {
    const {dy, filter, attrs} = pointwiseCase(batch, pair, pad);
    const expected = runKernel(stock[CONV_INPUT], 'cpu', {dy, filter}, attrs);
    expectClose(runKernel(simdPointwiseInput, 'wasm', {dy, filter}, attrs), expected);
    // The registered wasm kernel, which picks this path for dense dy.
    expectClose(runKernel(tf.getKernel(CONV_INPUT, 'wasm'), 'wasm', {dy, filter}, attrs), expected);
  });

  it('declines other geometries and fewer than 4 input channels', () => {
    const {dy, filter, attrs} = pointwiseCase(1, [3, 8], 'same');
    expect(() => runKernel(simdPointwiseInput, 'wasm', {dy, filter}, attrs)).toThrow(/declined/);
    const strided = {...pointwiseCase(1, [8, 8], 'same'), dy: randomInput([1, 5, 4, 8], 93)};
    expect(() => runKernel(simdPointwiseInput, 'wasm', {dy: strided.dy, filter: strided.filter}, {...strided.attrs, strides: 2}))
        .toThrow(/declined/);
  });
});

describe('SIMD per-channel sums and means match the stock cpu kernels', () => {
  const reduction = (mean: boolean) => simdKernel(mean ? MEAN : SUM, (backend, {x}, attrs) =>
    simdChannelReduction(backend, x, attrs.axis as number[], attrs.keepDims as boolean, mean));
  const shapes = [[1, 4], [7, 8], [3, 5, 2, 32], [2, 9, 7, 36]];
  it.each(cross(shapes, [false, true], [false, true]))('x %j, keepDims %s, mean %s', (shape, keepDims, mean) => {
    const x = randomInput(shape, 101);
    const attrs = {axis: shape.slice(0, -1).map((_, i) => i), keepDims};
    const expected = runKernel(stock[mean ? MEAN : SUM], 'cpu', {x}, attrs);
    expectClose(runKernel(reduction(mean), 'wasm', {x}, attrs), expected);
    expectClose(runKernel(tf.getKernel(mean ? MEAN : SUM, 'wasm'), 'wasm', {x}, attrs), expected);
  });

  it('sums in double precision over many rows, and declines what it does not cover', () => {
    const x = randomInput([250, 26, 26, 4], 102);
    const attrs = {axis: [0, 1, 2], keepDims: false};
    expectClose(runKernel(reduction(false), 'wasm', {x}, attrs), runKernel(stock[SUM], 'cpu', {x}, attrs), 1e-7);
    expect(() => runKernel(reduction(false), 'wasm', {x: randomInput([5, 3], 103)}, {axis: [0], keepDims: false})).toThrow(/declined/);
    expect(() => runKernel(reduction(true), 'wasm', {x}, {axis: [1, 2], keepDims: false})).toThrow(/declined/);
  });
});

describe('the SIMD BatchNormalization gradient matches the JavaScript one', () => {
  const simdBatchNorm: tf.KernelConfig = {
    kernelName: 'TfmotBatchNormGrad', backendName: 'wasm',
    kernelFunc: ({inputs, backend, attrs}) => {
      const out = simdBatchNormGradient(backend, inputs as never, (attrs as {varianceEpsilon: number}).varianceEpsilon);
      if (out === null) throw new Error('the SIMD kernel declined');
      return out;
    },
  };
  /** Runs a multi-output kernel on wasm, returns copies of its outputs and frees everything. */
  function runMulti(inputs: Record<string, RawInput>, attrs: tf.NamedAttrMap): Float32Array[] {
    const backend = tf.findBackend('wasm') as unknown as {
      write(v: Float32Array, s: number[], d: string): object; readSync(d: object): Float32Array;
      disposeData(d: object, force?: boolean): boolean; numDataIds(): number;
    };
    const before = backend.numDataIds();
    const infos = Object.fromEntries(Object.entries(inputs).map(([name, input]) =>
      [name, {dataId: backend.write(Float32Array.from(input.values), input.shape, 'float32'), shape: input.shape, dtype: 'float32'}]));
    const outs = simdBatchNorm.kernelFunc({inputs: infos as never, backend: backend as never, attrs}) as tf.TensorInfo[];
    const values = outs.map((info) => Float32Array.from(backend.readSync(info.dataId)));
    for (const info of [...outs, ...Object.values(infos)]) backend.disposeData(info.dataId, true);
    expect(backend.numDataIds()).toBe(before);
    return values;
  }

  it.each(cross([[5, 4], [3, 4, 5, 16], [2, 9, 7, 36], [1, 1, 1, 64]], [true, false]))(
      'x %j, with scale %s: dx bit-identical, the rest close', (shape, withScale) => {
        const channels = shape[shape.length - 1];
        const inputs: Record<string, RawInput> = {
          x: randomInput(shape, 111), dy: randomInput(shape, 112),
          mean: {values: randomInput([channels], 113).values.map((v) => v / 4), shape: [channels]},
          variance: {values: randomInput([channels], 114).values.map((v) => 0.5 + v / 4), shape: [channels]},
        };
        if (withScale) inputs.scale = {values: randomInput([channels], 115).values.map((v) => 1 + v / 2), shape: [channels]};
        const epsilon = 0.001;
        const actual = runMulti(inputs, {varianceEpsilon: epsilon});
        const size = inputs.x.values.length;
        const expected = [size, channels, channels, channels, channels].map((n) => new Float32Array(n));
        batchNormGradient(inputs.x.values as Float32Array, inputs.dy.values as Float32Array, inputs.mean.values as Float32Array,
            inputs.variance.values as Float32Array, withScale ? inputs.scale.values as Float32Array : null, epsilon, channels,
            expected[0], expected[1], expected[2], expected[3], expected[4]);
        expect(Array.from(actual[0])).toEqual(Array.from(expected[0]));
        actual.slice(1).forEach((values, i) => expectClose(
            {values, shape: [channels], dtype: 'float32'}, {values: expected[i + 1], shape: [channels], dtype: 'float32'}, 1e-6));
      });

  it('declines channel counts that are not a multiple of 4', () => {
    const inputs = {
      x: randomInput([2, 3], 116), dy: randomInput([2, 3], 117),
      mean: randomInput([3], 118), variance: {values: Float32Array.of(1, 1, 1), shape: [3]},
    };
    expect(() => runMulti(inputs, {varianceEpsilon: 0.001})).toThrow(/declined/);
  });
});

describe('NaN and infinities propagate as in the stock kernels', () => {

  it.each([NaN, Infinity])('depthwise gradients with %p in x, dy and the filter', (value) => {
    const x = poison(randomInput([2, 6, 5, 5], 81), [3, 17, 140], value);
    const filter = poison(randomInput([3, 3, 5, 1], 82), [7], value);
    const attrs = {strides: 1, pad: 'same', dilations: 1};
    const dy = poison(randomInput([2, 6, 5, 5], 83), [0, 99], value);
    const filterAttrs = {...attrs, filterShape: filter.shape};
    const inputAttrs = {...attrs, inputShape: x.shape};
    expectSameSpecials(runKernel(simdDwFilter, 'wasm', {x, dy}, filterAttrs), runKernel(stock[DW_FILTER], 'cpu', {x, dy}, filterAttrs));
    expectSameSpecials(runKernel(simdDwInput, 'wasm', {dy, filter}, inputAttrs),
        runKernel(stock[DW_INPUT], 'cpu', {dy, filter}, inputAttrs));
  });

  it.each([NaN, Infinity])('the 1x1 convolution input gradient with %p in dy and the filter', (value) => {
    const dy = poison(randomInput([2, 6, 5, 9], 94), [4, 200], value);
    const filter = poison(randomInput([1, 1, 6, 9], 95), [30], value);
    const attrs = {strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: 1, inputShape: [2, 6, 5, 6]};
    expectSameSpecials(runKernel(simdPointwiseInput, 'wasm', {dy, filter}, attrs),
        runKernel(stock[CONV_INPUT], 'cpu', {dy, filter}, attrs));
  });

  it.each([NaN, Infinity])('the convolution filter gradient with %p in x and dy', (value) => {
    const x = poison(randomInput([2, 6, 5, 6], 84), [5, 77], value);
    const dy = poison(randomInput([2, 6, 5, 9], 85), [40], value);
    for (const filterShape of [[1, 1, 6, 9], [3, 3, 6, 9]]) {
      const attrs = {strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1, filterShape};
      expectSameSpecials(runKernel(simdConvFilter, 'wasm', {x, dy}, attrs), runKernel(stock[CONV_FILTER], 'cpu', {x, dy}, attrs));
    }
  });
});
