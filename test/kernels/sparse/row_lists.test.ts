// The lists of the single-row wasm kernel (sparse_format.ts's buildRowLists):
// channels sorted by their nonzeros, 4 to a group; per group, the rows where
// two or more of its channels are nonzero as blocks, the other nonzeros
// interleaved one per lane and step, the lanes past n repeating lane 0.
import {buildRowLists, buildSparseForm} from '../../../src/kernels/sparse/sparse_format';

/** W(k, j) of the first test: 10 j + k + 1 where nonzero. */
const value = (kk: number, j: number) => 10 * j + kk + 1;

/** A [k, n] weight whose channel j holds the nonzeros at rows `rows[j]`. */
function weight(k: number, rows: number[][]): Float32Array {
  const n = rows.length;
  const w = new Float32Array(k * n);
  rows.forEach((list, j) => list.forEach((kk) => (w[kk * n + j] = value(kk, j))));
  return w;
}

describe('buildRowLists', () => {
  it('sorts the channels by nonzeros, groups them by 4, and splits blocks from interleaved single entries', () => {
    const rows = [[1, 6], [0, 2, 4, 7], [], [3, 5], [0, 2, 3, 5, 7]];
    const form = buildSparseForm(weight(8, rows), 8, rows.length, false);
    const lists = buildRowLists(form, 2);
    // Channels 4 (5 nonzeros), 1 (4), 0 and 3 (2: the lower index first), then 2 (0), whose lanes past n repeat it.
    expect(Array.from(lists.perm)).toEqual([4, 1, 0, 3, 2, 2, 2, 2]);
    // Group 0: rows 0, 2, 3, 5 and 7 have two nonzero channels (blocks); rows 1, 4 and 6 one (2 steps: lane 2 has 2).
    expect(Array.from(lists.counts)).toEqual([5, 2, 0, 0]);
    expect(Array.from(lists.blockKs)).toEqual([0, 2, 3, 5, 7].map((kk) => 4 * kk));
    expect(Array.from(lists.blockWs)).toEqual([
      value(0, 4), value(0, 1), 0, 0,
      value(2, 4), value(2, 1), 0, 0,
      value(3, 4), 0, 0, value(3, 3),
      value(5, 4), 0, 0, value(5, 3),
      value(7, 4), value(7, 1), 0, 0,
    ]);
    expect(Array.from(lists.ks)).toEqual([0, 4 * 4, 4 * 1, 0, 0, 0, 4 * 6, 0]);
    expect(Array.from(lists.ws)).toEqual([0, value(4, 1), value(1, 0), 0, 0, 0, value(6, 0), 0]);
  });

  it('reads a transposed weight and keeps NaN and infinite weights', () => {
    // [n, k] = [2, 3]: channel 0 holds NaN at k = 1, channel 1 holds -inf at k = 0 and 2 at k = 2.
    const form = buildSparseForm(new Float32Array([0, NaN, 0, -Infinity, 0, 2]), 3, 2, true);
    const lists = buildRowLists(form, 2);
    expect(Array.from(lists.perm)).toEqual([1, 0, 1, 1]);
    expect(Array.from(lists.counts)).toEqual([0, 2]);
    expect(lists.blockKs.length).toBe(0);
    expect(Array.from(lists.ks)).toEqual([0, 4, 0, 0, 8, 0, 0, 0]);
    expect(Array.from(lists.ws)).toEqual([-Infinity, NaN, 0, 0, 2, 0, 0, 0]);
  });

  it.each([2, 3, 5])('holds every nonzero exactly once with blocks from %i lanes on', (blockLanes) => {
    const k = 50;
    const n = 11;
    const w = new Float32Array(k * n);
    for (let i = 0; i < w.length; i++) if ((i * 7919) % 10 < 4) w[i] = ((i * 104729) % 200) / 10 - 10 || 1;
    const lists = buildRowLists(buildSparseForm(w, k, n, false), blockLanes);
    const rebuilt = new Float32Array(k * n);
    const add = (kk: number, j: number, value: number, lane: number) => {
      if (value === 0) return;
      expect(lane < 4 * Math.ceil(n / 4)).toBe(true);
      expect(rebuilt[kk * n + j]).toBe(0);
      rebuilt[kk * n + j] = value;
    };
    let block = 0;
    let step = 0;
    for (let g = 0; g < lists.counts.length / 2; g++) {
      for (let b = 0; b < lists.counts[2 * g]; b++, block++) {
        let lanes = 0;
        for (let c = 0; c < 4; c++) {
          if (lists.blockWs[4 * block + c] !== 0) lanes++;
          add(lists.blockKs[block] / 4, lists.perm[4 * g + c], lists.blockWs[4 * block + c], 4 * g + c);
        }
        expect(lanes).toBeGreaterThanOrEqual(Math.min(blockLanes, 4));
      }
      for (let s = 0; s < lists.counts[2 * g + 1]; s++, step++) {
        for (let c = 0; c < 4; c++) add(lists.ks[4 * step + c] / 4, lists.perm[4 * g + c], lists.ws[4 * step + c], 4 * g + c);
      }
    }
    expect(block).toBe(lists.blockKs.length);
    expect(4 * step).toBe(lists.ks.length);
    expect(Array.from(rebuilt)).toEqual(Array.from(w));
    if (blockLanes === 5) expect(block).toBe(0);
  });
});
