/**
 * tfmot's mask update, translated op for op into tfjs, as the reference the
 * suite measures this package's mask update against. It follows the steps of
 * tfmot's `pruning_impl.py` (`_update_mask` and the assignments that
 * `conditional_mask_update` makes): |w|, k from the sparsity, a full sort of
 * |w| with top-k over every element, the k-th value as the threshold, the
 * mask `|w| >= threshold`, then mask, threshold and `w * mask` assigned.
 * Everything stays on the device, as in TensorFlow.
 */
import * as tf from '@tensorflow/tfjs-core';
import type {LayerVariable} from '@tensorflow/tfjs-layers';

/** The variables one mask update writes: the weight, its mask and its threshold. */
export interface MaskedWeight {
  weight: LayerVariable;
  mask: LayerVariable;
  threshold: LayerVariable;
}

/** One mask update of `target` at `sparsity`, the way tfmot computes it. */
export function tfmotMaskUpdate(target: MaskedWeight, sparsity: number): void {
  const {weight, mask, threshold} = target;
  const [newMask, newThreshold, maskedWeight] = tf.tidy(() => {
    const absWeights = tf.abs(weight.read());
    const size = absWeights.size;
    // k = max(round(size * (1 - sparsity)), 1), in float32 as tfmot casts it, then to int32.
    const k = tf.cast(tf.maximum(tf.round(tf.mul(tf.scalar(size), tf.sub(1, tf.scalar(sparsity)))), 1), 'int32');
    const {values} = tf.topk(tf.reshape(absWeights, [-1]), size);
    const currentThreshold = tf.gather(values, tf.sub(k, tf.scalar(1, 'int32')));
    const updatedMask = tf.cast(tf.greaterEqual(absWeights, currentThreshold), 'float32');
    return [updatedMask, currentThreshold, tf.mul(weight.read(), updatedMask)];
  });
  for (const [variable, value] of [[mask, newMask], [threshold, newThreshold], [weight, maskedWeight]] as const) {
    variable.write(value);
    value.dispose();
  }
}
