// registerTrainingKernels / unregisterTrainingKernels: what they register,
// idempotence, exact undo, and option validation.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
// tfjs-core's Node bundle registers no gradients; tfjs-layers' does.
import '@tensorflow/tfjs-layers';

import {registerTrainingKernels, unregisterTrainingKernels} from '../../src/kernels';

// The kernels each backend gets; a change here must be deliberate.
const KERNELS: Record<'cpu' | 'wasm', string[]> = {
  cpu: [
    'Add', 'AvgPoolGrad', 'BatchMatMul', 'Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput',
    'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'Floor', 'FusedConv2D', 'GatherV2', 'MaxPoolGrad', 'Mean',
    'Multiply', 'RealDiv', 'Relu', 'Sqrt', 'Step', 'Sub', 'Sum', 'TfmotBatchNormGrad', 'TfmotClipByValueGrad', 'TfmotMeanGrad', 'UnsortedSegmentSum', '_FusedMatMul',
  ],
  wasm: [
    'AvgPoolGrad', 'BatchMatMul', 'Cast', 'Conv2DBackpropFilter', 'Conv2DBackpropInput', 'DepthwiseConv2dNativeBackpropFilter',
    'DepthwiseConv2dNativeBackpropInput', 'FusedBatchNorm', 'GatherV2', 'Identity', 'MaxPoolGrad', 'Mean', 'Sum', 'TfmotBatchNormGrad', 'TfmotClipByValueGrad', 'TfmotMeanGrad', 'UnsortedSegmentSum',
  ],
};
// The kernels stock tfjs-backend-wasm 4.22 lacks.
const MISSING_ON_WASM = [
  'Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'UnsortedSegmentSum',
];

type Registry = Map<string, tf.KernelConfig>;

/** Every kernel registered for cpu and wasm, by `backend/name`. */
function registry(): Registry {
  const map: Registry = new Map();
  for (const backendName of ['cpu', 'wasm']) {
    for (const config of tf.getKernelsForBackend(backendName)) map.set(`${backendName}/${config.kernelName}`, config);
  }
  return map;
}

/** The `backend/name` keys whose config differs between two registries. */
function changed(before: Registry, after: Registry): string[] {
  const keys = new Set([...before.keys(), ...after.keys()]);
  return [...keys].filter((key) => before.get(key) !== after.get(key)).sort();
}

const ALL = [...KERNELS.cpu.map((k) => `cpu/${k}`), ...KERNELS.wasm.map((k) => `wasm/${k}`)].sort();

let stock: Registry;

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.setBackend('cpu');
  stock = registry();
});

afterEach(() => {
  unregisterTrainingKernels();
});

describe('registerTrainingKernels', () => {
  it('returns the backends it acted on and changes exactly the listed kernels', () => {
    expect(registerTrainingKernels()).toEqual(['wasm', 'cpu']);
    expect(changed(stock, registry())).toEqual(ALL);
  });

  it('adds the kernels that stock wasm lacks', () => {
    for (const name of MISSING_ON_WASM) expect(stock.get(`wasm/${name}`)).toBeUndefined();
    registerTrainingKernels();
    for (const name of MISSING_ON_WASM) expect(tf.getKernel(name, 'wasm')).toBeDefined();
  });

  it('registers once when called twice', () => {
    registerTrainingKernels();
    const first = registry();
    expect(registerTrainingKernels()).toEqual(['wasm', 'cpu']);
    expect(changed(first, registry())).toEqual([]);
    // One undo is enough: the second call did not stack kernels on the first ones.
    unregisterTrainingKernels();
    expect(changed(stock, registry())).toEqual([]);
  });

  it('acts only on the backends asked for', () => {
    expect(registerTrainingKernels({backends: ['cpu']})).toEqual(['cpu']);
    expect(changed(stock, registry())).toEqual(KERNELS.cpu.map((k) => `cpu/${k}`).sort());
    expect(registerTrainingKernels({backends: []})).toEqual([]);
  });

  it('keeps the setup and dispose functions of the kernels it replaces', () => {
    // wasm binds each kernel's WebAssembly function in its setupFunc, which the
    // backend runs on initialization: a replaced kernel that ours calls needs it.
    registerTrainingKernels();
    const stockMatMul = stock.get('wasm/BatchMatMul') as tf.KernelConfig;
    expect(stockMatMul.setupFunc).toBeDefined();
    expect(tf.getKernel('BatchMatMul', 'wasm').setupFunc).toBe(stockMatMul.setupFunc);
    expect(tf.getKernel('BatchMatMul', 'wasm').disposeFunc).toBe(stockMatMul.disposeFunc);
  });

  it('trains a convolution on wasm, which stock tfjs cannot', async () => {
    await tf.setBackend('wasm');
    try {
      const x = tf.ones([1, 4, 4, 1]);
      const filter = tf.variable(tf.ones([2, 2, 1, 1]));
      const loss = () => tf.sum(tf.conv2d(x as tf.Tensor4D, filter as tf.Variable<tf.Rank.R4>, 1, 'valid')) as tf.Scalar;
      expect(() => tf.variableGrads(loss)).toThrow("Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'");
      registerTrainingKernels();
      const {value, grads} = tf.variableGrads(loss);
      expect(Array.from(grads[filter.name].dataSync())).toEqual([9, 9, 9, 9]);
      tf.dispose([x, filter, value, grads]);
    } finally {
      await tf.setBackend('cpu');
    }
  });
});

