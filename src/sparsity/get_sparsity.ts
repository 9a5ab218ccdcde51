/**
 * getSparsity: the fraction of zeros of every pruned (or prunable) weight of
 * a model or layer. Porting note: tfmot has no such function (its users read
 * the weights); it lives beside prune.ts, which re-exports it.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {layersOf} from '../graph/model_graph';
import {argumentMessage} from '../util/validation';
import {isPrunable, prunableWeightsOf} from './prune_registry';
import type {PrunedWeight} from './pruning_impl';
import {PruneLowMagnitude} from './pruning_wrapper';

type Layer = tfl.layers.Layer;

/** The sparsity of one pruned (or prunable) weight. */
export interface WeightSparsity {
  /** Name of the layer that owns the weight (the inner layer's name for a wrapper). */
  layer: string;
  /** The weight's name as saved (e.g. `prune_low_magnitude_dense/kernel` or `dense/kernel`). */
  weight: string;
  /** Number of elements. */
  size: number;
  /** Number of elements that are exactly zero (in `weight * mask` for a wrapper). */
  zeros: number;
  /** `zeros / size`. */
  sparsity: number;
}

/**
 * Measures the sparsity of every pruned weight of a model or layer: for each
 * {@link PruneLowMagnitude} wrapper, its masked weights; for a plain (e.g.
 * stripped) model, the prunable weights of the registry's layers (kernels,
 * embeddings, recurrent kernels; never biases). Layers that cannot be pruned
 * are skipped.
 *
 * @param modelOrLayer A model, a layer, or an array of layers.
 * @returns One entry per weight, in layer order.
 * @throws TypeError when the input is not a model or layer(s).
 *
 * @example
 * ```ts
 * import {getSparsity, stripPruning} from 'tfjs-model-optimization';
 *
 * const stripped = stripPruning(pruned);
 * for (const w of await getSparsity(stripped)) {
 *   console.log(`${w.weight}: ${(100 * w.sparsity).toFixed(2)}% zeros`);
 * }
 * ```
 *
 * @category Pruning
 */
export async function getSparsity(modelOrLayer: Layer | Layer[]): Promise<WeightSparsity[]> {
  const layers = Array.isArray(modelOrLayer) ? modelOrLayer : [modelOrLayer];
  layers.forEach((layer, i) => {
    if (!(layer instanceof tfl.layers.Layer)) {
      throw new TypeError(argumentMessage(
          'getSparsity', Array.isArray(modelOrLayer) ? `modelOrLayer[${i}]` : 'modelOrLayer',
          'must be a tf.LayersModel or tf.layers.Layer', layer));
    }
  });
  const results: WeightSparsity[] = [];
  for (const layer of layersOf(layers)) {
    if (!layer.built) continue;
    if (layer instanceof PruneLowMagnitude) {
      for (const pruned of layer.getPrunedWeights()) {
        results.push({layer: layer.layer.name, weight: pruned.weight.originalName, ...await countMaskedZeros(pruned)});
      }
    } else if (isPrunable(layer)) {
      for (const weight of prunableWeightsOf(layer)) {
        results.push({layer: layer.name, weight: weight.originalName, ...await countZeros(weight.read())});
      }
    }
  }
  return results;
}

/** The zeros of a tensor: its size, how many values are exactly 0, and their fraction (0 when empty). */
export async function countZeros(values: tf.Tensor): Promise<{size: number; zeros: number; sparsity: number}> {
  const data = await values.data();
  let zeros = 0;
  for (let i = 0; i < data.length; i++) if (data[i] === 0) zeros++;
  return {size: data.length, zeros, sparsity: data.length === 0 ? 0 : zeros / data.length};
}

/** The zeros of `weight * mask` (the weight as the forward pass sees it). */
export async function countMaskedZeros({weight, mask}: Pick<PrunedWeight, 'weight' | 'mask'>):
    Promise<{size: number; zeros: number; sparsity: number}> {
  const masked = tf.tidy(() => tf.mul(weight.read(), mask.read()));
  try {
    return await countZeros(masked);
  } finally {
    masked.dispose();
  }
}

