/**
 * The sparse products on tfjs-backend-wasm: spmm.wat instantiated on the
 * backend's own heap (so activations and outputs are read and written in
 * place), the sparse forms copied to that heap, and the loop over row tiles.
 *
 * Heap addresses are unsigned (`>>> 0`), as in tfjs-backend-wasm; views of
 * the heap are made after every allocation, which may grow it.
 */
import {heapAllocate} from '../../sparsity/wasm/magnitude_cut';
import type {SparseForm, SparseLists} from './sparse_format';
import {SPMM_WASM, SPMM_WASM_SHARED} from './spmm_module';

/** The exports of spmm.wat (pointers are byte offsets into the heap). */
interface SpmmExports {
  finite(p: number, n: number): number;
  pack(a: number, rowStride: number, colStride: number, k: number, rows: number, t: number, dst: number): void;
  unpack(tile: number, n: number, rows: number, t: number, out: number): void;
  spmv(n: number, counts: number, ks: number, ws: number, bias: number, lo: number, hi: number, out: number): void;
  spmvBlocked(groups: number, counts: number, ks: number, ws: number, bias: number, lo: number, hi: number,
    out: number): void;
  spmm16(xt: number, n: number, counts: number, ks: number, ws: number, bias: number, lo: number, hi: number,
    out: number): void;
  spmm4(xt: number, n: number, counts: number, ks: number, ws: number, bias: number, lo: number, hi: number,
    out: number): void;
  spmm8Blocked(xt: number, groups: number, counts: number, ks: number, ws: number, bias: number, lo: number, hi: number,
    out: number): void;
}

/** The part of tfjs-backend-wasm's `BackendWasm` used here. */
export interface WasmHeapBackend {
  wasm: {
    HEAPU8: Uint8Array;
    _malloc(bytes: number): number;
    _free(pointer: number): void;
    wasmMemory?: unknown;
    asm?: Record<string, unknown>;
    wasmExports?: Record<string, unknown>;
  };
  dataIdMap: {get(dataId: object): {memoryOffset: number} | undefined; has(dataId: object): boolean};
}

/** Whether `backend` looks like tfjs-backend-wasm's `BackendWasm`. */
export function isWasmHeapBackend(backend: unknown): backend is WasmHeapBackend {
  const candidate = backend as Partial<WasmHeapBackend> | null;
  return candidate != null && candidate.dataIdMap != null && candidate.wasm != null &&
    candidate.wasm.HEAPU8 instanceof Uint8Array && typeof candidate.wasm._malloc === 'function';
}

const instances = new WeakMap<object, SpmmExports | null>();

/** The heap's WebAssembly.Memory, as magnitude_cut finds it (threaded build: `wasmMemory`). */
function findMemory(backend: WasmHeapBackend): WebAssembly.Memory | null {
  const {wasm} = backend;
  const candidates = [wasm.wasmMemory, ...Object.values(wasm.asm ?? {}), ...Object.values(wasm.wasmExports ?? {})];
  for (const value of candidates) {
    if (value instanceof WebAssembly.Memory && value.buffer === wasm.HEAPU8.buffer) return value;
  }
  return null;
}

/** spmm.wat on `backend`'s heap, or null where it cannot run (no SIMD, memory not found). */
export function spmmInstance(backend: WasmHeapBackend): SpmmExports | null {
  if (instances.has(backend)) return instances.get(backend)!;
  let instance: SpmmExports | null = null;
  const memory = findMemory(backend);
  if (memory !== null) {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const bytes = shared ? SPMM_WASM_SHARED : SPMM_WASM;
    if (WebAssembly.validate(bytes)) {
      instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {env: {memory}}).exports as unknown as SpmmExports;
    }
  }
  instances.set(backend, instance);
  return instance;
}

/** Lists copied to the heap: byte offsets of their three arrays. */
interface HeapLists {
  count: number;
  counts: number;
  ks: number;
  ws: number;
}

/**
 * A sparse form copied to the heap, in one allocation freed by
 * {@link freeHeapForm}: the lists hold the addresses of their activations in
 * the form's own row buffer `xbuf` (`xbuf + 4k`), which saves the row-kernel
 * an addition per entry.
 */
export interface HeapForm {
  pointer: number;
  /** Byte offset of the row buffer (k floats). */
  xbuf: number;
  lists: HeapLists;
  blocked: HeapLists | null;
}

const align16 = (bytes: number) => (bytes + 15) & ~15;
const listBytes = (lists: SparseLists) =>
  align16(lists.counts.byteLength) + align16(lists.ks.byteLength) + align16(lists.ws.byteLength);

