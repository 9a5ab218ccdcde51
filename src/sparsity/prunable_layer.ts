/**
 * The interface a custom layer implements to be pruned (tfmot's `PrunableLayer`).
 */
import type {LayerVariable} from '@tensorflow/tfjs-layers';

/**
 * A layer that says which of its weights are pruned. Implement it on your own
 * `tf.layers.Layer` subclasses (or on a subclass of a built-in layer, which is
 * not prunable automatically) to make them work with {@link pruneLowMagnitude}.
 *
 * `getPrunableWeights()` is called after the layer is built and must return
 * some of the layer's own float32 weights (usually kernels, never biases).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import {PrunableLayer} from 'tfjs-model-optimization';
 *
 * class MyDense extends tf.layers.Layer implements PrunableLayer {
 *   static className = 'MyDense';
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
 *   getPrunableWeights() { return [this.kernel]; }
 * }
 * tf.serialization.registerClass(MyDense);
 * ```
 *
 * @category Pruning
 */
export interface PrunableLayer {
  /** Returns the weights to prune (built layer). */
  getPrunableWeights(): LayerVariable[];
}

/**
 * Whether `layer` implements {@link PrunableLayer}.
 *
 * @param layer Any value.
 * @returns `true` when it has a `getPrunableWeights` method.
 * @category Pruning
 */
export function isPrunableLayer(layer: unknown): layer is PrunableLayer {
  return typeof layer === 'object' && layer !== null &&
      typeof (layer as Partial<PrunableLayer>).getPrunableWeights === 'function';
}
