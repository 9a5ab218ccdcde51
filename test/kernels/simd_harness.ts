// Shared by the tests that call the SIMD training kernels directly: the stock
// cpu kernels captured before registerTrainingKernels, and a kernel config
// that runs one SIMD function and fails instead of falling back.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';

import {registerTrainingKernels, unregisterTrainingKernels} from '../../src/kernels';

export type Pad = 'same' | 'valid';
export type Shape4 = [number, number, number, number];

/**
 * Registers the training kernels for the test file (undone after it) and
 * returns the stock cpu kernels of `names`, captured before.
 */
export function stockCpuKernelsAndRegister(names: readonly string[]): Record<string, tf.KernelConfig> {
  const stock: Record<string, tf.KernelConfig> = {};
  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.setBackend('cpu');
    for (const name of names) stock[name] = tf.getKernel(name, 'cpu');
    registerTrainingKernels();
  });
  afterAll(() => {
    unregisterTrainingKernels();
  });
  return stock;
}

/** A wasm kernel config that runs one SIMD function, and fails instead of falling back. */
export function simdKernel(
    kernelName: string,
    run: (backend: object, inputs: Record<string, tf.TensorInfo>, attrs: tf.NamedAttrMap) => tf.TensorInfo | null):
    tf.KernelConfig {
  return {
    kernelName, backendName: 'wasm',
    kernelFunc: ({inputs, backend, attrs}) => {
      const out = run(backend, inputs as Record<string, tf.TensorInfo>, attrs as tf.NamedAttrMap);
      if (out === null) throw new Error(`${kernelName}: the SIMD kernel declined`);
      return out;
    },
  };
}
