/**
 * Which layers can be clustered, and which of their weights. Mirrors tfmot's
 * `clustering_registry.py`: kernels of Dense and convolution layers, the
 * depthwise kernel of DepthwiseConv2D, the pointwise kernel of
 * SeparableConv2D, embeddings, the kernel and recurrent kernel of recurrent
 * cells; never biases. Weightless layers (pooling, dropout, activations,
 * normalizations...) are accepted with nothing to cluster.
 *
 * Porting note: the built-in classes are those of the pruning registry
 * (prune_registry.ts), with tfmot's one difference: DepthwiseConv2D's kernel is
 * clustered (it is not pruned).
 */
import * as tfl from '@tensorflow/tfjs-layers';
import type {LayerVariable} from '@tensorflow/tfjs-layers';

import {isPrunable, prunableWeightsOf, registeredClassNames} from '../sparsity/prune_registry';
import {isClusterableLayer} from './clusterable_layer';
import {ClusteringError} from './errors';

type Layer = tfl.layers.Layer;

const BUILT_IN = new Set(registeredClassNames());

/**
 * Whether `layer` can be wrapped by {@link ClusterWeights}: a
 * {@link ClusterableLayer}, or a built-in class of the registry (an exact
 * class match; for Bidirectional, TimeDistributed and recurrent layers, what
 * they wrap must be clusterable too).
 *
 * @param layer A tfjs-layers layer.
 * @returns `true` when the layer can be clustered (possibly with nothing to cluster).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import {isClusterable} from 'tfjs-model-optimization';
 *
 * isClusterable(tf.layers.dense({units: 2})); // true
 * isClusterable(tf.layers.convLstm2d({filters: 2, kernelSize: 3})); // false
 * ```
 *
 * @category Clustering
 */
export function isClusterable(layer: Layer): boolean {
  if (isClusterableLayer(layer)) return true;
  return BUILT_IN.has(layer.getClassName()) && isPrunable(layer);
}

/** The message for a layer that cannot be clustered, naming the way to make it clusterable. */
export function unclusterableMessage(caller: string, layer: Layer): string {
  const className = layer.getClassName();
  return `${caller}: layer "${layer.name}" (class ${className}) cannot be clustered: ${className} is not one of the ` +
      'built-in clusterable classes (an exact class match: subclasses are not included). To cluster it, implement ' +
      `the ClusterableLayer interface on ${className}: a getClusterableWeights() method returning the weights to ` +
      'cluster.';
}

/**
 * The weights of a built layer that clustering replaces by centroids.
 *
 * @param layer A built layer for which {@link isClusterable} is true.
 * @returns The variables to cluster, possibly none.
 * @throws ClusteringError when the layer cannot be clustered.
 */
export function clusterableWeightsOf(layer: Layer): LayerVariable[] {
  if (isClusterableLayer(layer)) return layer.getClusterableWeights();
  if (!isClusterable(layer)) throw new ClusteringError(unclusterableMessage('ClusterWeights', layer));
  if (layer.getClassName() === 'DepthwiseConv2D') {
    const kernel = (layer as unknown as {depthwiseKernel?: unknown}).depthwiseKernel;
    return kernel instanceof tfl.LayerVariable ? [kernel] : [];
  }
  return prunableWeightsOf(layer);
}
