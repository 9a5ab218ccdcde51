/**
 * clusterWeights and stripClustering: wrapping layers and whole models for
 * weight clustering, and removing the wrappers again. Mirrors tfmot's
 * `cluster.py`.
 *
 * Porting note: the caller's model and layers are never modified; layers are
 * wrapped as fresh copies rebuilt from their configs, with their weights
 * copied (see model_rewrite.ts).
 */
import * as tfl from '@tensorflow/tfjs-layers';

import {layersOf} from '../graph/model_graph';
import {isPruneLowMagnitude} from '../sparsity/pruning_wrapper';
import {splitInputShape, unwrapEntry, wrapEntry} from '../sparsity/model_rewrite';
import {argumentMessage, checkKnownKeys, checkOptionsObject} from '../util/validation';
import {
  CentroidInitialization, GradientAggregation, checkCentroidInitialization, checkGradientAggregation,
  checkNumberOfClusters,
} from './cluster_config';
import {ClusterWeights, isClusterWeights} from './cluster_wrapper';
import {clusterableWeightsOf, isClusterable, unclusterableMessage} from './clustering_registry';
import {ClusteringError} from './errors';
import {LayerEntry, deserializeInnerLayer, isSupportedModel, rebuildModel} from './model_rewrite';

type Layer = tfl.layers.Layer;

/** Parameters of {@link clusterWeights} (tfmot's keyword arguments, in camelCase). */
export interface ClusterWeightsParams {
  /** Centroids per clustered weight: an integer >= 2 (>= 3 with `preserveSparsity`). Required. */
  numberOfClusters: number;
  /** How the centroids start. Default `CentroidInitialization.KMEANS_PLUS_PLUS` (tfmot's default). */
  clusterCentroidsInit?: CentroidInitialization;
  /**
   * Keep every zero of the weights exactly zero, so that a pruned (and stripped) model keeps its
   * sparsity: one centroid is held at 0 and the zeros stay in its cluster. Default `false`.
   */
  preserveSparsity?: boolean;
  /** `'SUM'` (default, tfmot's) or `'AVG'`: how a centroid's gradient is formed from its members'. */
  clusterGradientAggregation?: GradientAggregation;
}

const KNOWN_PARAMS = ['numberOfClusters', 'clusterCentroidsInit', 'preserveSparsity', 'clusterGradientAggregation'];
const ACCEPTED =
    'a tf.layers.Layer, an array of layers, a tf.Sequential model or a functional tf.LayersModel (tf.model)';
const CALLER = 'clusterWeights';

/** The checked parameters, every option filled in. */
type ResolvedParams = Required<ClusterWeightsParams>;

function validateParams(params: unknown): ResolvedParams {
  checkOptionsObject(CALLER, 'params', params, false);
  const p = params as Partial<ClusterWeightsParams>;
  checkKnownKeys(CALLER, 'parameter', p, KNOWN_PARAMS);
  if (p.preserveSparsity !== undefined && typeof p.preserveSparsity !== 'boolean') {
    throw new TypeError(argumentMessage(CALLER, 'preserveSparsity', 'must be a boolean', p.preserveSparsity));
  }
  const preserveSparsity = p.preserveSparsity ?? false;
  return {
    numberOfClusters: checkNumberOfClusters(CALLER, p.numberOfClusters, preserveSparsity),
    clusterCentroidsInit: checkCentroidInitialization(
        CALLER, 'clusterCentroidsInit', p.clusterCentroidsInit ?? CentroidInitialization.KMEANS_PLUS_PLUS),
    preserveSparsity,
    clusterGradientAggregation: checkGradientAggregation(
        CALLER, 'clusterGradientAggregation', p.clusterGradientAggregation ?? 'SUM'),
  };
}

/** Refuses a layer that is still wrapped for pruning. */
function checkNotPruned(layer: Layer): void {
  if (isPruneLowMagnitude(layer)) {
    throw new ClusteringError(`${CALLER}: layer "${layer.name}" is a PruneLowMagnitude wrapper; strip the pruning ` +
        'first (stripPruning(model)), then cluster with preserveSparsity: true to keep its zeros.');
  }
}

