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

/**
 * The lists of a form rearranged for the single-row wasm kernel, four
 * channels (a group) at a time: channels sorted by their number of nonzeros
 * (most first, so that the 4 channels of a group have about as many) and
 * taken 4 at a time. Per group, the rows k where enough of its channels
 * are nonzero (see {@link buildRowLists}) become blocks (k and the 4 channels' weights: one
 * activation feeds 4 lanes), and the other nonzeros are interleaved: step `s`
 * holds the `s`-th remaining entry of each channel (lane `c`: channel
 * `perm[4g + c]`; a channel past its entries, or a lane past `n`, gets
 * `k = 0, w = 0`).
 */
export interface RowLists {
  /** Per group: its blocks, then its steps. */
  counts: Int32Array;
  /** `4 * k` of each block. */
  blockKs: Int32Array;
  /** The 4 weights of each block, by lane. */
  blockWs: Float32Array;
  /** `4 * k` of each entry, 4 per step. */
  ks: Int32Array;
  /** The weight of each entry, 4 per step. */
  ws: Float32Array;
  /** Per lane of each group, its output channel; the lanes of a last group past `n` repeat its lane 0. */
  perm: Int32Array;
}

/** The number of bits set in each 4-bit value. */
const LANES = [0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4];

/**
 * Builds the {@link RowLists} of `form` from its per-channel lists; a row
 * becomes a block of a group where `blockLanes` or more of its channels are
 * nonzero (5: never). A block costs about as much as two single entries
 * (measured); the default, 2 above 25% density and 3 below, was the fastest
 * on Dense weights of 70% to 95% unstructured sparsity.
 */
export function buildRowLists(form: SparseForm, blockLanes = form.density >= 0.25 ? 2 : 3): RowLists {
  const {k, n, lists} = form;
  const starts = new Int32Array(n + 1);
  const counts = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    starts[j + 1] = starts[j] + lists.counts[j];
    // The padding of a list (k = 0, w = 0) comes after its nonzeros, which are never 0.
    let count = 0;
    while (count < lists.counts[j] && lists.ws[starts[j] + count] !== 0) count++;
    counts[j] = count;
  }
  const order = Array.from({length: n}, (_, j) => j).sort((a, b) => counts[b] - counts[a] || a - b);
  const groups = Math.ceil(n / 4);
  const perm = new Int32Array(4 * groups);
  // Per k, the group's lanes that are nonzero there (a bit per lane), and their weights.
  const lanes = new Uint8Array(k);
  const weights = new Float32Array(4 * k);
  const blockKs: number[] = [];
  const blockWs: number[] = [];
  const singles: {ks: number[]; ws: number[]}[][] = [];
  const groupCounts = new Int32Array(2 * groups);
  for (let g = 0; g < groups; g++) {
    // Lanes past n repeat the group's lane 0 (the kernel stores lane 0 last).
    for (let c = 0; c < 4; c++) perm[4 * g + c] = order[4 * g + c < n ? 4 * g + c : 4 * g];
    const channels = Math.min(4, n - 4 * g);
    for (let c = 0; c < channels; c++) {
      const j = order[4 * g + c];
      for (let e = starts[j]; e < starts[j] + counts[j]; e++) {
        const kk = lists.ks[e] >> 2;
        lanes[kk] |= 1 << c;
        weights[4 * kk + c] = lists.ws[e];
      }
    }
    const lists4 = [0, 1, 2, 3].map(() => ({ks: [] as number[], ws: [] as number[]}));
    let blocks = 0;
    for (let kk = 0; kk < k; kk++) {
      const bits = lanes[kk];
      if (bits === 0) continue;
      if (LANES[bits] >= blockLanes) {
        blockKs.push(4 * kk);
        for (let c = 0; c < 4; c++) blockWs.push((bits >> c) & 1 ? weights[4 * kk + c] : 0);
        blocks++;
      } else {
        for (let c = 0; c < 4; c++) {
          if (((bits >> c) & 1) === 0) continue;
          lists4[c].ks.push(4 * kk);
          lists4[c].ws.push(weights[4 * kk + c]);
        }
      }
      lanes[kk] = 0;
      weights.fill(0, 4 * kk, 4 * kk + 4);
    }
    singles.push(lists4);
    groupCounts[2 * g] = blocks;
    groupCounts[2 * g + 1] = Math.max(...lists4.map((l) => l.ks.length));
  }
  let total = 0;
  for (let g = 0; g < groups; g++) total += groupCounts[2 * g + 1];
  const ks = new Int32Array(4 * total);
  const ws = new Float32Array(4 * total);
  let at = 0;
  for (let g = 0; g < groups; g++) {
    singles[g].forEach((list, c) => {
      for (let e = 0; e < list.ks.length; e++) {
        ks[4 * (at + e) + c] = list.ks[e];
        ws[4 * (at + e) + c] = list.ws[e];
      }
    });
    at += groupCounts[2 * g + 1];
  }
  return {counts: groupCounts, blockKs: Int32Array.from(blockKs), blockWs: Float32Array.from(blockWs), ks, ws, perm};
}

/** Bytes the lists of a form occupy. */
export function formBytes(form: SparseForm): number {
  const bytes = (lists: SparseLists | null) =>
    lists === null ? 0 : lists.counts.byteLength + lists.ks.byteLength + lists.ws.byteLength;
  return bytes(form.lists) + bytes(form.blocked);
}
