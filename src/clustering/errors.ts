import {PackageError, brandErrorClass} from '../util/package_error';

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
export class ClusteringError extends PackageError {
  /**
   * @param message What went wrong and how to fix it.
   */
  constructor(message: string) {
    super(message, 'ClusteringError');
  }
}
brandErrorClass(ClusteringError, 'ClusteringError');
