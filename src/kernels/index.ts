/**
 * Opt-in training kernels for tfjs's wasm and cpu backends. Stock tfjs 4.22
 * cannot train convolutions, depthwise convolutions or embeddings on wasm
 * (their gradient kernels are missing) and trains them very slowly on cpu
 * (the seed CNN: about 111 s per batch of 250). `registerTrainingKernels`
 * adds or replaces those kernels in tfjs's global kernel registry;
 * `unregisterTrainingKernels` puts the previous ones back.
 *
 * Porting note: tfmot has no counterpart; TensorFlow's own kernels are native.
 */
import {findBackendFactory, getKernel, registerKernel, unregisterKernel} from '@tensorflow/tfjs-core';
import type {KernelConfig} from '@tensorflow/tfjs-core';

import {resolveKernelBackends} from './backend_options';
import {installChainedMethods, uninstallChainedMethods} from './chained_methods';
import type {KernelBuilder} from './kernel_util';
import {TRAINING_KERNELS} from './register_all_kernels';
import {chainHas, insertUnderSparse, unlinkBuried} from './sparse/kernel_chain';
import {installTrainingGradients, uninstallTrainingGradients} from './training_gradients';

/**
 * A backend that {@link registerTrainingKernels} can give training kernels to:
 * tfjs's `'wasm'` or `'cpu'` backend. Other backends (webgl, webgpu,
 * tensorflow) are never touched.
 *
 * @example
 * ```ts
 * import {registerTrainingKernels} from 'tfjs-model-optimization';
 * import type {TrainingKernelBackend} from 'tfjs-model-optimization';
 *
 * const backends: TrainingKernelBackend[] = ['wasm'];
 * registerTrainingKernels({backends});
 * ```
 *
 * @category Training kernels
 */
export type TrainingKernelBackend = 'wasm' | 'cpu';

/**
 * Options of {@link registerTrainingKernels} and {@link unregisterTrainingKernels}.
 *
 * @example
 * ```ts
 * import {registerTrainingKernels} from 'tfjs-model-optimization';
 * import type {TrainingKernelsOptions} from 'tfjs-model-optimization';
 *
 * const options: TrainingKernelsOptions = {backends: ['cpu']};
 * registerTrainingKernels(options); // leaves the wasm backend's kernels as they are
 * ```
 *
 * @category Training kernels
 */
export interface TrainingKernelsOptions {
  /**
   * The backends to act on. Default: `['wasm', 'cpu']`. A backend that is not
   * registered with tfjs (its package was never imported) is skipped.
   */
  backends?: TrainingKernelBackend[];
}

/** The kernels (`register_all_kernels.ts`) that have a function for `backendName`. */
function kernelsFor(backendName: TrainingKernelBackend): Array<{kernelName: string; build: KernelBuilder}> {
  return TRAINING_KERNELS.flatMap((definition) => {
    const build = definition[backendName];
    return build === undefined ? [] : [{kernelName: definition.kernelName, build}];
  });
}
const ALL_BACKENDS: readonly TrainingKernelBackend[] = ['wasm', 'cpu'];

/**
 * Marks a kernel config as one of ours and keeps the config it replaced.
 * `Symbol.for`, so that two copies of this package loaded in one process
 * recognise each other's kernels; the registry itself is the only state.
 */
const INSTALLED = Symbol.for('tfjs-model-optimization.trainingKernel');

interface InstalledKernelConfig extends KernelConfig {
  [INSTALLED]: {replaced: KernelConfig | undefined};
}

function isInstalled(config: KernelConfig | undefined): config is InstalledKernelConfig {
  return config != null && INSTALLED in config;
}


