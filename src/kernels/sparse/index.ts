/**
 * Opt-in sparse inference kernels for tfjs's wasm and cpu backends: pruned
 * Dense layers and 1x1 convolutions run a sparse-times-dense product
 * (XNNPACK's SpMM design, in WebAssembly SIMD on wasm) instead of the dense
 * one, when their weights are sparse enough for it to pay.
 *
 * Porting note: tfmot has no counterpart; TFLite gets this from XNNPACK's
 * sparse inference, which needs no call.
 */
import {findBackendFactory, getKernel, registerKernel, unregisterKernel} from '@tensorflow/tfjs-core';
import type {KernelConfig, KernelFunc, NamedAttrMap, TensorInfo} from '@tensorflow/tfjs-core';

import {resolveKernelBackends} from '../backend_options';
import {clearCpuCaches, runCpuProduct} from './cpu_kernel';
import {chainHas, isSparseConfig, SPARSE, unlinkBuried} from './kernel_chain';
import type {SparseKernelConfig, SparseRecord} from './kernel_chain';
import {readConv1x1, readMatMul} from './product';
import {denseWeights, sizeOf, stockAtSize} from './sparse_cache';
import type {Product} from './product';
import {clearWasmCaches, runWasmProduct} from './wasm_kernel';

/**
 * A backend that {@link registerSparseKernels} can give sparse kernels to.
 *
 * @example
 * ```ts
 * import {registerSparseKernels} from 'tfjs-model-optimization';
 * import type {SparseKernelBackend} from 'tfjs-model-optimization';
 *
 * const backends: SparseKernelBackend[] = ['wasm'];
 * registerSparseKernels({backends});
 * ```
 *
 * @category Sparse kernels
 */
export type SparseKernelBackend = 'wasm' | 'cpu';

/**
 * Options of {@link registerSparseKernels} and {@link unregisterSparseKernels}.
 *
 * @example
 * ```ts
 * import {registerSparseKernels} from 'tfjs-model-optimization';
 * import type {SparseKernelsOptions} from 'tfjs-model-optimization';
 *
 * const options: SparseKernelsOptions = {backends: ['cpu']};
 * registerSparseKernels(options); // leaves the wasm backend's kernels as they are
 * ```
 *
 * @category Sparse kernels
 */
export interface SparseKernelsOptions {
  /**
   * The backends to act on. Default: `['wasm', 'cpu']`. A backend that is not
   * registered with tfjs (its package was never imported) is skipped.
   */
  backends?: SparseKernelBackend[];
}

/** The kernels replaced, and how each reads its call as a product. */
const KERNELS: readonly {kernelName: string; weight: string; activations: string;
  read: (inputs: Record<string, TensorInfo | undefined>, attrs: NamedAttrMap) => Product | null}[] = [
  {kernelName: 'BatchMatMul', weight: 'b', activations: 'a', read: readMatMul},
  {kernelName: '_FusedMatMul', weight: 'b', activations: 'a', read: readMatMul},
  {kernelName: 'Conv2D', weight: 'filter', activations: 'x', read: readConv1x1},
  {kernelName: 'FusedConv2D', weight: 'filter', activations: 'x', read: readConv1x1},
];

const RUN: Record<SparseKernelBackend, (product: Product, backend: object) => TensorInfo | null> = {
  wasm: runWasmProduct,
  cpu: runCpuProduct,
};


const isActiveSparse = (config: KernelConfig) => isSparseConfig(config) && config[SPARSE].active;

function install(kernel: (typeof KERNELS)[number], backendName: SparseKernelBackend): void {
  const current = getKernel(kernel.kernelName, backendName);
  if (chainHas(current, isActiveSparse)) return;
  const record: SparseRecord = {replaced: current, active: true};
  const run = RUN[backendName];
  const kernelFunc: KernelFunc = (args) => {
    const inputs = args.inputs as Record<string, TensorInfo | undefined>;
    const weight = inputs[kernel.weight];
    const activations = inputs[kernel.activations];
    // Weights too dense for any call, and calls the cost model gave to the stock kernel before, go
    // straight to it.
    if (record.active && weight != null && activations != null && !denseWeights.has(weight.dataId) &&
        stockAtSize.get(weight.dataId) !== sizeOf(activations)) {
      const product = kernel.read(args.inputs as Record<string, TensorInfo | undefined>, args.attrs ?? {});
      const result = product === null ? null : run(product, args.backend);
      if (result !== null) return result;
    }
    const replaced = record.replaced;
    if (replaced == null) {
      throw new Error(`The sparse ${kernel.kernelName} kernel of the ${backendName} backend has no dense kernel ` +
          `to run this call on.`);
    }
    return replaced.kernelFunc(args);
  };
  const config: SparseKernelConfig = {kernelName: kernel.kernelName, backendName, kernelFunc, [SPARSE]: record};
  // The replaced kernel, which ours calls, still needs its setup (wasm binds its function there).
  if (current?.setupFunc != null) config.setupFunc = current.setupFunc;
  if (current?.disposeFunc != null) config.disposeFunc = current.disposeFunc;
  if (current != null) unregisterKernel(kernel.kernelName, backendName);
  registerKernel(config);
}

