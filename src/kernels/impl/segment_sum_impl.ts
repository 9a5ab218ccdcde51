/**
 * UnsortedSegmentSum over typed arrays in one pass (the Embedding gradient:
 * GatherV2's gradient sums the rows of dy that gathered the same index).
 * tfjs's cpu kernel builds one mask per segment, O(numSegments * size), which
 * is minutes for a 10,000-word vocabulary. Backend-independent.
 */

/**
 * Sums the rows of `x` by segment: `out[s, t] = sum over j of x[j, t]` where
 * `segmentIds[j] == s`. Ids outside `[0, numSegments)` are dropped. Unlike
 * the stock cpu kernel (which multiplies every row by a 0/1 mask), a NaN in
 * `x` only reaches its own segment.
 *
 * @param x The values, flattened: one row of `rowLength` per id.
 * @param segmentIds The segment id of each row of `x`.
 * @param numSegments The number of output rows.
 * @param rowLength The length of a row.
 * @param out Receives the sums, `numSegments` rows of `rowLength`.
 */
export function unsortedSegmentSum(
    x: Float32Array, segmentIds: Int32Array, numSegments: number, rowLength: number, out: Float32Array): void {
  const sums = new Float64Array(numSegments * rowLength);
  for (let j = 0; j < segmentIds.length; j++) {
    const segment = segmentIds[j];
    if (segment < 0 || segment >= numSegments) continue;
    const src = j * rowLength;
    const dst = segment * rowLength;
    for (let t = 0; t < rowLength; t++) {
      sums[dst + t] += x[src + t];
    }
  }
  out.set(sums);
}