function install(kernel: {kernelName: string; build: KernelBuilder}, backendName: TrainingKernelBackend): void {
  const current = getKernel(kernel.kernelName, backendName);
  // Ours may be under registerSparseKernels' layer.
  if (chainHas(current, isInstalled)) return;
  const make = (replaced: KernelConfig | undefined): InstalledKernelConfig => {
    const config: InstalledKernelConfig = {
      kernelName: kernel.kernelName,
      backendName,
      kernelFunc: kernel.build(replaced?.kernelFunc),
      [INSTALLED]: {replaced},
    };
    // The backend runs these when it initializes (and on every setBackend); the
    // replaced kernel, which ours may call, still needs its setup (wasm binds
    // its WebAssembly function there).
    if (replaced?.setupFunc != null) config.setupFunc = replaced.setupFunc;
    if (replaced?.disposeFunc != null) config.disposeFunc = replaced.disposeFunc;
    return config;
  };
  // registerSparseKernels' layer stays on top, so that sparse weights still run sparse.
  if (insertUnderSparse(current, make)) return;
  const config = make(current);
  if (current != null) unregisterKernel(kernel.kernelName, backendName);
  registerKernel(config);
}

function uninstall(kernel: {kernelName: string}, backendName: TrainingKernelBackend): void {
  const current = getKernel(kernel.kernelName, backendName);
  // Someone else replaced our kernel since: theirs stays (registerSparseKernels' layer unlinks ours from below it).
  if (!isInstalled(current)) {
    unlinkBuried(current, isInstalled);
    return;
  }
  unregisterKernel(kernel.kernelName, backendName);
  const {replaced} = current[INSTALLED];
  if (replaced != null) registerKernel(replaced);
}

/**
 * Adds the gradient kernels that tfjs's wasm backend lacks and replaces the
 * slow kernels of its cpu backend, so that `model.fit` trains every prunable
 * layer on both. An explicit opt-in: it changes tfjs's global kernel
 * registry, for every model in the process.
 *
 * On **wasm** it adds Conv2DBackpropFilter (composed from wasm's own XNNPACK
 * Conv2D), DepthwiseConv2dNativeBackpropFilter and -Input, and
 * UnsortedSegmentSum (the Embedding gradient), none of which stock tfjs 4.22
 * has; it replaces Conv2DBackpropInput (through XNNPACK instead of a scalar
 * loop, 8x faster), BatchMatMul with a transposed operand (10x),
 * MaxPoolGrad, AvgPoolGrad and the bias-gradient Sum. On **cpu** it replaces
 * Conv2D, FusedConv2D, both Conv2D gradients, both depthwise gradients,
 * BatchMatMul, _FusedMatMul, MaxPoolGrad, AvgPoolGrad, UnsortedSegmentSum,
 * the bias-gradient Sum and the element-wise kernels of the optimizers, ReLU
 * and Dropout (Add, Sub, Multiply, RealDiv, Relu, Step, Sqrt, Floor) with
 * typed-array versions. The Conv2D gradients skip the zero entries of dy
 * (about 90% in a CNN with ReLU and max pooling) where that pays. The seed's
 * CNN then trains a batch of 250 in about 0.2 s on wasm and 0.8 s on cpu,
 * where stock tfjs fails and takes about 111 s; see docs/performance.md.
 *
 * On **both** it also replaces, in tfjs-core's gradient registry (shared by
 * all backends), the gradients of FusedBatchNorm (BatchNormalization) and
 * ClipByValue (ReLU6) with ones that run a single kernel
 * (`'TfmotBatchNormGrad'`, `'TfmotClipByValueGrad'`, registered on wasm and
 * cpu) instead of a Tile and full-size products reduced by Sum, or five
 * element-wise kernels; on other backends, and for inputs they do not cover,
 * they call the stock gradient, which {@link unregisterTrainingKernels}
 * registers back as the same object. They cannot themselves be
 * differentiated (no second-order gradients through those two ops). On both
 * it also replaces Mean over every axis but the last (BatchNormalization's
 * `tf.moments` in training), which stock wasm and cpu transpose first.
 *
 * Results match the stock cpu kernels to float32 rounding (many are
 * bit-identical). Cases a new kernel does not cover (NCHW data, int32 data,
 * unusual broadcasts) go to the kernel it replaced. Other backends (webgl,
 * tfjs-node) are never touched, and a backend whose package was not imported
 * is skipped.
 *
 * It also installs, when they are missing, the five chained tensor methods
 * (`flatten`, `stridedSlice`, `sign`, `transpose`, `reshape`) that tfjs-layers'
 * Orthogonal initializer calls: without the umbrella `@tensorflow/tfjs`
 * package, LSTM, GRU and SimpleRNN cannot even be built without them.
 *
 * Idempotent: a second call registers nothing new. Undo with
 * {@link unregisterTrainingKernels} (which removes those methods when called
 * for both backends). Call it after importing the backend
 * packages; before or after `tf.setBackend` makes no difference.
 *
 * @param options Which backends to act on (default: both).
 * @returns The backends that have the training kernels after the call: those
 *   asked for that are registered with tfjs.
 * @throws TypeError when `options` is not an object, has a key other than
 *   `backends`, or `backends` is not an array of strings; RangeError when
 *   `backends` names a backend other than `'wasm'` and `'cpu'`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import * as tfl from '@tensorflow/tfjs-layers';
 * import '@tensorflow/tfjs-backend-wasm';
 * import {registerTrainingKernels} from 'tfjs-model-optimization';
 *
 * registerTrainingKernels(); // ['wasm'] when only the wasm backend was imported
 * await tf.setBackend('wasm');
 * const model = tfl.sequential({layers: [
 *   tfl.layers.conv2d({inputShape: [28, 28, 1], filters: 8, kernelSize: 3}),
 *   tfl.layers.flatten(),
 *   tfl.layers.dense({units: 10, activation: 'softmax'}),
 * ]});
 * model.compile({optimizer: 'adam', loss: 'categoricalCrossentropy'});
 * // Without the call: "Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'".
 * await model.fit(tf.zeros([4, 28, 28, 1]), tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 10));
 * ```
 *
 * @category Training kernels
 */
