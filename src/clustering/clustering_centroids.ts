/**
 * The initial centroids of a clustered weight, computed from its values in
 * JavaScript. Mirrors tfmot's `clustering_centroids.py`, method by method
 * (see {@link CentroidInitialization} for each rule).
 *
 * Porting notes:
 * - tfmot's density-based method interpolates between two grid points of the
 *   distribution and solves the line through them at the first point's own
 *   height, which always gives that grid point: the grid point is returned.
 * - k-means++ uses a seeded generator of this file (tfmot: TensorFlow's kernel
 *   with seed 9); the centroids are deterministic but not TensorFlow's own.
 * - With `preserveSparsity` and no non-zero weight, every centroid is 0
 *   (tfmot returns one centroid, which then fails to fit its k-sized weight).
 */
import type {CentroidInitialization} from './cluster_config';

/** The number of grid points of the density-based method's distribution (tfmot's 30). */
const CDF_GRID_POINTS = 30;
/** tfmot's seed of k-means++. */
const KMEANS_SEED = 9;

/** mulberry32: a small, well-distributed 32-bit generator, for k-means++'s fixed seed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function minMax(values: ArrayLike<number>): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (values[i] < min) min = values[i];
    if (values[i] > max) max = values[i];
  }
  return [min, max];
}

/** `count` values evenly spaced from `start` to `stop` (`[start]` for one), in float32 like `tf.linspace`. */
export function linspace(start: number, stop: number, count: number): Float32Array {
  const out = new Float32Array(count);
  const step = count > 1 ? (stop - start) / (count - 1) : 0;
  for (let i = 0; i < count; i++) out[i] = start + i * step;
  return out;
}

/** LINEAR: `count` centroids evenly spaced over `[min, max]` of the values. */
export function linearCentroids(values: Float32Array, count: number): Float32Array {
  if (count <= 0) return new Float32Array(0);
  const [min, max] = minMax(values);
  return linspace(min, max, count);
}

/** RANDOM: `count` centroids drawn uniformly in `[min, max)` of the values with `random`. */
export function randomCentroids(values: Float32Array, count: number, random: () => number = Math.random): Float32Array {
  if (count <= 0) return new Float32Array(0);
  const [min, max] = minMax(values);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = min + (max - min) * random();
  return out;
}

/**
 * The empirical distribution function of `values` at `x`: the fraction of
 * values `<= x` (tfmot's `TFCumulativeDistributionFunction.get_cdf_value`).
 */
export function cdfValue(values: ArrayLike<number>, x: number): number {
  let count = 0;
  for (let i = 0; i < values.length; i++) if (values[i] <= x) count++;
  return Math.fround(count / values.length);
}

/**
 * DENSITY_BASED: the first grid point where the distribution exceeds each of
 * `count` probabilities evenly spaced in [0.01, 1] (the last grid point when
 * none does).
 *
 * @param gap Margin added on both sides of `[min, max]`: 0.01, or with
 *   sparsity preservation `min(0.01, min(|min|, |max|) / 2)` (tfmot's).
 */
export function densityBasedCentroids(values: Float32Array, count: number, gap = 0.01): Float32Array {
  if (count <= 0) return new Float32Array(0);
  const [min, max] = minMax(values);
  const grid = linspace(min - gap, max + gap, CDF_GRID_POINTS);
  const sorted = Float32Array.from(values).sort();
  // The distribution on the grid, by one walk over the sorted values.
  const cdf = new Float32Array(grid.length);
  let below = 0;
  grid.forEach((x, j) => {
    while (below < sorted.length && sorted[below] <= x) below++;
    cdf[j] = below / sorted.length;
  });
  const probabilities = linspace(0.01, 1, count);
  const out = new Float32Array(count);
  probabilities.forEach((p, i) => {
    // searchsorted(cdf, p, side='right'): the number of grid values <= p.
    let index = 0;
    while (index < cdf.length && cdf[index] <= p) index++;
    out[i] = grid[Math.min(index, grid.length - 1)];
  });
  return out;
}

/** Adds to `best` (the squared distance of each value to its nearest centroid) the centroid `c`. */
function nearestSquaredDistances(values: Float32Array, c: number, best: Float64Array): void {
  for (let i = 0; i < values.length; i++) {
    const d = (values[i] - c) * (values[i] - c);
    if (d < best[i]) best[i] = d;
  }
}

