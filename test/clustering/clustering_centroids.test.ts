// Centroid initializations on known tensors. The density-based vectors are tfmot's own
// (clustering_centroids_test.py, testClusterCentroids); the others follow tfmot's definitions
// (clustering_centroids.py) on small inputs whose answer can be worked out by hand.
import {
  cdfValue,
  densityBasedCentroids,
  initialCentroids,
  kmeansPlusPlusCentroids,
  linearCentroids,
  linspace,
  randomCentroids,
  roundHalfToEven,
} from '../../src/clustering/clustering_centroids';
import {checkCentroidInitialization} from '../../src/clustering/cluster_config';

const f32 = (values: number[]) => Float32Array.from(values);

describe('the empirical distribution (tfmot testCDFValues)', () => {
  it.each([
    [[1, 2, 6, 7], 4, 0.5],
    [[1, 2, 6, 7], 1, 1 / 4],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9], 3, 1 / 3],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9], 99, 1],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9], -20, 0],
  ])('gives the fraction of %j that is <= %d as %d', (weights, point, probability) => {
    expect(cdfValue(weights, point)).toBeCloseTo(probability, 6);
  });
});

describe('DENSITY_BASED (tfmot testClusterCentroids)', () => {
  it.each([
    [[0, 1, 2, 3, 3.1, 3.2, 3.3, 3.4, 3.5], 5, [0.11137931, 2.0534482, 3.145862, 3.3886206, 3.51]],
    [[0, 1, 2, 3, 3.1, 3.2, 3.3, 3.4, 3.5], 3, [0.11137931, 3.145862, 3.51]],
    [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 3, [0.3010345, 5.2775865, 9.01]],
  ])('puts the centroids of %j (k = %d) at %j', (weights, k, expected) => {
    const centroids = densityBasedCentroids(f32(weights), k);
    expect(centroids).toHaveLength(k);
    expected.forEach((value, i) => expect(centroids[i]).toBeCloseTo(value, 4));
  });

  it('places more centroids where the weights are dense', () => {
    // Eight values in [3, 3.5] and three in [0, 2]: three of the five centroids fall in [3, 3.6].
    const centroids = Array.from(densityBasedCentroids(f32([0, 1, 2, 3, 3.1, 3.2, 3.3, 3.4, 3.5]), 5));
    expect(centroids.filter((c) => c > 3 && c < 3.6)).toHaveLength(3);
  });
});

describe('LINEAR', () => {
  it('spaces k centroids evenly from the smallest to the largest weight', () => {
    expect(Array.from(linearCentroids(f32([0, 1, 2, 3, 3.1, 3.2, 3.3, 3.4, 3.5]), 5)))
        .toEqual(Array.from(f32([0, 0.875, 1.75, 2.625, 3.5])));
    expect(Array.from(linearCentroids(f32([-1, 4, 2]), 2))).toEqual([-1, 4]);
  });

  it('computes in float32 like tf.linspace', () => {
    expect(Array.from(linspace(-0.01, 9.01, 30)).slice(0, 2)).toEqual(Array.from(f32([-0.01, -0.01 + 9.02 / 29])));
  });
});

describe('RANDOM', () => {
  it('draws k centroids uniformly between the smallest and the largest weight', () => {
    const draws = [0, 0.25, 0.5, 0.999];
    let next = 0;
    const centroids = randomCentroids(f32([-2, 0, 6]), 4, () => draws[next++]);
    expect(Array.from(centroids)).toEqual(Array.from(f32([-2, 0, 2, -2 + 8 * 0.999])));
  });
});

