/**
 * Identity on wasm without a copy: the output shares the input's data, one
 * more reference counted on it, as tfjs-backend-cpu's Identity and wasm's own
 * Reshape do (tensor data is never written after it is made). tfjs-core
 * clones every tensor a gradient needs through Identity, and stock
 * tfjs-backend-wasm copies each one: 16 ms of a seed-CNN training batch (three
 * copies of its 21.6 MB first activation among them) and about 9% of a
 * MobileNetV2-style one. Strings go to the stock kernel.
 */
import {Identity} from '@tensorflow/tfjs-core';
import type {DataId, TensorInfo} from '@tensorflow/tfjs-core';

import {delegate} from '../kernel_util';
import type {KernelArgs, KernelBuilder, KernelDefinition} from '../kernel_util';

/** The part of tfjs-backend-wasm's `BackendWasm` these kernels use. */
interface RefCountingBackend {
  incRef(dataId: DataId): void;
}

/**
 * `x` itself as a kernel output, one more reference counted on its data; null
 * for strings (not on the heap) or a backend without reference counts.
 */
export function sharedOutput(backend: object, x: TensorInfo): TensorInfo | null {
  const counting = backend as Partial<RefCountingBackend>;
  if (x.dtype === 'string' || typeof counting.incRef !== 'function') return null;
  counting.incRef(x.dataId);
  return {dataId: x.dataId, shape: x.shape, dtype: x.dtype};
}

const wasmKernel: KernelBuilder = (replaced) => (args) => {
  const {x} = args.inputs as {x: TensorInfo};
  return sharedOutput(args.backend, x) ?? delegate(replaced, args as KernelArgs, Identity, 'wasm', `${x.dtype} data`);
};

export const identityConfig: KernelDefinition = {kernelName: Identity, wasm: wasmKernel};