/** The index drawn with probability proportional to `weights` (uniformly when they sum to 0). */
function drawIndex(weights: Float64Array, total: number, random: () => number): number {
  if (!(total > 0)) return Math.min(Math.floor(random() * weights.length), weights.length - 1);
  let target = random() * total;
  for (let i = 0; i < weights.length; i++) {
    target -= weights[i];
    if (target < 0) return i;
  }
  // Rounding left a little of the total: the last value with a weight.
  for (let i = weights.length - 1; i >= 0; i--) if (weights[i] > 0) return i;
  return weights.length - 1;
}

/**
 * KMEANS_PLUS_PLUS: k-means++ seeding with `2 + floor(ln count)` candidates
 * per centroid (TensorFlow's `num_retries_per_sample = -1`), from a generator
 * seeded with tfmot's seed: deterministic for given values.
 */
export function kmeansPlusPlusCentroids(
    values: Float32Array, count: number, random: () => number = seededRandom(KMEANS_SEED)): Float32Array {
  if (count <= 0) return new Float32Array(0);
  const out = new Float32Array(count);
  if (values.length === 0) return out;
  const retries = 2 + Math.floor(Math.log(count));
  const best = new Float64Array(values.length).fill(Infinity);
  const trial = new Float64Array(values.length);
  out[0] = values[Math.min(Math.floor(random() * values.length), values.length - 1)];
  nearestSquaredDistances(values, out[0], best);
  for (let c = 1; c < count; c++) {
    const total = best.reduce((sum, d) => sum + d, 0);
    let chosen = -1;
    let chosenPotential = Infinity;
    for (let r = 0; r < retries; r++) {
      const candidate = drawIndex(best, total, random);
      trial.set(best);
      nearestSquaredDistances(values, values[candidate], trial);
      const potential = trial.reduce((sum, d) => sum + d, 0);
      if (potential < chosenPotential) {
        chosenPotential = potential;
        chosen = candidate;
      }
    }
    out[c] = values[chosen];
    nearestSquaredDistances(values, out[c], best);
  }
  return out;
}

/** Rounds to the nearest integer, halves to the even one (`tf.math.round`, which tfmot uses). */
export function roundHalfToEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction !== 0.5) return Math.round(x);
  return floor % 2 === 0 ? floor : floor + 1;
}

/** The centroids of one interval of values by `method`. */
function centroidsFor(
    method: CentroidInitialization, values: Float32Array, count: number, preserveSparsity: boolean): Float32Array {
  switch (method) {
    case 'LINEAR':
      return linearCentroids(values, count);
    case 'RANDOM':
      return randomCentroids(values, count);
    case 'DENSITY_BASED': {
      const [min, max] = minMax(values);
      const gap = preserveSparsity ? Math.min(0.01, Math.min(Math.abs(min), Math.abs(max)) / 2) : 0.01;
      return densityBasedCentroids(values, count, gap);
    }
    case 'KMEANS_PLUS_PLUS':
      return kmeansPlusPlusCentroids(values, count);
  }
}

/**
 * The initial centroids of a weight (tfmot's `get_cluster_centroids`).
 *
 * Without `preserveSparsity`, `method` runs on all the values. With it, one
 * centroid is exactly 0 and the `count - 1` others are split between the
 * negative and the positive values (`round((count - 1) * negatives / nonZeros)`,
 * halves to even, for the negative ones), each side initialized on its own; the result is
 * ordered negative centroids, 0, positive centroids.
 *
 * @param values The weight's values (not modified).
 * @param count The number of centroids.
 * @returns `count` centroids.
 */
export function initialCentroids(
    method: CentroidInitialization, values: Float32Array, count: number, preserveSparsity: boolean): Float32Array {
  if (!preserveSparsity) return centroidsFor(method, values, count, false);
  const negative = values.filter((v) => v < 0);
  const positive = values.filter((v) => v > 0);
  const nonZero = negative.length + positive.length;
  const out = new Float32Array(count);
  if (nonZero === 0) return out;
  const negativeCount = roundHalfToEven((count - 1) * (negative.length / nonZero));
  const negatives = centroidsFor(method, negative, negativeCount, true);
  const positives = centroidsFor(method, positive, count - 1 - negativeCount, true);
  out.set(negatives, 0);
  out[negatives.length] = 0;
  out.set(positives, negatives.length + 1);
  return out;
}
