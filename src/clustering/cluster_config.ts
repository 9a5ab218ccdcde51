/**
 * The options of weight clustering that are saved with a model: how centroids
 * are initialized and how the gradient of a centroid is aggregated. Mirrors
 * tfmot's `cluster_config.py`.
 *
 * Porting note: Python enums become frozen objects of string constants, whose
 * values are the strings saved in a config (tfmot's enum values).
 */
import {argumentMessage} from '../util/validation';

/**
 * How the centroids of a weight are chosen before training (tfmot's
 * `CentroidInitialization`).
 *
 * - `KMEANS_PLUS_PLUS` (the default): k-means++ seeding on the weight's
 *   values (the first centroid uniformly, each next one among
 *   `2 + floor(ln k)` candidates drawn with probability proportional to the
 *   squared distance to the nearest centroid, keeping the candidate that
 *   lowers the total squared distance most), with tfmot's fixed seed 9:
 *   the same weights always give the same centroids.
 * - `LINEAR`: `k` evenly spaced values from `min(w)` to `max(w)`.
 * - `DENSITY_BASED`: the weights' cumulative distribution sampled on 30
 *   points from `min(w) - gap` to `max(w) + gap` (`gap` = 0.01), and for each
 *   of `k` probabilities evenly spaced from 0.01 to 1, the first grid point
 *   where the distribution exceeds it: more centroids where weights are dense.
 * - `RANDOM`: `k` values drawn uniformly in `[min(w), max(w))` with
 *   `Math.random`.
 *
 * With `preserveSparsity`, one centroid is exactly 0 and the others are
 * shared between the negative and the positive weights in proportion to their
 * counts, each side initialized on its own by the chosen method.
 *
 * @example
 * ```ts
 * import {CentroidInitialization, clusterWeights} from 'tfjs-model-optimization';
 *
 * const clustered = clusterWeights(model, {
 *   numberOfClusters: 16,
 *   clusterCentroidsInit: CentroidInitialization.LINEAR,
 * });
 * ```
 *
 * @category Clustering
 */
export const CentroidInitialization = Object.freeze({
  /** Evenly spaced from the smallest to the largest weight. */
  LINEAR: 'LINEAR',
  /** Uniformly random between the smallest and the largest weight. */
  RANDOM: 'RANDOM',
  /** Denser where the weights are (levels of their cumulative distribution). */
  DENSITY_BASED: 'DENSITY_BASED',
  /** k-means++ seeding with a fixed seed (the default). */
  KMEANS_PLUS_PLUS: 'KMEANS_PLUS_PLUS',
} as const);

/**
 * One of the {@link CentroidInitialization} methods.
 *
 * @category Clustering
 */
export type CentroidInitialization = typeof CentroidInitialization[keyof typeof CentroidInitialization];

/**
 * How the gradient of a centroid is formed from the gradients of the weights
 * that share it (tfmot's `GradientAggregation`): `'SUM'` (the default, tfmot's)
 * adds them; `'AVG'` divides that sum by the number of weights in the cluster.
 *
 * @category Clustering
 */
export type GradientAggregation = 'SUM' | 'AVG';

const INITIALIZATIONS: readonly string[] = Object.values(CentroidInitialization);
const AGGREGATIONS: readonly string[] = ['SUM', 'AVG'];

/**
 * Reads a centroid initialization: one of the constants, the same name
 * prefixed with `CentroidInitialization.` (as newer tfmot saves it), or in
 * camelCase (as tfjs's loader rewrites saved string values).
 *
 * @throws TypeError naming `caller`, the argument and the value otherwise.
 */
export function checkCentroidInitialization(caller: string, arg: string, value: unknown): CentroidInitialization {
  // tfjs's loader turns snake_case string values into camelCase ('DENSITY_BASED' -> 'densityBased').
  const key = (name: string) => name.replace(/^CentroidInitialization\./, '').replace(/_/g, '').toLowerCase();
  const name = typeof value === 'string' ? INITIALIZATIONS.find((n) => key(n) === key(value)) : undefined;
  if (name === undefined) {
    throw new TypeError(argumentMessage(
        caller, arg, `must be one of ${INITIALIZATIONS.map((n) => `'${n}'`).join(', ')} (CentroidInitialization)`,
        value));
  }
  return name as CentroidInitialization;
}

/**
 * Reads a gradient aggregation (`'SUM'` or `'AVG'`, any case).
 *
 * @throws TypeError naming `caller`, the argument and the value otherwise.
 */
export function checkGradientAggregation(caller: string, arg: string, value: unknown): GradientAggregation {
  const name = typeof value === 'string' ? value.replace(/^GradientAggregation\./, '').toUpperCase() : value;
  if (typeof name !== 'string' || !AGGREGATIONS.includes(name)) {
    throw new TypeError(argumentMessage(caller, arg, "must be 'SUM' or 'AVG'", value));
  }
  return name as GradientAggregation;
}

/**
 * Checks a number of clusters: an integer above 1, above 2 with
 * `preserveSparsity` (one centroid is then held at zero), as tfmot requires.
 *
 * @throws TypeError when it is not an integer; RangeError when it is too small.
 */
export function checkNumberOfClusters(caller: string, value: unknown, preserveSparsity: boolean): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(argumentMessage(caller, 'numberOfClusters', 'must be an integer', value));
  }
  const min = preserveSparsity ? 3 : 2;
  if (value < min) {
    throw new RangeError(argumentMessage(
        caller, 'numberOfClusters', `must be >= ${min}${preserveSparsity ? ' with preserveSparsity' : ''}`, value));
  }
  return value;
}
