/**
 * The dot product of `n` values of `x` from `xi` and of `y` from `yi`, in four
 * partial sums (one running sum would wait on each addition): the inner loop
 * of the Hessian sums and of the Cholesky factorization.
 */
export function dot(x: Float64Array, xi: number, y: Float64Array, yi: number, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = 0;
  for (; k + 3 < n; k += 4) {
    s0 += x[xi + k] * y[yi + k];
    s1 += x[xi + k + 1] * y[yi + k + 1];
    s2 += x[xi + k + 2] * y[yi + k + 2];
    s3 += x[xi + k + 3] * y[yi + k + 3];
  }
  for (; k < n; k++) s0 += x[xi + k] * y[yi + k];
  return (s0 + s1) + (s2 + s3);
}
