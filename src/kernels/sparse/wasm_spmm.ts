/**
 * The sparse products on tfjs-backend-wasm: spmm/*.wat instantiated on the
 * backend's own heap (so activations and outputs are read and written in
 * place), the sparse forms copied to that heap, and the loop over row tiles.
 *
 * Heap addresses are unsigned (`>>> 0`), as in tfjs-backend-wasm; views of
 * the heap are made after every allocation, which may grow it.
 */
import {heapAllocate, instantiateOnHeap, isWasmHeapBackend as isHeapBackend} from '../wasm/wasm_instance';
import type {WasmHeapBackend as HeapBackend} from '../wasm/wasm_instance';
import type {RowLists, SparseForm, SparseLists} from './sparse_format';
import {SPMM_WASM, SPMM_WASM_SHARED} from './spmm_module';

/** The exports of spmm/*.wat (pointers are byte offsets into the heap). */
export interface SpmmExports {
  finite(p: number, n: number): number;
  copyRow(src: number, colStride: number, k: number, dst: number): number;
  pack(a: number, rowStride: number, colStride: number, k: number, rows: number, t: number, dst: number): void;
  unpack(tile: number, n: number, rows: number, t: number, out: number): void;
  spmvGroups(groups: number, counts: number, blockKs: number, blockWs: number, ks: number, ws: number, perm: number,
    bias: number, lo: number, hi: number, out: number): void;
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
export interface WasmHeapBackend extends HeapBackend {
  dataIdMap: {get(dataId: object): {memoryOffset: number} | undefined; has(dataId: object): boolean};
}

/** Whether `backend` looks like tfjs-backend-wasm's `BackendWasm`. */
export function isWasmHeapBackend(backend: unknown): backend is WasmHeapBackend {
  return isHeapBackend(backend) && (backend as Partial<WasmHeapBackend>).dataIdMap != null;
}

/**
 * spmm/*.wat on `backend`'s heap, or null where it cannot run (no SIMD, memory
 * not found, or while a browser compiles it in the background).
 */
export function spmmInstance(backend: WasmHeapBackend): SpmmExports | null {
  return instantiateOnHeap<SpmmExports>(backend, SPMM_WASM, SPMM_WASM_SHARED);
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
  /**
   * The row lists of the single-row kernel (`spmvGroups`), in their own
   * allocation: undefined until {@link rowsToHeap} places them, on the first
   * single-row product; null when the heap had no room.
   */
  rows?: HeapRows | null;
}

/** {@link RowLists} on the heap: byte offsets; `perm` holds byte offsets `4j`. */
export interface HeapRows {
  pointer: number;
  groups: number;
  counts: number;
  blockKs: number;
  blockWs: number;
  ks: number;
  ws: number;
  perm: number;
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

/**
 * Copies `rows` to the heap as `form.rows` (their addresses into `form`'s
 * row buffer); null when the heap has no room.
 */
export function rowsToHeap(backend: WasmHeapBackend, form: HeapForm, rows: RowLists): HeapRows | null {
  const arrays = [rows.counts, rows.perm, rows.blockKs, rows.blockWs, rows.ks, rows.ws];
  const pointer = heapAllocate(backend.wasm, arrays.reduce((sum, array) => sum + align16(array.byteLength), 0));
  if (pointer === null) return null;
  const buffer = backend.wasm.HEAPU8.buffer;
  let at = pointer;
  const place = (array: Int32Array | Float32Array, map?: (value: number) => number): number => {
    const start = at;
    const view = array instanceof Int32Array ?
      new Int32Array(buffer, at, array.length) :
      new Float32Array(buffer, at, array.length);
    if (map === undefined) view.set(array);
    else for (let i = 0; i < array.length; i++) view[i] = map(array[i]);
    at += align16(array.byteLength);
    return start;
  };
  const address = (k4: number) => (form.xbuf + k4) | 0;
  const counts = place(rows.counts);
  const perm = place(rows.perm, (j) => 4 * j);
  const blockKs = place(rows.blockKs, address);
  const blockWs = place(rows.blockWs);
  const ks = place(rows.ks, address);
  const ws = place(rows.ws);
  return {pointer, groups: rows.perm.length / 4, counts, blockKs, blockWs, ks, ws, perm};
}

export function freeHeapForm(backend: WasmHeapBackend, form: HeapForm): void {
  if (form.rows != null) backend.wasm._free(form.rows.pointer);
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
 * Runs one product on the heap. Returns false when the stock kernel must run
 * it instead: a row of A holds NaN or an infinity (checked here, in the copy
 * of each row, on the single-row paths; the caller checks A first on the
 * tiled ones) or the heap has no room for the scratch tiles. What was
 * written to the output is then meaningless.
 */
export function runWasmSpmm(
    backend: WasmHeapBackend, spmm: SpmmExports, form: HeapForm, path: WasmPath, p: WasmProduct): boolean {
  const {m, k, n} = p;
  const rowStride = p.transposeA ? 4 : 4 * k;
  const colStride = p.transposeA ? 4 * m : 4;
  if (path === 'spmv' || path === 'spmvBlocked') {
    const rows = form.rows;
    if (path === 'spmv' && rows == null) return false;
    const l = form.blocked;
    for (let r = 0; r < m; r++) {
      // The row goes to the form's buffer, whose addresses the lists hold.
      if (spmm.copyRow(p.a + r * rowStride, colStride, k, form.xbuf) === 0) return false;
      const out = p.out + 4 * r * n;
      if (rows != null && path === 'spmv') {
        spmm.spmvGroups(rows.groups, rows.counts, rows.blockKs, rows.blockWs, rows.ks, rows.ws, rows.perm, p.bias, p.lo, p.hi,
          out);
      } else {
        spmm.spmvBlocked(n / 4, l!.counts, l!.ks, l!.ws, p.bias, p.lo, p.hi, out);
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