describe('unregisterTrainingKernels', () => {
  it('restores the stock kernels exactly: the same config and kernelFunc objects', () => {
    registerTrainingKernels();
    expect(unregisterTrainingKernels()).toEqual(['wasm', 'cpu']);
    const restored = registry();
    expect(changed(stock, restored)).toEqual([]);
    for (const key of ALL) {
      expect(restored.get(key)).toBe(stock.get(key));
      expect(restored.get(key)?.kernelFunc).toBe(stock.get(key)?.kernelFunc);
    }
  });

  it('removes the kernels that the backend never had', () => {
    registerTrainingKernels();
    unregisterTrainingKernels();
    for (const name of MISSING_ON_WASM) expect(tf.getKernel(name, 'wasm')).toBeUndefined();
  });

  it('does nothing when nothing is registered', () => {
    expect(unregisterTrainingKernels()).toEqual(['wasm', 'cpu']);
    expect(changed(stock, registry())).toEqual([]);
  });

  it('undoes one backend at a time', () => {
    registerTrainingKernels();
    unregisterTrainingKernels({backends: ['wasm']});
    expect(changed(stock, registry())).toEqual(KERNELS.cpu.map((k) => `cpu/${k}`).sort());
  });

  it('leaves alone a kernel that something else replaced in the meantime', () => {
    registerTrainingKernels();
    const theirs: tf.KernelConfig = {kernelName: 'Conv2D', backendName: 'cpu', kernelFunc: () => ({dataId: {}, shape: [], dtype: 'float32'})};
    tf.unregisterKernel('Conv2D', 'cpu');
    tf.registerKernel(theirs);
    unregisterTrainingKernels();
    expect(tf.getKernel('Conv2D', 'cpu')).toBe(theirs);
    expect(changed(stock, registry())).toEqual(['cpu/Conv2D']);
    tf.unregisterKernel('Conv2D', 'cpu');
    tf.registerKernel(stock.get('cpu/Conv2D') as tf.KernelConfig);
  });
});

describe('option validation', () => {
  it.each<[string, unknown, ErrorConstructor, string]>([
    ['a string', 'wasm', TypeError, "registerTrainingKernels: 'options' must be an object, but got \"wasm\"."],
    ['null', null, TypeError, "registerTrainingKernels: 'options' must be an object, but got null."],
    ['an unknown key', {backend: ['wasm']}, TypeError,
      "registerTrainingKernels: 'options' may only have the key 'backends', but got the key 'backend'."],
    ['backends as a string', {backends: 'wasm'}, TypeError,
      "registerTrainingKernels: 'backends' must be an array of 'wasm' and 'cpu', but got \"wasm\"."],
    ['another backend', {backends: ['cpu', 'webgl']}, RangeError,
      "registerTrainingKernels: 'backends' must only contain 'wasm' and 'cpu', but got \"webgl\"."],
    ['a number in backends', {backends: [1]}, TypeError,
      "registerTrainingKernels: 'backends' must only contain 'wasm' and 'cpu', but got 1."],
  ])('rejects %s', (_title, options, errorClass, message) => {
    const call = () => registerTrainingKernels(options as never);
    expect(call).toThrow(errorClass);
    expect(call).toThrow(message);
    expect(changed(stock, registry())).toEqual([]);
  });

  it('validates the options of unregisterTrainingKernels the same way', () => {
    expect(() => unregisterTrainingKernels({backends: ['webgl']} as never)).toThrow(
        "unregisterTrainingKernels: 'backends' must only contain 'wasm' and 'cpu', but got \"webgl\".");
  });

  it('does not change the options object it is given', () => {
    const options = {backends: ['cpu', 'wasm'] as ('cpu' | 'wasm')[]};
    registerTrainingKernels(options);
    expect(options).toEqual({backends: ['cpu', 'wasm']});
  });
});
