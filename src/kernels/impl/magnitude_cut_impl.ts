/**
 * The selection behind the wasm magnitude cut (kernels/TfmotMagnitudeCut.ts):
 * order statistics of float32 bit patterns by histogram, and the bracket of a
 * rank from a stratified sample (Floyd and Rivest's selection). Plain
 * JavaScript over typed arrays.
 */

/** Sample size from the weights: the bracket then holds about 9% of them (at 70% sparsity). */
export const WEIGHT_SAMPLE = 1024;
/** Half-width of a bracket, in standard deviations of the sample rank: a miss about one time in 400. */
const SIGMAS = 3;
/** Clears the sign bit of a float32 bit pattern (|w|). */
const ABS_MASK = 0x7fffffff;

const sampleBits = new Uint32Array(WEIGHT_SAMPLE);

/** Histogram of the selections: at most 2^13 buckets of a pattern's offset in its range. */
const MAX_BUCKET_BITS = 13;
const bucketCounts = new Uint32Array(1 << MAX_BUCKET_BITS);

/**
 * The `ranks` (0-based, ascending, in increasing order) order statistics of
 * `values`, all in `[base, base + width]`: one histogram pass over
 * `(value - base) >>> shift`, then the buckets that hold the ranks are
 * resolved by sorting their few members. The counting does not branch on the
 * values, so it costs the same for any data.
 */
export function orderStatistics(values: Uint32Array, ranks: readonly number[], base: number, width: number): number[] {
  // About two values per bucket when they spread evenly over the range, and no more buckets than that.
  const bucketBits = Math.min(MAX_BUCKET_BITS, Math.max(8, 32 - Math.clz32(values.length)));
  let shift = 0;
  while (shift < 31 && (width >>> shift) >= (1 << bucketBits)) shift++;
  const top = width >>> shift;
  const counts = bucketCounts.fill(0, 0, top + 1);
  for (let j = 0; j < values.length; j++) counts[(values[j] - base) >>> shift]++;
  const result: number[] = [];
  let below = 0;
  let bucket = 0;
  for (const rank of ranks) {
    while (below + counts[bucket] <= rank) below += counts[bucket++];
    if (shift === 0) {
      result.push(base + bucket);
      continue;
    }
    const members = new Uint32Array(counts[bucket]);
    let found = 0;
    for (let j = 0; j < values.length; j++) {
      if (((values[j] - base) >>> shift) === bucket) members[found++] = values[j];
    }
    members.sort();
    result.push(members[rank - below]);
  }
  return result;
}

/**
 * The bracket `(lo, hi]` that holds the value of ascending rank `rank` of
 * `bits` (|w| patterns, all in `(lo0, hi0]`) with near certainty, from the
 * order statistics of a stratified sample of `size` of them (one per stratum
 * of `bits.length / size`, at a pseudo-random place inside it: xorshift32,
 * the same on every call; the reads ascend, and every column of a weight
 * matrix gets its share). `lo = -1` means no lower bound.
 */
export function sampleBracket(
    bits: Uint32Array, rank: number, size: number, lo0: number, hi0: number): {lo: number; hi: number} {
  const n = bits.length;
  const sample = size === WEIGHT_SAMPLE ? sampleBits : new Uint32Array(size);
  const stride = n / size;
  let state = 0x9e3779b9;
  for (let i = 0; i < size; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    const b = bits[Math.floor(i * stride + ((state >>> 0) / 0x100000000) * stride)] & ABS_MASK;
    // Only an infinity or a NaN is above hi0 (the bracket pass then finds it); it must not leave the histogram.
    sample[i] = b > hi0 ? hi0 : b;
  }
  const q = rank / n;
  const centre = q * size;
  const spread = SIGMAS * Math.sqrt(size * q * (1 - q)) + 2;
  const low = Math.floor(centre - spread);
  const high = Math.ceil(centre + spread);
  const ranks = [low, high].filter((r) => r >= 0 && r < size);
  const values = orderStatistics(sample, ranks, lo0 + 1, hi0 - lo0 - 1);
  return {
    lo: low < 0 ? lo0 : values[0],
    hi: high >= size ? hi0 : Math.min(values[values.length - 1], hi0),
  };
}

