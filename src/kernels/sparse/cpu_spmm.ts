/**
 * The sparse product in JavaScript, for the cpu backend: per output channel,
 * its list of (k, w) against four activation rows at a time (one load of k
 * and w feeds four multiply-adds).
 */
import type {SparseForm} from './sparse_format';

/** Whether every value of `values` is finite (no NaN, no infinity). */
export function allFinite(values: Float32Array, offset = 0, length = values.length - offset): boolean {
  let probe = 0;
  const end = offset + length;
  for (let i = offset; i < end; i++) probe += values[i] * 0;
  return probe === 0;
}

/**
 * `out[r * n + j] = sum of w * a[r * k + k_w]` over the list of channel j,
 * for the `m` rows of `a` (row-major `[m, k]`, starting at `aOffset`);
 * `out` from `outOffset`. Bias and activation are the caller's.
 */
export function cpuSpmm(
    form: SparseForm, a: Float32Array, aOffset: number, m: number, out: Float32Array, outOffset: number): void {
  const {k, n} = form;
  const {counts, ks, ws} = form.lists;
  let r = 0;
  for (; r + 4 <= m; r += 4) {
    const a0 = aOffset + r * k;
    const a1 = a0 + k;
    const a2 = a1 + k;
    const a3 = a2 + k;
    const o = outOffset + r * n;
    let at = 0;
    for (let j = 0; j < n; j++) {
      const end = at + counts[j];
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (; at < end; at++) {
        const kk = ks[at] >> 2;
        const w = ws[at];
        s0 += w * a[a0 + kk];
        s1 += w * a[a1 + kk];
        s2 += w * a[a2 + kk];
        s3 += w * a[a3 + kk];
      }
      out[o + j] = s0;
      out[o + n + j] = s1;
      out[o + 2 * n + j] = s2;
      out[o + 3 * n + j] = s3;
    }
  }
  for (; r < m; r++) {
    const a0 = aOffset + r * k;
    const o = outOffset + r * n;
    let at = 0;
    for (let j = 0; j < n; j++) {
      const end = at + counts[j];
      let s0 = 0;
      let s1 = 0;
      for (; at < end; at += 2) {
        s0 += ws[at] * a[a0 + (ks[at] >> 2)];
        s1 += ws[at + 1] * a[a0 + (ks[at + 1] >> 2)];
      }
      out[o + j] = s0 + s1;
    }
  }
}
