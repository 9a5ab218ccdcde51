/**
 * The interface a custom layer implements to be clustered (tfmot's
 * `ClusterableLayer`).
 *
 * Porting note: tfmot's `get_clusterable_weights()` returns `(name, weight)`
 * pairs; here the variables alone, as {@link PrunableLayer} does (their names
 * are the variables' own).
 */
import type {LayerVariable} from '@tensorflow/tfjs-layers';

/**
 * A layer that says which of its weights are clustered. Implement it on your
 * own `tf.layers.Layer` subclasses to make them work with
 * {@link clusterWeights} (built-in classes are known to the package).
 *
 * `getClusterableWeights()` is called after the layer is built and must return
 * some of the layer's own float32 weights (usually kernels, never biases).
 * The layer must read them with `variable.read()` in `call`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import {ClusterableLayer} from 'tfjs-model-optimization';
 *
 * class MyDense extends tf.layers.Layer implements ClusterableLayer {
 *   static className = 'MyClusterableDense';
 *   private kernel!: tf.LayerVariable;
 *   override build(inputShape: tf.Shape) {
 *     this.kernel = this.addWeight('kernel', [inputShape[1] as number, 4], 'float32',
 *                                  tf.initializers.glorotUniform({}));
 *     this.built = true;
 *   }
 *   override call(inputs: tf.Tensor | tf.Tensor[]) {
 *     return tf.matMul(inputs as tf.Tensor2D, this.kernel.read() as tf.Tensor2D);
 *   }
 *   override computeOutputShape(inputShape: tf.Shape) { return [inputShape[0], 4]; }
 *   getClusterableWeights() { return [this.kernel]; }
 * }
 * tf.serialization.registerClass(MyDense);
 * ```
 *
 * @category Clustering
 */
export interface ClusterableLayer {
  /** Returns the weights to cluster (built layer). */
  getClusterableWeights(): LayerVariable[];
}

/**
 * Whether `layer` implements {@link ClusterableLayer}.
 *
 * @param layer Any value.
 * @returns `true` when it has a `getClusterableWeights` method.
 * @category Clustering
 */
export function isClusterableLayer(layer: unknown): layer is ClusterableLayer {
  return typeof layer === 'object' && layer !== null &&
      typeof (layer as Partial<ClusterableLayer>).getClusterableWeights === 'function';
}
