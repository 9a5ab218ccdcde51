/**
 * The sparse form of a weight matrix, built once per weight tensor: the
 * nonzero weights of each output channel as a list of (k, w), XNNPACK's
 * layout for its SpMM kernels. When the nonzeros come in blocks of 4
 * consecutive output channels ([1, 4] block sparsity, or unstructured
 * sparsity high enough that such blocks are rare but full) a second,
 * blocked form is kept too: per group of 4 channels, a list of (k, 4 weights),
 * which feeds four SIMD lanes from one activation.
 *
 * The weight operand of `out = A x W` is `W` as `[K, N]` (or `[N, K]` when the
 * kernel transposes it). A zero is any value equal to 0 (so -0 too); NaN and
 * infinite weights are kept, so they reach the output as the dense kernel
 * would send them.
 */

/** A list form: per channel (or group), a count padded to a multiple of 4, then the entries. */
export interface SparseLists {
  /** Entries per channel (per group of 4 channels in the blocked form), each a multiple of 4. */
  counts: Int32Array;
  /** `4 * k` of each entry, the byte offset of its activation in a row (padding entries: 0). */
  ks: Int32Array;
  /** The weight of each entry (4 per entry in the blocked form; padding: 0). */
  ws: Float32Array;
}

/** The sparse form of one weight matrix. */
export interface SparseForm {
  /** Rows of `W` (the reduction length). */
  k: number;
  /** Columns of `W` (output channels). */
  n: number;
  /** How many weights are nonzero. */
  nonZeros: number;
  /** `nonZeros / (k * n)`. */
  density: number;
  /** Per output channel: its nonzero weights. */
  lists: SparseLists;
  /** Blocks of 4 output channels that hold a nonzero (counted before padding), or 0 without a blocked form. */
  blocks: number;
  /** Per group of 4 output channels: their (k, 4 weights) blocks; null when `n` is not a multiple of 4 or blocks would not pay. */
  blocked: SparseLists | null;
}

/** Rounds `count` up to a multiple of 4. */
const padded = (count: number) => (count + 3) & ~3;

/**
 * The blocked form is kept when its blocks are at least this full on
 * average (a block costs about as much as one scalar entry at batch 1, and a
 * quarter of one per activation row at larger batches).
 */
const MIN_BLOCK_FILL = 0.2;

/**
 * Builds the sparse form of `w`, a `[k, n]` row-major matrix (`[n, k]` when
 * `transposed`).
 */
export function buildSparseForm(w: Float32Array, k: number, n: number, transposed: boolean): SparseForm {
  // W(kk, j) is w[kk * rowStride + j * colStride].
  const rowStride = transposed ? 1 : n;
  const colStride = transposed ? k : 1;
  const counts = new Int32Array(n);
  let nonZeros = 0;
  for (let j = 0; j < n; j++) {
    let count = 0;
    for (let kk = 0, p = j * colStride; kk < k; kk++, p += rowStride) if (w[p] !== 0) count++;
    counts[j] = padded(count);
    nonZeros += count;
  }
  const total = counts.reduce((a, b) => a + b, 0);
  const ks = new Int32Array(total);
  const ws = new Float32Array(total);
  let at = 0;
  for (let j = 0; j < n; j++) {
    const end = at + counts[j];
    for (let kk = 0, p = j * colStride; kk < k; kk++, p += rowStride) {
      if (w[p] !== 0) {
        ks[at] = 4 * kk;
        ws[at++] = w[p];
      }
    }
    at = end;
  }
  const form: SparseForm = {
    k, n, nonZeros, density: k * n === 0 ? 0 : nonZeros / (k * n), lists: {counts, ks, ws}, blocks: 0, blocked: null,
  };
  if (n % 4 === 0 && nonZeros > 0) addBlockedForm(form, w, rowStride, colStride);
  return form;
}

/** Adds the [1, 4]-blocked form to `form` when its blocks are full enough. */
function addBlockedForm(form: SparseForm, w: Float32Array, rowStride: number, colStride: number): void {
  const {k, n} = form;
  const groups = n / 4;
  const counts = new Int32Array(groups);
  const nonZeroBlock = (g: number, kk: number) => {
    const p = kk * rowStride + 4 * g * colStride;
    return w[p] !== 0 || w[p + colStride] !== 0 || w[p + 2 * colStride] !== 0 || w[p + 3 * colStride] !== 0;
  };
  let blocks = 0;
  for (let g = 0; g < groups; g++) {
    let count = 0;
    for (let kk = 0; kk < k; kk++) if (nonZeroBlock(g, kk)) count++;
    counts[g] = padded(count);
    blocks += count;
  }
  form.blocks = blocks;
  if (form.nonZeros < MIN_BLOCK_FILL * 4 * blocks) return;
  const total = counts.reduce((a, b) => a + b, 0);
  const ks = new Int32Array(total);
  const ws = new Float32Array(4 * total);
  let at = 0;
  for (let g = 0; g < groups; g++) {
    const end = at + counts[g];
    for (let kk = 0; kk < k; kk++) {
      if (!nonZeroBlock(g, kk)) continue;
      const p = kk * rowStride + 4 * g * colStride;
      ks[at] = 4 * kk;
      for (let c = 0; c < 4; c++) ws[4 * at + c] = w[p + c * colStride];
      at++;
    }
    at = end;
  }
  form.blocked = {counts, ks, ws};
}

/** Bytes the lists of a form occupy. */
export function formBytes(form: SparseForm): number {
  const bytes = (lists: SparseLists | null) =>
    lists === null ? 0 : lists.counts.byteLength + lists.ks.byteLength + lists.ws.byteLength;
  return bytes(form.lists) + bytes(form.blocked);
}
