/**
 * The sparse product on tfjs-backend-cpu: the JavaScript kernel of
 * cpu_spmm.ts, then the bias and activation through the cpu backend's own
 * kernels, in the stock fused kernels' order. Returns null whenever the
 * stock kernel must run instead (no sparse form yet, too dense, NaN or
 * infinite activations).
 */
import type {TensorInfo} from '@tensorflow/tfjs-core';

import {addBiasAndActivate} from '../impl/fused_impl';
import {cpuFloats} from '../kernel_util';
import type {CpuBackendLike} from '../kernel_util';
import {allFinite, cpuSpmm} from './cpu_spmm';
import {countRun, worthKeeping} from './plan';
import type {Product} from './product';
import {planOf, SparseCache, sizeOf, stockAtSize} from './sparse_cache';
import {buildSparseForm} from './sparse_format';

/** The part of `MathBackendCPU` used here. */
interface CpuBackend extends CpuBackendLike {
  data: CpuBackendLike['data'] & {has(dataId: object): boolean};
}

const caches = new Map<object, SparseCache<never>>();

function cacheOf(backend: CpuBackend): SparseCache<never> {
  let cache = caches.get(backend);
  if (cache === undefined) {
    cache = new SparseCache<never>({
      holds: (dataId) => backend.data.has(dataId),
      build: (weight, transposed) => {
        const [k, n] = transposed ? weight.shape.slice(-2).reverse() : weight.shape.slice(-2);
        const form = buildSparseForm(cpuFloats(backend, weight), k, n, transposed);
        return {form: worthKeeping(form, 'cpu') ? form : null, transposed, extra: null};
      },
      free: () => undefined,
    });
    caches.set(backend, cache);
  }
  return cache;
}

/** How many weights have a cache entry on a cpu backend (for tests). */
export function cpuCacheSize(backend: object): number {
  return caches.get(backend)?.size ?? 0;
}

/** Forgets every sparse form of the cpu backends (on unregister). */
export function clearCpuCaches(): void {
  for (const cache of caches.values()) cache.clear();
  caches.clear();
}

function isCpuBackend(backend: unknown): backend is CpuBackend {
  const candidate = backend as Partial<CpuBackend> | null;
  return candidate != null && candidate.data != null && typeof candidate.data.has === 'function' &&
    typeof candidate.makeTensorInfo === 'function';
}

/** Runs `product` sparse on cpu, or returns null for the stock kernel. */
export function runCpuProduct(product: Product, backend: object): TensorInfo | null {
  if (!isCpuBackend(backend)) return null;
  const entry = cacheOf(backend).lookup(product.weight, product.transposeB);
  if (entry === null || entry.form === null || entry.transposed !== product.transposeB) return null;
  const {form} = entry;
  const {m, k, n, batches} = product;
  if (form.k !== k || form.n !== n) return null;
  const path = planOf(entry, m, 'cpu');
  if (path === 'stock') {
    stockAtSize.set(product.weight.dataId, sizeOf(product.a));
    return null;
  }
  const a = cpuFloats(backend, product.a);
  if (!allFinite(a, 0, batches * m * k)) return null;
  const out = new Float32Array(batches * m * n);
  const rows = product.transposeA ? new Float32Array(m * k) : a;
  for (let b = 0; b < batches; b++) {
    if (product.transposeA) {
      // A is [k, m]: its rows are its columns.
      const base = b * k * m;
      for (let kk = 0; kk < k; kk++) for (let r = 0; r < m; r++) rows[r * k + kk] = a[base + kk * m + r];
    }
    cpuSpmm(form, rows, product.transposeA ? 0 : b * m * k, m, out, b * m * n);
  }
  countRun('cpu', path);
  const result = backend.makeTensorInfo(product.outShape, 'float32', out);
  return addBiasAndActivate(backend, result, {
    bias: product.bias, preluActivationWeights: product.preluActivationWeights,
    activation: product.activation, leakyreluAlpha: product.leakyreluAlpha,
  });
}