describe('KMEANS_PLUS_PLUS', () => {
  it('picks k distinct weights, the same ones on every call (a fixed seed, as tfmot)', () => {
    const weights = f32([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const first = Array.from(kmeansPlusPlusCentroids(weights, 3));
    expect(Array.from(kmeansPlusPlusCentroids(weights, 3))).toEqual(first);
    expect(new Set(first).size).toBe(3);
    for (const c of first) expect(Array.from(weights)).toContain(c);
  });

  it('finds each of k well-separated groups', () => {
    // Three tight groups: k-means++ seeding lands one centroid in each (a far point is always likelier).
    const weights = f32([-10, -10.1, -9.9, 0, 0.1, -0.1, 10, 10.1, 9.9]);
    const centroids = Array.from(kmeansPlusPlusCentroids(weights, 3)).sort((a, b) => a - b);
    expect(centroids[0]).toBeLessThan(-9);
    expect(Math.abs(centroids[1])).toBeLessThan(1);
    expect(centroids[2]).toBeGreaterThan(9);
  });

  it('repeats a weight when there are fewer distinct weights than centroids', () => {
    expect(Array.from(kmeansPlusPlusCentroids(f32([2, 2, 2]), 3))).toEqual([2, 2, 2]);
  });
});

describe('sparsity-preserving initialization (tfmot _zero_centroid_initialization)', () => {
  it('holds one centroid at zero and shares the others between negative and positive weights', () => {
    // 2 negative and 6 positive non-zero weights, k = 5: round(4 * 2/8) = 1 negative centroid, 3 positive.
    const weights = f32([-2, -1, 0, 0, 1, 2, 3, 4, 5, 6]);
    expect(Array.from(initialCentroids('LINEAR', weights, 5, true))).toEqual([-2, 0, 1, 3.5, 6]);
  });

  it('rounds the negative share half to even, as tf.math.round', () => {
    expect(roundHalfToEven(0.5)).toBe(0);
    expect(roundHalfToEven(1.5)).toBe(2);
    expect(roundHalfToEven(2.5)).toBe(2);
    expect(roundHalfToEven(2.4)).toBe(2);
    // 1 negative and 3 positive weights, k = 3: round(2 * 1/4) = round(0.5) = 0 negative centroids.
    expect(Array.from(initialCentroids('LINEAR', f32([-1, 1, 2, 3]), 3, true))).toEqual([0, 1, 3]);
  });

  it('narrows the density-based gap to half the smallest bound on each side', () => {
    // Positive weights in [0.004, 1]: the gap is min(0.01, 0.004 / 2) = 0.002, the grid [0.002, 1.002].
    const centroids = initialCentroids('DENSITY_BASED', f32([0, 0.004, 0.5, 1]), 3, true);
    expect(centroids[0]).toBe(0);
    expect(centroids[1]).toBeCloseTo(0.002 + (1.002 - 0.002) / 29, 6);
  });

  it('gives k zeros for an all-zero weight', () => {
    expect(Array.from(initialCentroids('KMEANS_PLUS_PLUS', f32([0, 0, 0]), 4, true))).toEqual([0, 0, 0, 0]);
  });

  it('does not modify the values it is given', () => {
    const weights = f32([-2, 0, 3, 1]);
    for (const method of ['LINEAR', 'RANDOM', 'DENSITY_BASED', 'KMEANS_PLUS_PLUS'] as const) {
      initialCentroids(method, weights, 3, true);
      initialCentroids(method, weights, 3, false);
    }
    expect(Array.from(weights)).toEqual([-2, 0, 3, 1]);
  });
});

describe('CentroidInitialization names (tfmot testNonExistingInitIsNotSupported)', () => {
  it('accepts the four methods, also prefixed as newer tfmot saves them', () => {
    expect(checkCentroidInitialization('f', 'init', 'LINEAR')).toBe('LINEAR');
    expect(checkCentroidInitialization('f', 'init', 'CentroidInitialization.DENSITY_BASED')).toBe('DENSITY_BASED');
    // tfjs's loader camel-cases saved string values.
    expect(checkCentroidInitialization('f', 'init', 'kmeansPlusPlus')).toBe('KMEANS_PLUS_PLUS');
  });

  it('refuses any other name, naming the argument and the value', () => {
    expect(() => checkCentroidInitialization('clusterWeights', 'clusterCentroidsInit', 'DEADBEEF')).toThrow(
        "clusterWeights: 'clusterCentroidsInit' must be one of 'LINEAR', 'RANDOM', 'DENSITY_BASED', " +
        "'KMEANS_PLUS_PLUS' (CentroidInitialization), but got \"DEADBEEF\".");
  });
});