/** Copies `form` to the heap of `backend`; null when the heap has no room. */
export function toHeap(backend: WasmHeapBackend, form: SparseForm): HeapForm | null {
  const total = align16(4 * form.k) + listBytes(form.lists) + (form.blocked === null ? 0 : listBytes(form.blocked));
  const pointer = heapAllocate(backend.wasm, total);
  if (pointer === null) return null;
  const buffer = backend.wasm.HEAPU8.buffer;
  const xbuf = pointer;
  let at = pointer + align16(4 * form.k);
  const place = (lists: SparseLists): HeapLists => {
    const counts = at;
    new Int32Array(buffer, at, lists.counts.length).set(lists.counts);
    at += align16(lists.counts.byteLength);
    const ks = at;
    const addresses = new Int32Array(buffer, at, lists.ks.length);
    for (let i = 0; i < addresses.length; i++) addresses[i] = (xbuf + lists.ks[i]) | 0;
    at += align16(lists.ks.byteLength);
    const ws = at;
    new Float32Array(buffer, at, lists.ws.length).set(lists.ws);
    at += align16(lists.ws.byteLength);
    return {count: lists.counts.length, counts, ks, ws};
  };
  const lists = place(form.lists);
  const blocked = form.blocked === null ? null : place(form.blocked);
  return {pointer, xbuf, lists, blocked};
}

export function freeHeapForm(backend: WasmHeapBackend, form: HeapForm): void {
  backend.wasm._free(form.pointer);
}

/** One product `out = clamp(A x W + bias)` for {@link runWasmSpmm}. */
export interface WasmProduct {
  /** Byte offset of A: `[m, k]` row-major, or `[k, m]` when `transposeA`. */
  a: number;
  m: number;
  k: number;
  n: number;
  transposeA: boolean;
  /** Byte offset of the bias (n floats), or 0. */
  bias: number;
  lo: number;
  hi: number;
  /** Byte offset of the output, `[m, n]` row-major. */
  out: number;
}

/** Which kernel runs a product. */
export type WasmPath = 'spmv' | 'spmvBlocked' | 'spmm' | 'spmmBlocked';

/**
 * Runs one product on the heap. Returns false (writing nothing) when the
 * heap has no room for the scratch tiles.
 */
export function runWasmSpmm(
    backend: WasmHeapBackend, spmm: SpmmExports, form: HeapForm, path: WasmPath, p: WasmProduct): boolean {
  const {m, k, n} = p;
  const rowStride = p.transposeA ? 4 : 4 * k;
  const colStride = p.transposeA ? 4 * m : 4;
  if (path === 'spmv' || path === 'spmvBlocked') {
    for (let r = 0; r < m; r++) {
      // The row goes to the form's buffer, whose addresses the lists hold.
      spmm.pack(p.a + r * rowStride, 0, colStride, k, 1, 1, form.xbuf);
      const out = p.out + 4 * r * n;
      if (path === 'spmv') {
        const l = form.lists;
        spmm.spmv(n, l.counts, l.ks, l.ws, p.bias, p.lo, p.hi, out);
      } else {
        const l = form.blocked!;
        spmm.spmvBlocked(n / 4, l.counts, l.ks, l.ws, p.bias, p.lo, p.hi, out);
      }
    }
    return true;
  }
  const t = path === 'spmmBlocked' ? 8 : m >= 16 ? 16 : 4;
  const xt = heapAllocate(backend.wasm, 4 * k * t + 4 * n * t);
  if (xt === null) return false;
  const ot = xt + 4 * k * t;
  try {
    for (let m0 = 0; m0 < m; m0 += t) {
      const rows = Math.min(t, m - m0);
      if (rows < t) backend.wasm.HEAPU8.fill(0, xt, ot);
      spmm.pack(p.a + m0 * rowStride, rowStride, colStride, k, rows, t, xt);
      // The kernels add `t * address` to the tile address they are given (modulo 2^32).
      const base = (xt - t * form.xbuf) | 0;
      if (path === 'spmmBlocked') {
        const l = form.blocked!;
        spmm.spmm8Blocked(base, n / 4, l.counts, l.ks, l.ws, p.bias, p.lo, p.hi, ot);
      } else {
        const l = form.lists;
        (t === 16 ? spmm.spmm16 : spmm.spmm4)(base, n, l.counts, l.ks, l.ws, p.bias, p.lo, p.hi, ot);
      }
      spmm.unpack(ot, n, rows, t, p.out + 4 * m0 * n);
    }
  } finally {
    backend.wasm._free(xt);
  }
  return true;
}