function uninstall(kernelName: string, backendName: SparseKernelBackend): void {
  const current = getKernel(kernelName, backendName);
  if (isSparseConfig(current)) {
    unregisterKernel(kernelName, backendName);
    current[SPARSE].active = false;
    if (current[SPARSE].replaced != null) registerKernel(current[SPARSE].replaced);
    return;
  }
  // Under registerTrainingKernels' layer (registered after ours): unlink ours from below it.
  unlinkBuried(current, isActiveSparse);
}

/**
 * Makes pruned models faster at inference: on the wasm and cpu backends,
 * MatMul (BatchMatMul), _FusedMatMul (Dense layers), Conv2D and FusedConv2D
 * with 1x1 filters (pointwise convolutions, MobileNet's bulk) run a
 * sparse-times-dense product when their weight is sparse enough, and the
 * stock kernel otherwise. An explicit opt-in: it changes tfjs's global
 * kernel registry, for every model in the process.
 *
 * A weight is recognized as static when the same tensor data reaches a
 * kernel a second time (the first prediction runs dense); its zeros are then
 * counted once, and its sparse form (the nonzeros per output channel, and
 * per block of 4 output channels where the zeros come in [1, 4] blocks) is
 * kept until the tensor is disposed. Each call then runs sparse only where
 * the measured cost model says it is clearly faster for that many rows (on
 * wasm, from about 70% sparsity at batch 1 and about 60% from 16 rows on,
 * earlier for [1, 4] blocks; see docs/sparse-kernels.md), so registering
 * never makes a model slower. Calls whose activations hold NaN or infinities run on the stock
 * kernel, so results are the stock kernel's to float32 rounding, NaN and
 * infinities included; every fused bias and activation is supported.
 *
 * Idempotent; undo with {@link unregisterSparseKernels}. Composes with
 * {@link registerTrainingKernels} in either order.
 *
 * @param options Which backends to act on (default: both).
 * @returns The backends that have the sparse kernels after the call: those
 *   asked for that are registered with tfjs.
 * @throws TypeError when `options` is not an object, has a key other than
 *   `backends`, or `backends` is not an array of strings; RangeError when
 *   `backends` names a backend other than `'wasm'` and `'cpu'`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-wasm';
 * import {registerSparseKernels} from 'tfjs-model-optimization';
 *
 * registerSparseKernels(); // ['wasm'] when only the wasm backend was imported
 * await tf.setBackend('wasm');
 * // A 1600 -> 256 Dense kernel with 90% zeros, as pruning leaves it.
 * const kernel = tf.tidy(() =>
 *   tf.mul(tf.randomNormal([1600, 256]), tf.step(tf.sub(tf.randomUniform([1600, 256]), 0.9))));
 * const x = tf.randomNormal([1, 1600]);
 * tf.matMul(x, kernel).dispose(); // first sighting of the kernel: the stock kernel runs
 * const y = tf.matMul(x, kernel); // the sparse kernel, about 3x faster
 * console.log(y.shape); // [1, 256]
 * ```
 *
 * @category Sparse kernels
 */
export function registerSparseKernels(options?: SparseKernelsOptions): SparseKernelBackend[] {
  const backends = resolveKernelBackends('registerSparseKernels', options);
  const registered: SparseKernelBackend[] = [];
  for (const backendName of backends) {
    if (findBackendFactory(backendName) == null) continue;
    for (const kernel of KERNELS) install(kernel, backendName);
    registered.push(backendName);
  }
  return registered;
}

/**
 * Undoes {@link registerSparseKernels}: removes the sparse kernels, registers
 * again, as the very same config objects, the kernels they replaced, and
 * frees every sparse form kept. Calling it when nothing is registered does
 * nothing.
 *
 * @param options Which backends to act on (default: both).
 * @returns The backends acted on: those asked for that are registered with tfjs.
 * @throws TypeError or RangeError for invalid options, as {@link registerSparseKernels}.
 *
 * @example
 * ```ts
 * import '@tensorflow/tfjs-backend-cpu';
 * import {registerSparseKernels, unregisterSparseKernels} from 'tfjs-model-optimization';
 *
 * registerSparseKernels({backends: ['cpu']});
 * // ... predict ...
 * unregisterSparseKernels(); // ['cpu']: the stock cpu kernels are back
 * ```
 *
 * @category Sparse kernels
 */
export function unregisterSparseKernels(options?: SparseKernelsOptions): SparseKernelBackend[] {
  const backends = resolveKernelBackends('unregisterSparseKernels', options);
  const restored: SparseKernelBackend[] = [];
  for (const backendName of backends) {
    if (findBackendFactory(backendName) == null) continue;
    for (const {kernelName} of KERNELS) uninstall(kernelName, backendName);
    if (backendName === 'wasm') clearWasmCaches();
    else clearCpuCaches();
    restored.push(backendName);
  }
  return restored;
}
