import {isBrandedInstance, packageBrand, setBrand} from '../util/registry';

/** The brand of ClusteringError, in every build of this package (see util/registry.ts). */
const ERROR_BRAND = packageBrand('ClusteringError');

/**
 * A failure of the clustering domain rather than a bad argument: a layer
 * that cannot be clustered, a weight that holds NaN, a model still wrapped
 * for pruning. Bad arguments throw `TypeError` or `RangeError` instead.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import {ClusteringError, clusterWeights} from 'tfjs-model-optimization';
 *
 * try {
 *   clusterWeights(tf.layers.convLstm2d({filters: 2, kernelSize: 3}), {numberOfClusters: 8});
 * } catch (e) {
 *   if (e instanceof ClusteringError) console.log(e.message);
 * }
 * ```
 *
 * @category Errors
 */
export class ClusteringError extends Error {
  /**
   * @param message What went wrong and how to fix it.
   */
  constructor(message: string) {
    super(message);
    this.name = 'ClusteringError';
    Object.setPrototypeOf(this, new.target.prototype);
  }

  /**
   * `error instanceof ClusteringError` holds for the errors of every build of
   * this package loaded in the process (its ESM and its CJS build).
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBrandedInstance(this, ClusteringError, ERROR_BRAND, value);
  }
}
setBrand(ClusteringError.prototype, ERROR_BRAND);
