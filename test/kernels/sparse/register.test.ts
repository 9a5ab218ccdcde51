// registerSparseKernels / unregisterSparseKernels: what they register,
// idempotence, exact undo, composition with registerTrainingKernels in
// either order, and option validation.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';

import {registerTrainingKernels, unregisterTrainingKernels} from '../../../src/kernels';
import {registerSparseKernels, unregisterSparseKernels} from '../../../src/kernels/sparse';
import {uniform} from '../harness';
import {sparseRunCount, sparseValues, values} from './helpers';

const NAMES = ['BatchMatMul', 'Conv2D', 'FusedConv2D', '_FusedMatMul'];
const ALL = ['cpu', 'wasm'].flatMap((backend) => NAMES.map((name) => `${backend}/${name}`)).sort();

type Registry = Map<string, tf.KernelConfig>;

function registry(): Registry {
  const map: Registry = new Map();
  for (const backendName of ['cpu', 'wasm']) {
    for (const config of tf.getKernelsForBackend(backendName)) map.set(`${backendName}/${config.kernelName}`, config);
  }
  return map;
}

function changed(before: Registry, after: Registry): string[] {
  const keys = new Set([...before.keys(), ...after.keys()]);
  return [...keys].filter((key) => before.get(key) !== after.get(key)).sort();
}

/** Same config objects, key by key. */
function expectIdentical(a: Registry, b: Registry): void {
  expect(changed(a, b)).toEqual([]);
}

let stock: Registry;

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.setBackend('cpu');
  stock = registry();
});

afterEach(() => {
  unregisterSparseKernels();
  unregisterTrainingKernels();
});

/** A 90% sparse product run twice on cpu: the sparse runs of the second call. */
function sparseRunsOfProduct(): number {
  const a = tf.tensor2d(uniform(2 * 128, 1), [2, 128]);
  const w = tf.tensor2d(sparseValues(128, 32, 0.9, 'unstructured', 2), [128, 32]);
  values(() => tf.matMul(a, w));
  const before = sparseRunCount('cpu');
  values(() => tf.matMul(a, w));
  tf.dispose([a, w]);
  return sparseRunCount('cpu') - before;
}

describe('registerSparseKernels', () => {
  it('returns the backends it acted on and replaces exactly the four product kernels', () => {
    expect(registerSparseKernels()).toEqual(['wasm', 'cpu']);
    expect(changed(stock, registry())).toEqual(ALL);
  });

  it('registers once when called twice, and one undo restores the stock kernels', () => {
    registerSparseKernels();
    const first = registry();
    registerSparseKernels();
    expectIdentical(first, registry());
    unregisterSparseKernels();
    expectIdentical(stock, registry());
  });

  it('acts only on the backends asked for', () => {
    expect(registerSparseKernels({backends: ['cpu']})).toEqual(['cpu']);
    expect(changed(stock, registry())).toEqual(NAMES.map((name) => `cpu/${name}`).sort());
  });

  it('keeps the setup and dispose functions of the kernels it replaces', () => {
    registerSparseKernels();
    for (const name of NAMES) {
      const before = stock.get(`wasm/${name}`) as tf.KernelConfig;
      expect(tf.getKernel(name, 'wasm').setupFunc).toBe(before.setupFunc);
      expect(tf.getKernel(name, 'wasm').disposeFunc).toBe(before.disposeFunc);
    }
  });
});

describe('unregisterSparseKernels', () => {
  it('restores the stock kernels exactly: the same config objects', () => {
    registerSparseKernels();
    expect(unregisterSparseKernels()).toEqual(['wasm', 'cpu']);
    expectIdentical(stock, registry());
  });

  it('does nothing when nothing is registered', () => {
    expect(unregisterSparseKernels()).toEqual(['wasm', 'cpu']);
    expectIdentical(stock, registry());
  });

  it('leaves alone a kernel that something else replaced in the meantime', () => {
    registerSparseKernels({backends: ['cpu']});
    const theirs: tf.KernelConfig = {kernelName: 'Conv2D', backendName: 'cpu', kernelFunc: () => ({dataId: {}, shape: [], dtype: 'float32'})};
    tf.unregisterKernel('Conv2D', 'cpu');
    tf.registerKernel(theirs);
    unregisterSparseKernels();
    expect(tf.getKernel('Conv2D', 'cpu')).toBe(theirs);
    tf.unregisterKernel('Conv2D', 'cpu');
    tf.registerKernel(stock.get('cpu/Conv2D') as tf.KernelConfig);
  });
});

describe('with registerTrainingKernels', () => {
  const orders: [string, () => void, () => void][] = [
    ['sparse first', () => registerSparseKernels(), () => registerTrainingKernels()],
    ['training first', () => registerTrainingKernels(), () => registerSparseKernels()],
  ];

  it.each(orders)('%s: both are idempotent, and undoing both in either order restores the stock kernels',
      (_order, first, second) => {
        for (const undoSparseFirst of [true, false]) {
          first();
          second();
          const both = registry();
          first();
          second();
          expectIdentical(both, registry());
          expect(sparseRunsOfProduct()).toBe(1);
          if (undoSparseFirst) unregisterSparseKernels();
          else unregisterTrainingKernels();
          // The remaining layer still works, and the removed one no longer runs.
          expect(sparseRunsOfProduct()).toBe(undoSparseFirst ? 0 : 1);
          if (undoSparseFirst) unregisterTrainingKernels();
          else unregisterSparseKernels();
          expectIdentical(stock, registry());
          expect(sparseRunsOfProduct()).toBe(0);
        }
      });

  it('undoing the training kernels under the sparse ones puts the stock kernel under them', () => {
    registerTrainingKernels();
    registerSparseKernels();
    unregisterTrainingKernels();
    registerSparseKernels();
    unregisterSparseKernels();
    expectIdentical(stock, registry());
  });
});

describe('option validation', () => {
  it.each<[string, unknown, ErrorConstructor, string]>([
    ['a string', 'wasm', TypeError, "registerSparseKernels: 'options' must be an object, but got \"wasm\"."],
    ['an unknown key', {backend: ['wasm']}, TypeError,
      "registerSparseKernels: 'options' may only have the key 'backends', but got the key 'backend'."],
    ['backends as a string', {backends: 'wasm'}, TypeError,
      "registerSparseKernels: 'backends' must be an array of 'wasm' and 'cpu', but got \"wasm\"."],
    ['another backend', {backends: ['cpu', 'webgl']}, RangeError,
      "registerSparseKernels: 'backends' must only contain 'wasm' and 'cpu', but got \"webgl\"."],
  ])('rejects %s', (_title, options, errorClass, message) => {
    const call = () => registerSparseKernels(options as never);
    expect(call).toThrow(errorClass);
    expect(call).toThrow(message);
    expectIdentical(stock, registry());
  });

  it('validates the options of unregisterSparseKernels the same way', () => {
    expect(() => unregisterSparseKernels({backends: ['webgl']} as never)).toThrow(
        "unregisterSparseKernels: 'backends' must only contain 'wasm' and 'cpu', but got \"webgl\".");
  });
});
