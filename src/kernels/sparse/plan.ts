/**
 * When the sparse kernel pays: a cost model per backend, in nanoseconds,
 * whose constants were measured on a 2-core AMD EPYC (Node 20, tfjs 4.22;
 * docs/sparse-kernels.md has the table). A product runs sparse only when its
 * estimate is below {@link MARGIN} of the stock kernel's, and the constants
 * lean towards the stock kernel (its fastest measured times, the sparse
 * kernels' slowest), so that the model's errors fall on the side of the
 * stock kernel: registering never makes a product slower.
 */
import type {SparseForm} from './sparse_format';

/** The kernel a product runs on: a sparse one, or the stock one (`'stock'`). */
export type SparsePath = 'stock' | 'spmv' | 'spmvBlocked' | 'spmm' | 'spmmBlocked';

/** How many products each backend ran sparse, and on which path (for tests and benchmarks). */
export const sparseRuns: Record<'wasm' | 'cpu', Partial<Record<SparsePath, number>>> = {wasm: {}, cpu: {}};

/** Counts one sparse product. */
export function countRun(backend: 'wasm' | 'cpu', path: SparsePath): void {
  sparseRuns[backend][path] = (sparseRuns[backend][path] ?? 0) + 1;
}

/** The sparse estimate must be below this share of the stock kernel's. */
export const MARGIN = 0.8;

/** wasm: XNNPACK's GEMM against spmm/*.wat. */
const WASM = {
  /**
   * Stock, per call (measured 4-5 us even for a 4 x 4 weight), and per
   * multiply-add: at one row (a matrix-vector product; measured 0.135), each
   * further row below 4 as a share of the first (measured 0.3-0.8: the
   * weights are read once for all rows), and from 4 rows on.
   */
  denseCall: 2500,
  denseRow: 0.13,
  denseRowExtra: 0.35,
  denseTile: 0.085,
  /**
   * Single rows (spmvGroups): one nonzero (measured 0.27-0.30), one output
   * channel, and each row's copy and finiteness check with its calls into
   * wasm (measured 0.25 us). spmvBlocked: one block (measured 0.42-0.5) and
   * each group of 4 channels.
   */
  entryRow: 0.32,
  channelRow: 2,
  row: 300,
  blockRow: 0.55,
  groupRow: 10,
  /**
   * spmm: one entry against a tile of 16 rows (of 4 rows below 16 rows,
   * measured 0.6); spmmBlocked: one block, 8 rows; and each call's scratch
   * allocation and calls into wasm (measured 0.6 us).
   */
  entryTile16: 2.5,
  entryTile4: 0.65,
  blockTile8: 3,
  tileCall: 700,
  /** Packing the activations into tiles and unpacking the output, per value. */
  pack: 1,
};

/** cpu: tfjs-backend-cpu's product (or registerTrainingKernels' faster one) against cpu_spmm.ts. */
const CPU = {
  // Measured: 4.4 (tfjs-backend-cpu) and 18 (registerTrainingKernels, which transposes the weight on
  // every call) ns per multiply-add at one row; 8.5 and 1.3-3 from 4 rows on.
  denseRow: 4,
  denseTile: 0.6,
  /** One list entry at a single row, and against four rows. */
  entryRow: 3.2,
  entryTile4: 5.5,
};

/**
 * The path for products of `m` rows with `form`'s weight on `backend`: the
 * cheapest sparse kernel when it beats the stock one by the margin, else
 * `'stock'`. `threads`: XNNPACK's thread pool on wasm (the threaded build);
 * the stock kernel's multiply-adds are then taken to share them perfectly (its
 * fastest possible time: the model keeps leaning towards the stock kernel),
 * while the sparse kernels run on the calling thread.
 */
export function choosePath(form: SparseForm, m: number, backend: 'wasm' | 'cpu', threads = 1): SparsePath {
  const {k, n} = form;
  const entries = form.lists.ks.length;
  const blocks = form.blocked?.ks.length ?? 0;
  if (backend === 'cpu') {
    // One JavaScript kernel: four rows at a time, then single rows.
    const sparse = entries * (Math.floor(m / 4) * CPU.entryTile4 + (m % 4) * CPU.entryRow);
    return sparse < MARGIN * m * k * n * (m < 4 ? CPU.denseRow : CPU.denseTile) ? 'spmm' : 'stock';
  }
  // The stock kernel, and each sparse kernel that can run m rows: the single-row ones below 4 rows,
  // the tiled ones at any number (below 4 rows, one partial tile of 4, or 8 for the blocked form).
  const stock = WASM.denseCall +
    (m < 4 ? k * n * WASM.denseRow * (1 + WASM.denseRowExtra * (m - 1)) : m * k * n * WASM.denseTile) / threads;
  const packing = m * (k + n) * WASM.pack + WASM.tileCall;
  const tiles = m >= 16 ? Math.ceil(m / 16) * WASM.entryTile16 : Math.ceil(m / 4) * WASM.entryTile4;
  const candidates: [SparsePath, number][] = [['spmm', entries * tiles + packing]];
  if (form.blocked !== null) candidates.push(['spmmBlocked', blocks * Math.ceil(m / 8) * WASM.blockTile8 + packing]);
  if (m < 4) {
    candidates.push(['spmv', m * (form.nonZeros * WASM.entryRow + n * WASM.channelRow + WASM.row)]);
    if (form.blocked !== null) candidates.push(['spmvBlocked', m * (blocks * WASM.blockRow + (n / 4) * WASM.groupRow + WASM.row)]);
  }
  let best: SparsePath = 'stock';
  let cost = MARGIN * stock;
  for (const [path, estimate] of candidates) {
    if (estimate < cost) {
      best = path;
      cost = estimate;
    }
  }
  return best;
}

/**
 * Whether any number of rows could run `form` sparse; a form that cannot is
 * not kept (its weight always runs on the stock kernel).
 */
export function worthKeeping(form: SparseForm, backend: 'wasm' | 'cpu', threads = 1): boolean {
  for (const m of [1, 2, 4, 8, 16, 64, 256]) if (choosePath(form, m, backend, threads) !== 'stock') return true;
  return false;
}
