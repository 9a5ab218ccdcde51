/**
 * The sparse product on tfjs-backend-wasm: a product read by product.ts,
 * run by spmm.wat on the heap when the weight's sparse form and the cost
 * model say so. Returns null whenever the stock kernel must run instead:
 * no sparse form (yet), too dense for this many rows, NaN or infinite
 * activations (a skipped zero weight would hide their NaN products), no
 * SIMD, or no room on the heap.
 */
import {getKernel} from '@tensorflow/tfjs-core';
import type {DataId, DataType, NamedAttrMap, TensorInfo} from '@tensorflow/tfjs-core';

import {countRun, worthKeeping} from './plan';
import type {Product} from './product';
import {planOf, SparseCache, sizeOf, stockAtSize} from './sparse_cache';
import {buildSparseForm} from './sparse_format';
import {freeHeapForm, isWasmHeapBackend, runWasmSpmm, spmmInstance, toHeap} from './wasm_spmm';
import type {HeapForm, WasmHeapBackend} from './wasm_spmm';

/** The part of `BackendWasm` used besides the heap. */
interface WasmBackend extends WasmHeapBackend {
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  disposeData(dataId: DataId, force?: boolean): boolean;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

const caches = new Map<object, SparseCache<HeapForm>>();

function cacheOf(backend: WasmBackend): SparseCache<HeapForm> {
  let cache = caches.get(backend);
  if (cache === undefined) {
    cache = new SparseCache<HeapForm>({
      holds: (dataId) => backend.dataIdMap.has(dataId),
      build: (weight, transposed) => {
        const values = backend.typedArrayFromHeap(weight) as Float32Array;
        const [k, n] = transposed ? weight.shape.slice(-2).reverse() : weight.shape.slice(-2);
        const form = buildSparseForm(values, k, n, transposed);
        if (!worthKeeping(form, 'wasm')) return {form: null, transposed, extra: null};
        return {form, transposed, extra: toHeap(backend, form)};
      },
      free: (entry) => {
        if (entry.extra !== null) freeHeapForm(backend, entry.extra);
      },
    });
    caches.set(backend, cache);
  }
  return cache;
}

/** How many weights have a cache entry on a wasm backend (for tests). */
export function wasmCacheSize(backend: object): number {
  return caches.get(backend)?.size ?? 0;
}

/** Frees every sparse form on every wasm heap (on unregister). */
export function clearWasmCaches(): void {
  for (const cache of caches.values()) cache.clear();
  caches.clear();
}

/** The unsigned byte offset of a tensor's data on the heap. */
const offsetOf = (backend: WasmHeapBackend, info: TensorInfo) => backend.dataIdMap.get(info.dataId)!.memoryOffset >>> 0;

/** The activations applied after the product by the backend's own kernels. */
const AFTER: Partial<Record<Product['activation'], string>> = {
  elu: 'Elu', leakyrelu: 'LeakyRelu', prelu: 'Prelu', sigmoid: 'Sigmoid',
};

/** Runs `product` sparse on wasm, or returns null for the stock kernel. */
export function runWasmProduct(product: Product, backendObject: object): TensorInfo | null {
  if (!isWasmHeapBackend(backendObject)) return null;
  const backend = backendObject as WasmBackend;
  const spmm = spmmInstance(backend);
  if (spmm === null) return null;
  const entry = cacheOf(backend).lookup(product.weight, product.transposeB);
  if (entry === null || entry.form === null || entry.extra === null || entry.transposed !== product.transposeB) return null;
  const {form} = entry;
  if (form.k !== product.k || form.n !== product.n) return null;
  const path = planOf(entry, product.m, 'wasm');
  if (path === 'stock') {
    stockAtSize.set(product.weight.dataId, sizeOf(product.a));
    return null;
  }
  const {m, k, n, batches} = product;
  const a = offsetOf(backend, product.a);
  if (spmm.finite(a, batches * m * k) === 0) return null;
  const out = backend.makeOutput(product.outShape, 'float32');
  const outOffset = offsetOf(backend, out);
  const lo = product.activation === 'relu' || product.activation === 'relu6' ? 0 : -Infinity;
  const hi = product.activation === 'relu6' ? 6 : Infinity;
  const bias = product.bias == null ? 0 : offsetOf(backend, product.bias);
  let done = outOffset !== 0;
  for (let b = 0; done && b < batches; b++) {
    done = runWasmSpmm(backend, spmm, entry.extra, path, {
      a: a + 4 * b * m * k, m, k, n, transposeA: product.transposeA, bias, lo, hi, out: outOffset + 4 * b * m * n,
    });
  }
  if (!done) {
    backend.disposeData(out.dataId);
    return null;
  }
  countRun('wasm', path);
  const after = AFTER[product.activation];
  if (after === undefined) return out;
  const config = getKernel(after, 'wasm');
  if (config == null) {
    backend.disposeData(out.dataId);
    return null;
  }
  const inputs = product.activation === 'prelu' ? {x: out, alpha: product.preluActivationWeights!} : {x: out};
  const attrs: NamedAttrMap = product.activation === 'leakyrelu' ? {alpha: product.leakyreluAlpha} : {};
  try {
    return config.kernelFunc({inputs, backend, attrs}) as TensorInfo;
  } finally {
    backend.disposeData(out.dataId);
  }
}