export function registerTrainingKernels(options?: TrainingKernelsOptions): TrainingKernelBackend[] {
  const backends = resolveKernelBackends('registerTrainingKernels', options);
  installChainedMethods();
  const registered: TrainingKernelBackend[] = [];
  for (const backendName of backends) {
    if (findBackendFactory(backendName) == null) continue;
    for (const kernel of kernelsFor(backendName)) install(kernel, backendName);
    registered.push(backendName);
  }
  // BatchNormalization's and ClipByValue's gradients: gradient configs (one for every backend)
  // that run the kernels above, and hand backends without them to the stock gradients.
  if (registered.length > 0) installTrainingGradients();
  return registered;
}

/**
 * Undoes {@link registerTrainingKernels}: removes the training kernels and
 * registers again, as the very same config objects, the kernels they
 * replaced (a kernel the backend never had is simply removed). A kernel that
 * something else registered over ours in the meantime is left alone.
 * Calling it when nothing is registered does nothing.
 *
 * @param options Which backends to act on (default: both).
 * @returns The backends acted on: those asked for that are registered with tfjs.
 * @throws TypeError or RangeError for invalid options, as {@link registerTrainingKernels}.
 *
 * @example
 * ```ts
 * import '@tensorflow/tfjs-backend-cpu';
 * import {registerTrainingKernels, unregisterTrainingKernels} from 'tfjs-model-optimization';
 *
 * registerTrainingKernels({backends: ['cpu']});
 * // ... train ...
 * unregisterTrainingKernels(); // ['cpu']: the stock cpu kernels are back
 * ```
 *
 * @category Training kernels
 */
export function unregisterTrainingKernels(options?: TrainingKernelsOptions): TrainingKernelBackend[] {
  const backends = resolveKernelBackends('unregisterTrainingKernels', options);
  if (backends.length === ALL_BACKENDS.length) uninstallChainedMethods();
  const restored: TrainingKernelBackend[] = [];
  for (const backendName of backends) {
    if (findBackendFactory(backendName) == null) continue;
    for (const kernel of kernelsFor(backendName)) uninstall(kernel, backendName);
    restored.push(backendName);
  }
  uninstallTrainingGradients((kernelName) => ALL_BACKENDS.some((name) => getKernel(kernelName, name) != null));
  return restored;
}