/** Wraps a copy of one layer (an existing wrapper is returned as it is). */
function wrapLayer(layer: Layer, params: ResolvedParams): ClusterWeights {
  if (isClusterWeights(layer)) return layer;
  if (layer instanceof tfl.LayersModel) {
    throw new TypeError(`${CALLER}: model "${layer.name}" found inside an array of layers; pass models on their own.`);
  }
  checkNotPruned(layer);
  if (!isClusterable(layer)) throw new ClusteringError(unclusterableMessage(CALLER, layer));
  const {innerConfig, wrapperArgs} = splitInputShape(layer);
  const copy = deserializeInnerLayer(CALLER, {className: layer.getClassName(), config: innerConfig});
  const wrapper = new ClusterWeights({layer: copy, ...params, ...wrapperArgs});
  if (layer.built) wrapper.setInitialWeightsFrom(layer);
  return wrapper;
}

/** Whether a model's layer is wrapped: it has weights to cluster. Throws for layers with weights it cannot cluster. */
function shouldWrap(layer: Layer): boolean {
  if (layer.getClassName() === 'InputLayer' || isClusterWeights(layer)) return false;
  checkNotPruned(layer);
  if (!isClusterable(layer)) {
    if (layer.weights.length === 0) return false;
    throw new ClusteringError(unclusterableMessage(CALLER, layer));
  }
  return !layer.built || clusterableWeightsOf(layer).length > 0;
}

function clusterModel(model: tfl.LayersModel, params: ResolvedParams): tfl.LayersModel {
  const selected = new Set([...layersOf(model.layers)].filter(shouldWrap));
  const rewrite = (layer: Layer, entry: LayerEntry, isFirst: boolean): LayerEntry | undefined => {
    if (!selected.has(layer)) return undefined;
    return wrapEntry(entry, isFirst, ClusterWeights.className, {
      name: `cluster_${layer.name}`,
      trainable: entry.config['trainable'] ?? true,
      ...params,
    });
  };
  return rebuildModel(model, rewrite, (l) => (isClusterWeights(l) ? l.layer.name : l.name), (source, target) => {
    if (isClusterWeights(target) && !isClusterWeights(source)) {
      target.copyInnerWeightsFrom(source);
    } else {
      target.setWeights(source.getWeights());
    }
  });
}

/**
 * Wraps a layer, a list of layers or every layer of a model with
 * {@link ClusterWeights}, so that each clustered weight (kernels, never
 * biases) holds at most `numberOfClusters` distinct values, trained with the
 * model (tfmot's `cluster_weights`).
 *
 * - A layer gives a wrapper around a fresh copy of it (its weights are copied
 *   and its clusters initialized when the wrapper is built); an existing
 *   wrapper is returned as it is.
 * - An array gives an array, each layer wrapped.
 * - A `Sequential` or functional model (nested models included) gives a new
 *   model of the same kind where every layer with weights to cluster is
 *   wrapped, weights copied and clusters initialized from them. Layers without
 *   such weights (pooling, dropout, normalization...) stay as they are.
 *   Compile it again before training.
 *
 * Train it with a plain `fit` (no callback is needed). To cluster a pruned
 * model, strip it first and pass `preserveSparsity: true`: its zeros then stay
 * exactly zero. The input is never modified.
 *
 * @param toCluster The layer(s) or model to cluster.
 * @param params `{numberOfClusters, clusterCentroidsInit?, preserveSparsity?, clusterGradientAggregation?}`.
 * @returns The same kind of object, wrapped.
 * @throws TypeError for any other kind of input, a missing or mistyped parameter, or an unknown one;
 *   RangeError when `numberOfClusters` is below 2 (3 with `preserveSparsity`); ClusteringError naming the
 *   first layer with weights that cannot be clustered, or a PruneLowMagnitude wrapper (strip it first).
 *
 * @example
 * ```ts
 * import {CentroidInitialization, clusterWeights, stripClustering} from 'tfjs-model-optimization';
 *
 * const clustered = clusterWeights(model, {
 *   numberOfClusters: 16,
 *   clusterCentroidsInit: CentroidInitialization.KMEANS_PLUS_PLUS,
 * });
 * clustered.compile({optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy']});
 * await clustered.fit(xs, ys, {batchSize: 50, epochs: 1});
 * const deployable = stripClustering(clustered);
 * ```
 *
 * @category Clustering
 */
