/**
 * The sparse product on tfjs-backend-wasm: a product read by product.ts,
 * run by spmm/*.wat on the heap when the weight's sparse form and the cost
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
import {buildRowLists, buildSparseForm} from './sparse_format';
import {freeHeapForm, isWasmHeapBackend, rowsToHeap, runWasmSpmm, spmmInstance, toHeap} from './wasm_spmm';
import type {HeapForm, SpmmExports, WasmHeapBackend} from './wasm_spmm';

/** The part of `BackendWasm` used besides the heap. */
interface WasmBackend extends WasmHeapBackend {
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  disposeData(dataId: DataId, force?: boolean): boolean;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/** What runWasmProduct keeps per backend: spmm/*.wat on its heap and its cache of sparse forms. */
interface WasmState {
  spmm: SpmmExports;
  cache: SparseCache<HeapForm>;
  /** XNNPACK's threads (more than 1 in the threaded build), which the stock kernel uses. */
  threads: number;
}

/** Per backend object: its state, or null when it is not a wasm backend spmm/*.wat can run on. */
const states = new Map<object, WasmState | null>();

function stateOf(backendObject: object): WasmState | null {
  let state = states.get(backendObject);
  if (state !== undefined) return state;
  state = null;
  if (isWasmHeapBackend(backendObject)) {
    const backend = backendObject as WasmBackend;
    const spmm = spmmInstance(backend);
    const threads = threadsOf(backend);
    if (spmm !== null) state = {spmm, cache: newCache(backend, threads), threads};
  }
  states.set(backendObject, state);
  return state;
}

/** The threads of tfjs-backend-wasm's XNNPACK pool (its `get_threads_count`), 1 when it does not say. */
function threadsOf(backend: WasmBackend): number {
  const tfjs = (backend.wasm as {tfjs?: {getThreadsCount?: () => number}}).tfjs;
  const count = typeof tfjs?.getThreadsCount === 'function' ? tfjs.getThreadsCount() : 1;
  return Number.isInteger(count) && count > 1 ? count : 1;
}

function newCache(backend: WasmBackend, threads: number): SparseCache<HeapForm> {
  return new SparseCache<HeapForm>({
    holds: (dataId) => backend.dataIdMap.has(dataId),
    build: (weight, transposed) => {
      const values = backend.typedArrayFromHeap(weight) as Float32Array;
      const [k, n] = transposed ? weight.shape.slice(-2).reverse() : weight.shape.slice(-2);
      const form = buildSparseForm(values, k, n, transposed);
      if (!worthKeeping(form, 'wasm', threads)) return {form: null, transposed, extra: null};
      return {form, transposed, extra: toHeap(backend, form)};
    },
    free: (entry) => {
      if (entry.extra !== null) freeHeapForm(backend, entry.extra);
    },
  });
}

/** How many weights have a cache entry on a wasm backend (for tests). */
export function wasmCacheSize(backend: object): number {
  return states.get(backend)?.cache.size ?? 0;
}

/** Frees every sparse form on every wasm heap (on unregister). */
export function clearWasmCaches(): void {
  for (const state of states.values()) state?.cache.clear();
  states.clear();
}

/** The unsigned byte offset of a tensor's data on the heap. */
const offsetOf = (backend: WasmHeapBackend, info: TensorInfo) => backend.dataIdMap.get(info.dataId)!.memoryOffset >>> 0;

/** The activations applied after the product by the backend's own kernels. */
const AFTER: Partial<Record<Product['activation'], string>> = {
  elu: 'Elu', leakyrelu: 'LeakyRelu', prelu: 'Prelu', sigmoid: 'Sigmoid',
};

/** Runs `product` sparse on wasm, or returns null for the stock kernel. */
export function runWasmProduct(product: Product, backendObject: object): TensorInfo | null {
  const state = stateOf(backendObject);
  if (state === null) return null;
  const backend = backendObject as WasmBackend;
  const {spmm} = state;
  const entry = state.cache.lookup(product.weight, product.transposeB);
  if (entry === null || entry.form === null || entry.extra === null || entry.transposed !== product.transposeB) return null;
  const {form} = entry;
  if (form.k !== product.k || form.n !== product.n) return null;
  const path = planOf(entry, product.m, 'wasm', state.threads);
  if (path === 'stock') {
    stockAtSize.set(product.weight.dataId, sizeOf(product.a));
    return null;
  }
  const heapForm = entry.extra;
  if (path === 'spmv' && heapForm.rows === undefined) heapForm.rows = rowsToHeap(backend, heapForm, buildRowLists(form));
  const {m, k, n, batches} = product;
  const a = offsetOf(backend, product.a);
  // The single-row kernels check each row as they copy it; the tiled ones need A checked first.
  if ((path === 'spmm' || path === 'spmmBlocked') && spmm.finite(a, batches * m * k) === 0) return null;
  const out = backend.makeOutput(product.outShape, 'float32');
  const outOffset = offsetOf(backend, out);
  const lo = product.activation === 'relu' || product.activation === 'relu6' ? 0 : -Infinity;
  const hi = product.activation === 'relu6' ? 6 : Infinity;
  const bias = product.bias == null ? 0 : offsetOf(backend, product.bias);
  let done = outOffset !== 0;
  for (let b = 0; done && b < batches; b++) {
    done = runWasmSpmm(backend, spmm, heapForm, path, {
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
