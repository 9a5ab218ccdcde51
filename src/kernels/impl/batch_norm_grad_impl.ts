/**
 * The math of BatchNormalization's one-pass gradient (kernels/TfmotBatchNormGrad.ts),
 * over typed arrays; backend-independent.
 */
// Module-level aliases: inside a vm context (Jest) every lookup of the global `Math` is intercepted.
const {fround, sqrt} = Math;

/**
 * The five derivatives of `y = (x - mean) * rsqrt(variance + epsilon) * scale + offset`,
 * x and dy `[m, c]` (channels last), mean, variance and scale `[c]`. Writes
 * into `dx` (`m * c`) and `dMean`, `dVariance`, `dScale`, `dOffset` (`c`).
 * The sums are in double precision; dx rounds as the stock gradient does
 * (`(dy * rsqrt) * scale` in float32).
 */
export function batchNormGradient(
    x: Float32Array, dy: Float32Array, mean: Float32Array, variance: Float32Array, scale: Float32Array | null,
    epsilon: number, channels: number,
    dx: Float32Array, dMean: Float32Array, dVariance: Float32Array, dScale: Float32Array, dOffset: Float32Array): void {
  const c = channels;
  const rsqrt = new Float32Array(c);
  const rsqrtScale = new Float32Array(c);
  for (let k = 0; k < c; k++) {
    rsqrt[k] = 1 / sqrt(fround(variance[k] + epsilon));
    rsqrtScale[k] = scale == null ? rsqrt[k] : rsqrt[k] * scale[k];
  }
  const sumDy = new Float64Array(c);
  const sumDyCentered = new Float64Array(c);
  // Without scale, a scale of ones: the same float32 results (a product by 1 is exact).
  const sc = scale ?? new Float32Array(c).fill(1);
  const rows = x.length / c;
  let r = 0;
  // Four rows at a time: a quarter of the accumulator updates (3-4x faster than row by row).
  for (; r + 3 < rows; r += 4) {
    const b0 = r * c;
    const b1 = b0 + c;
    const b2 = b1 + c;
    const b3 = b2 + c;
    for (let k = 0; k < c; k++) {
      const m = mean[k];
      const q = rsqrt[k];
      const t = sc[k];
      const g0 = dy[b0 + k];
      const g1 = dy[b1 + k];
      const g2 = dy[b2 + k];
      const g3 = dy[b3 + k];
      sumDy[k] += (g0 + g1) + (g2 + g3);
      sumDyCentered[k] += (g0 * (x[b0 + k] - m) + g1 * (x[b1 + k] - m)) + (g2 * (x[b2 + k] - m) + g3 * (x[b3 + k] - m));
      // Rounded to float32 between the products, as the stock mul(mul(dy, tile(rsqrt)), scale).
      dx[b0 + k] = fround(g0 * q) * t;
      dx[b1 + k] = fround(g1 * q) * t;
      dx[b2 + k] = fround(g2 * q) * t;
      dx[b3 + k] = fround(g3 * q) * t;
    }
  }
  for (; r < rows; r++) {
    const b0 = r * c;
    for (let k = 0; k < c; k++) {
      const g = dy[b0 + k];
      sumDy[k] += g;
      sumDyCentered[k] += g * (x[b0 + k] - mean[k]);
      dx[b0 + k] = fround(g * rsqrt[k]) * sc[k];
    }
  }
  for (let k = 0; k < c; k++) {
    const r = rsqrt[k];
    const s = scale == null ? 1 : scale[k];
    dOffset[k] = sumDy[k];
    dScale[k] = r * sumDyCentered[k];
    dMean[k] = -rsqrtScale[k] * sumDy[k];
    dVariance[k] = -0.5 * r * r * r * s * sumDyCentered[k];
  }
}
