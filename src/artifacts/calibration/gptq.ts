/**
 * GPTQ rounding (Frantar, Ashkboos, Hoefler, Alistarh, "GPTQ: Accurate
 * Post-Training Quantization for Generative Pre-trained Transformers", 2023,
 * after Optimal Brain Quantization): the rows of a kernel `W` (`[d, m]`, one
 * row per input of the op, one column per output) are rounded one at a time,
 * and each row's rounding error is spread over the rows not yet rounded along
 * the inverse of the inputs' second moments `H`, so that the op's outputs on
 * the calibration inputs move as little as the grid allows. The grid is the
 * one round-to-nearest would use (a scale per column), so the result is
 * written with the same codes and manifest entries.
 *
 * As in GPTQ's reference code: H is damped by 1% of its mean diagonal, inputs
 * that were always zero get a unit diagonal, and rows are taken in order of
 * decreasing diagonal ("act order"). Entries with a fixed code (zeros of a
 * pruned kernel, and the largest magnitude that sets a scale) keep it, and
 * their error is spread like any other.
 */
import {dot} from './dot';

/** A code that is not fixed, in {@link GptqProblem.fixed}. */
export const FREE = 32767;

/** The relative damping added to H's diagonal (GPTQ's `percdamp`). */
export const DAMPING = 0.01;

export interface GptqProblem {
  /** The kernel, `[d, m]` row-major; replaced by the rounded values. */
  w: Float64Array;
  d: number;
  m: number;
  /** `d x d`, symmetric (not modified). */
  h: Float64Array;
  /** The grid step of each column (> 0). */
  scales: Float64Array;
  /** The largest code in magnitude (127 for int8). */
  maxCode: number;
  /** Per entry, its code when it is fixed, else {@link FREE}. */
  fixed: Int16Array;
}

/** The lower Cholesky factor of the `n x n` matrix `a` (row-major), or null when `a` is not positive definite. */
function cholesky(a: Float64Array, n: number): Float64Array | null {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j <= i; j++) {
      const rj = j * n;
      const s = a[ri + j] - dot(l, ri, l, rj, j);
      if (i === j) {
        if (!(s > 0)) return null;
        l[ri + i] = Math.sqrt(s);
      } else {
        l[ri + j] = s / l[rj + j];
      }
    }
  }
  return l;
}

/**
 * The upper triangular U with `H^-1 = U^T U` (GPTQ's `cholesky(H^-1, upper)`)
 * from the lower Cholesky factor L of `J H J` (J the reversal), without
 * forming H^-1: `H = V V^T` for the upper `V = J L J`, so `H^-1 = (V^-1)^T V^-1`
 * and `U = V^-1`, computed row by row reading rows of V only.
 */
function inverseFactor(l: Float64Array, n: number): Float64Array {
  // V[j][k] = L[n-1-j][n-1-k]: row j of V is row n-1-j of L read backwards from its end.
  const end = (j: number) => (n - 1 - j) * n + (n - 1);
  const u = new Float64Array(n * n);
  const acc = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    acc.fill(0, i);
    for (let j = i; j < n; j++) {
      const vj = end(j);
      const uij = j === i ? 1 / l[vj - j] : -acc[j] / l[vj - j];
      u[i * n + j] = uij;
      if (uij === 0) continue;
      for (let k = j + 1; k < n; k++) acc[k] += uij * l[vj - k];
    }
  }
  return u;
}

/**
 * Rounds `problem.w` in place onto its grid by GPTQ. Returns false (and leaves
 * `w` as it was) when H cannot be factored even with ten and a hundred times
 * the damping, or holds values that are not finite; the caller rounds to
 * nearest instead.
 */
export function gptqRound(problem: GptqProblem): boolean {
  const {w, d, m, scales, maxCode, fixed} = problem;
  const {h} = problem;
  let mean = 0;
  let alive = 0;
  for (let i = 0; i < d; i++) {
    if (h[i * d + i] > 0) {
      mean += h[i * d + i];
      alive++;
    }
  }
  mean = alive === 0 ? 1 : mean / alive;
  // Inputs never seen get the mean diagonal (their rows then round to nearest).
  const diagonal = (i: number) => (h[i * d + i] > 0 ? h[i * d + i] : mean);
  // Act order: the rows whose inputs carry most energy first.
  const order = Array.from({length: d}, (_, i) => i).sort((a, b) => diagonal(b) - diagonal(a) || a - b);
  // J P H P J (P the order, J the reversal), damped: three d x d arrays at most are alive at once.
  const a = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    const oi = order[d - 1 - i];
    for (let j = 0; j < d; j++) a[i * d + j] = i === j ? diagonal(oi) : h[oi * d + order[d - 1 - j]];
  }
  let l: Float64Array | null = null;
  let added = 0;
  for (const factor of [1, 10, 100]) {
    for (let i = 0; i < d; i++) a[i * d + i] += (factor - added) * DAMPING * mean;
    added = factor;
    l = cholesky(a, d);
    if (l !== null) break;
  }
  if (l === null) return false;
  const u = inverseFactor(l, d);
  l = null;
  const rows = new Float64Array(d * m);
  for (let i = 0; i < d; i++) for (let j = 0; j < m; j++) rows[i * m + j] = w[order[i] * m + j];
  const error = new Float64Array(m);
  for (let i = 0; i < d; i++) {
    const row = i * m;
    const pivot = u[i * d + i];
    const source = order[i] * m;
    for (let j = 0; j < m; j++) {
      const value = rows[row + j];
      const code = fixed[source + j] !== FREE ? fixed[source + j] :
        Math.max(-maxCode, Math.min(maxCode, Math.round(value / scales[j])));
      const q = code * scales[j];
      error[j] = (value - q) / pivot;
      rows[row + j] = q;
    }
    for (let r = i + 1; r < d; r++) {
      const f = u[i * d + r];
      if (f === 0) continue;
      const target = r * m;
      for (let j = 0; j < m; j++) rows[target + j] -= f * error[j];
    }
  }
  // Infinite activations can factor into NaN without failing: then nothing is written.
  if (!rows.every(Number.isFinite)) return false;
  for (let i = 0; i < d; i++) for (let j = 0; j < m; j++) w[order[i] * m + j] = rows[i * m + j];
  return true;
}