export function clusterWeights(toCluster: tfl.Sequential, params: ClusterWeightsParams): tfl.Sequential;
export function clusterWeights(toCluster: tfl.LayersModel, params: ClusterWeightsParams): tfl.LayersModel;
export function clusterWeights(toCluster: Layer[], params: ClusterWeightsParams): ClusterWeights[];
export function clusterWeights(toCluster: Layer, params: ClusterWeightsParams): ClusterWeights;
export function clusterWeights(toCluster: Layer | Layer[], params: ClusterWeightsParams): Layer | Layer[] {
  const resolved = validateParams(params);
  if (Array.isArray(toCluster)) {
    toCluster.forEach((layer, i) => {
      if (!(layer instanceof tfl.layers.Layer)) {
        throw new TypeError(argumentMessage(CALLER, `toCluster[${i}]`, 'must be a tf.layers.Layer', layer));
      }
    });
    return toCluster.map((layer) => wrapLayer(layer, resolved));
  }
  if (toCluster instanceof tfl.LayersModel) {
    if (!isSupportedModel(toCluster)) {
      const model = toCluster as tfl.LayersModel;
      throw new TypeError(`${CALLER}: 'toCluster' must be ${ACCEPTED}, but got the subclassed model ` +
          `"${model.name}" (class ${model.getClassName()}); rebuild it as a Sequential or functional model.`);
    }
    return clusterModel(toCluster, resolved);
  }
  if (toCluster instanceof tfl.layers.Layer) return wrapLayer(toCluster, resolved);
  throw new TypeError(argumentMessage(CALLER, 'toCluster', `must be ${ACCEPTED}`, toCluster));
}

/**
 * Removes every {@link ClusterWeights} wrapper from a model (tfmot's
 * `strip_clustering`): a new model of the same kind where each wrapper is
 * replaced by its inner layer holding the clustered weights, so that every
 * clustered kernel holds at most `numberOfClusters` distinct values (zeros
 * kept exactly with `preserveSparsity`), with no centroid or index left. Its
 * config is that of the model before clustering, so it loads in stock tfjs
 * and quantizes with {@link quantizeDynamicRange}. The input is not
 * modified.
 *
 * @param model A clustered (or plain) Sequential or functional model.
 * @returns The stripped model (not compiled).
 * @throws TypeError when `model` is not a Sequential or functional model; ClusteringError when a weight holds NaN.
 *
 * @example
 * ```ts
 * import {clusterWeights, quantizeDynamicRange, stripClustering} from 'tfjs-model-optimization';
 *
 * const clustered = clusterWeights(model, {numberOfClusters: 8});
 * const deployable = stripClustering(clustered);
 * const artifacts = await quantizeDynamicRange(deployable);
 * ```
 *
 * @category Clustering
 */
export function stripClustering<T extends tfl.LayersModel>(model: T): T {
  if (!isSupportedModel(model)) {
    throw new TypeError(argumentMessage(
        'stripClustering', 'model', 'must be a tf.Sequential or functional tf.LayersModel', model));
  }
  const wrapperNames = new Map<string, string>();
  for (const layer of [...layersOf(model.layers)]) if (isClusterWeights(layer)) wrapperNames.set(layer.layer.name, layer.name);
  const rewrite = (layer: Layer, entry: LayerEntry): LayerEntry | undefined => {
    return isClusterWeights(layer) ? unwrapEntry(entry) : undefined;
  };
  return rebuildModel(model, rewrite, (l) => wrapperNames.get(l.name) ?? l.name, (source, target) => {
    if (!isClusterWeights(source)) {
      target.setWeights(source.getWeights());
      return;
    }
    const clustered = new Map(source.clusteredValues().map(({weight, value}) => [weight, value]));
    target.setWeights(source.layer.weights.map((w) => clustered.get(w) ?? w.read()));
  }) as T;
}
