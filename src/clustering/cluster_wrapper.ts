/**
 * The ClusterWeights layer: wraps a clusterable layer and owns, per clustered
 * weight, its centroids (trainable), its pulling indices and, with sparsity
 * preservation, its sparsity mask. Mirrors tfmot's `cluster_wrapper.py`.
 *
 * Porting notes:
 * - It subclasses `tf.layers.Layer`, not tfjs's internal `Wrapper`, so that
 *   the centroids and indices are in `model.weights` (and saved).
 * - The forward pass runs the inner layer on the clustered weights by
 *   shadowing the inner variables' `read()` for the duration of the call.
 * - The sparsity mask is a saved weight (tfmot recomputes it at build time,
 *   before a reload's weights are in place), so a reloaded model resumes
 *   exactly.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {LayerVariable} from '@tensorflow/tfjs-layers';

import {LayerWrapper} from '../sparsity/layer_wrapper';
import {isPruneLowMagnitude} from '../sparsity/pruning_wrapper';
import {hasBrand, isBrandedInstance, packageBrand, registerPackageClass, setBrand} from '../util/registry';
import {argumentMessage, checkKnownKeys, checkNoProtoKeys, deepCopy} from '../util/validation';
import {
  CentroidInitialization, GradientAggregation, checkCentroidInitialization, checkGradientAggregation,
  checkNumberOfClusters,
} from './cluster_config';
import {clusteredWeight, effectiveCentroids, nearestCentroidIndices} from './clustering_algorithm';
import {initialCentroids} from './clustering_centroids';
import {clusterableWeightsOf, isClusterable, unclusterableMessage} from './clustering_registry';
import {ClusteringError} from './errors';
import {deserializeInnerLayer} from './model_rewrite';

type Layer = tfl.layers.Layer;
type LayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;

/** Arguments of {@link ClusterWeights}. */
export interface ClusterWeightsArgs extends LayerArgs {
  /** The layer to wrap. The wrapper owns it from then on (use {@link clusterWeights} to keep yours intact). */
  layer: Layer;
  /** The number of centroids per clustered weight: an integer >= 2 (>= 3 with `preserveSparsity`). Required. */
  numberOfClusters: number;
  /** How the centroids start. Default `CentroidInitialization.KMEANS_PLUS_PLUS` (tfmot's). */
  clusterCentroidsInit?: CentroidInitialization;
  /**
   * Keep every zero of the weights exactly zero (a pruned model stays as sparse): one centroid is held
   * at 0, and the zeros stay in its cluster. Default `false`.
   */
  preserveSparsity?: boolean;
  /** How a centroid's gradient is formed from its members' gradients. Default `'SUM'` (tfmot's). */
  clusterGradientAggregation?: GradientAggregation;
}

/** One clustered weight with the variables that cluster it. */
export interface ClusteredWeight {
  /** The inner layer's weight (trained through the straight-through estimator). */
  weight: LayerVariable;
  /** Its `numberOfClusters` centroids (trainable, saved). */
  centroids: LayerVariable;
  /** int32, the weight's shape: the index of each element's centroid at the last training call (saved). */
  indices: LayerVariable;
  /** With `preserveSparsity`: 1 where the weight was non-zero when clustering began, else 0 (saved); else null. */
  mask: LayerVariable | null;
}

/** The clustered value of one weight, as the forward pass uses it. */
export interface ClusteredValue {
  /** The inner layer's weight. */
  weight: LayerVariable;
  /** Its clustered value (each element its centroid's value). */
  value: tf.Tensor;
  /** The centroid index of each element, flat. */
  indices: Int32Array;
}

const WRAPPER_BRAND = packageBrand('ClusterWeights');

const CONFIG_KEYS = [
  'layer', 'numberOfClusters', 'clusterCentroidsInit', 'preserveSparsity', 'clusterGradientAggregation',
  'name', 'trainable', 'dtype', 'batchInputShape', 'inputShape', 'batchSize', 'inputDType', 'customObjects',
];

/** Writes `value` into `variable` and disposes `value`. */
function assign(variable: LayerVariable, value: tf.Tensor): void {
  try {
    variable.write(value);
  } finally {
    value.dispose();
  }
}

/**
 * A layer that clusters the weights of the layer it wraps: each weight takes
 * the value of its nearest centroid, and training moves the centroids (each
 * by the sum of its members' gradients) and the original weights (straight
 * through), re-assigning weights to their nearest centroid at every call.
 * Use {@link clusterWeights} to create it and {@link stripClustering} to
 * remove it.
 *
 * It is named `cluster_<inner name>` and holds, per clustered weight,
 * `cluster_centroids_<weight>`, `pulling_indices_<weight>` (int32) and, with
 * `preserveSparsity`, `sparsity_mask_<weight>`, all saved with the model.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import {ClusterWeights, CentroidInitialization} from 'tfjs-model-optimization';
 *
 * const wrapper = new ClusterWeights({
 *   layer: tf.layers.dense({units: 10}),
 *   numberOfClusters: 16,
 *   clusterCentroidsInit: CentroidInitialization.LINEAR,
 * });
 * wrapper.name; // 'cluster_dense_Dense1'
 * ```
 *
 * @category Clustering
 */
export class ClusterWeights extends LayerWrapper {
  /** Name under which the class is registered for serialization (tfmot's name). */
  static className = 'ClusterWeights';

  /** The number of centroids per clustered weight. */
  readonly numberOfClusters: number;
  /** How the centroids were initialized. */
  readonly clusterCentroidsInit: CentroidInitialization;
  /** Whether the zeros of the weights are kept exactly. */
  readonly preserveSparsity: boolean;
  /** How a centroid's gradient is formed from its members' gradients. */
  readonly clusterGradientAggregation: GradientAggregation;

  private clustered: ClusteredWeight[] = [];
  private deferInitialization = false;

  /** `instanceof` for the wrappers of every build of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBrandedInstance(this, ClusterWeights, WRAPPER_BRAND, value);
  }

  /**
   * @param args See {@link ClusterWeightsArgs}.
   * @throws TypeError when `layer` is not a single tfjs layer or an option has the wrong type; RangeError when
   *   `numberOfClusters` is too small; ClusteringError when the layer cannot be clustered (or is a wrapper).
   */
  constructor(args: ClusterWeightsArgs) {
    const caller = 'ClusterWeights';
    const layer = args?.layer;
    if (!(layer instanceof tfl.layers.Layer) || layer instanceof tfl.LayersModel) {
      throw new TypeError(argumentMessage(caller, 'layer', 'must be a single tf.layers.Layer (not a model)', layer));
    }
    const {
      layer: _layer, numberOfClusters, clusterCentroidsInit, preserveSparsity, clusterGradientAggregation, ...layerArgs
    } = args;
    if (preserveSparsity !== undefined && typeof preserveSparsity !== 'boolean') {
      throw new TypeError(argumentMessage(caller, 'preserveSparsity', 'must be a boolean', preserveSparsity));
    }
    const k = checkNumberOfClusters(caller, numberOfClusters, preserveSparsity ?? false);
    const init = checkCentroidInitialization(caller, 'clusterCentroidsInit', clusterCentroidsInit ?? 'KMEANS_PLUS_PLUS');
    const aggregation = checkGradientAggregation(caller, 'clusterGradientAggregation', clusterGradientAggregation ?? 'SUM');
    super({...layerArgs, name: layerArgs.name ?? `cluster_${layer.name}`});
    if (isClusterWeights(layer)) {
      throw new ClusteringError(`ClusterWeights: layer "${layer.name}" is already a ClusterWeights wrapper; ` +
          'wrappers cannot be nested.');
    }
    if (isPruneLowMagnitude(layer)) {
      throw new ClusteringError(`ClusterWeights: layer "${layer.name}" is a PruneLowMagnitude wrapper; strip the ` +
          'pruning first (stripPruning(model)), then cluster with preserveSparsity: true to keep its zeros.');
    }
    if (!isClusterable(layer)) throw new ClusteringError(unclusterableMessage(caller, layer));
    this.attachInnerLayer(layer, layerArgs.trainable);
    this.numberOfClusters = k;
    this.clusterCentroidsInit = init;
    this.preserveSparsity = preserveSparsity ?? false;
    this.clusterGradientAggregation = aggregation;
  }

  /** The inner layer's trainable weights, then the centroids (none when not trainable). */
  override get trainableWeights(): LayerVariable[] {
    return this.trainable ? this.layer.trainableWeights.concat(super.trainableWeights) : [];
  }

  /** Forwards the fast-initialization flag (set while a saved model loads: its weights come from the file). */
  override setFastWeightInitDuringBuild(value: boolean): void {
    super.setFastWeightInitDuringBuild(value);
    this.deferInitialization = value;
  }

  /**
   * Builds the inner layer, adds the centroids, indices and masks, and
   * initializes them from the weights (unless a saved model is loading).
   *
   * @throws ClusteringError when a clustered weight is not float32.
   */
  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    this.buildInnerWithWeights(inputShape);
    this.clustered = clusterableWeightsOf(this.layer).map((weight) => {
      if (weight.dtype !== 'float32') {
        throw new ClusteringError(`ClusterWeights: weight "${weight.originalName}" of layer "${this.layer.name}" ` +
            `has dtype ${weight.dtype}; only float32 weights can be clustered.`);
      }
      const suffix = this.relativeWeightName(weight);
      const centroids = this.addWeight(`cluster_centroids_${suffix}`, [this.numberOfClusters], 'float32',
          tfl.initializers.zeros(), undefined, true);
      const indices = this.addWeight(`pulling_indices_${suffix}`, weight.shape, 'int32',
          tfl.initializers.zeros(), undefined, false);
      const mask = this.preserveSparsity ? this.addWeight(`sparsity_mask_${suffix}`, weight.shape, 'float32',
          tfl.initializers.ones(), undefined, false) : null;
      return {weight, centroids, indices, mask};
    });
    if (!this.deferInitialization) this.initializeClusters();
    this.built = true;
  }

  /**
   * Starts clustering again from the inner layer's current weights: the
   * sparsity masks (with `preserveSparsity`), the centroids by
   * `clusterCentroidsInit`, and the pulling indices.
   */
  initializeClusters(): void {
    for (const {weight, centroids, indices, mask} of this.clustered) {
      const values = weight.read().dataSync() as Float32Array;
      let maskValues: Float32Array | null = null;
      if (mask !== null) {
        maskValues = values.map((v) => (v === 0 ? 0 : 1));
        assign(mask, tf.tensor(maskValues, weight.shape as number[], 'float32'));
      }
      const initial = initialCentroids(this.clusterCentroidsInit, values, this.numberOfClusters, this.preserveSparsity);
      assign(centroids, tf.tensor1d(initial, 'float32'));
      const used = effectiveCentroids(initial, this.preserveSparsity).centroids;
      const nearest = nearestCentroidIndices(values, used, maskValues, weight.originalName);
      assign(indices, tf.tensor(nearest, weight.shape as number[], 'int32'));
    }
  }

  /**
   * Copies the weights of `source` into the inner layer now and initializes
   * the clusters from them (the wrapper must be built). {@link clusterWeights}
   * uses it for the models it rebuilds.
   *
   * @throws ClusteringError when the weights' shapes differ from `source`'s.
   */
  override copyInnerWeightsFrom(source: Layer): void {
    super.copyInnerWeightsFrom(source);
    this.initializeClusters();
  }

  protected override checkSameWeightShapes(source: Layer): void {
    const shapes = (layer: Layer) => `[${layer.weights.map((w) => `[${w.shape.join(', ')}]`).join(', ')}]`;
    if (shapes(this.layer) !== shapes(source)) {
      throw new ClusteringError(`ClusterWeights: layer "${this.layer.name}" (class ${this.layer.getClassName()}) ` +
          `rebuilt from its config has weights of shapes ${shapes(this.layer)}, but the layer it copies has ` +
          `${shapes(source)}; a custom layer's getConfig() must return every constructor argument.`);
    }
  }

  /** `weight`'s name below the wrapper's scope, with `/` as `_` (e.g. `kernel`). */
  private relativeWeightName(weight: LayerVariable): string {
    const scope = `${this.name}/`;
    const name = weight.originalName.startsWith(scope) ? weight.originalName.slice(scope.length) : weight.originalName;
    return name.replace(/\//g, '_');
  }

  /**
   * The clustered value of every clustered weight, differentiable with
   * respect to the weight (straight through) and the centroids (summed or
   * averaged per cluster); the caller disposes the tensors.
   */
  clusteredValues(): ClusteredValue[] {
    return this.clustered.map(({weight, centroids, mask}) => ({
      weight,
      ...clusteredWeight({
        weight: weight.read(), centroids: centroids.read(), mask: mask === null ? null : mask.read(),
        aggregation: this.clusterGradientAggregation, name: weight.originalName,
      }),
    }));
  }

  /**
   * Runs the inner layer on the clustered weights; in training, stores the
   * new pulling indices.
   *
   * @throws ClusteringError when a weight holds NaN.
   */
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    return tf.tidy(() => {
      const shadowed: LayerVariable[] = [];
      try {
        for (const {weight, value, indices} of this.clusteredValues()) {
          if (kwargs?.['training'] === true) {
            const stored = this.clustered.find((c) => c.weight === weight)!.indices;
            assign(stored, tf.tensor(indices, weight.shape as number[], 'int32'));
          }
          Object.defineProperty(weight, 'read', {value: () => value, configurable: true, writable: true});
          shadowed.push(weight);
        }
        return this.layer.call(inputs, kwargs);
      } finally {
        for (const weight of shadowed) delete (weight as unknown as {read?: unknown}).read;
      }
    });
  }

  /** The clustered weights with their centroids, indices and masks (empty before the wrapper is built). */
  getClusteredWeights(): readonly ClusteredWeight[] {
    return this.clustered;
  }

  /**
   * `{layer: {className, config}, numberOfClusters, clusterCentroidsInit,
   * preserveSparsity, clusterGradientAggregation}` plus the base layer config.
   */
  override getConfig(): tf.serialization.ConfigDict {
    return {
      layer: this.innerLayerConfig(),
      numberOfClusters: this.numberOfClusters,
      clusterCentroidsInit: this.clusterCentroidsInit,
      preserveSparsity: this.preserveSparsity,
      clusterGradientAggregation: this.clusterGradientAggregation,
      ...super.getConfig(),
    };
  }

  /**
   * Rebuilds a wrapper from its config (the inner layer through tfjs's class
   * registry). The config is not modified.
   *
   * @throws TypeError for an unknown key, a `__proto__` key, or an inner layer that is not a registered single
   *   layer; whatever the constructor throws.
   */
  static override fromConfig<T extends tf.serialization.Serializable>(
      cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    const caller = 'ClusterWeights.fromConfig';
    checkKnownKeys(caller, 'config key', config, CONFIG_KEYS,
        'A model saved by a newer version of tfjs-model-optimization needs that version to load.');
    checkNoProtoKeys(caller, 'config', config);
    const {layer, ...rest} = config;
    const inner = deserializeInnerLayer(caller, layer);
    try {
      return new cls({...deepCopy(rest), layer: inner});
    } catch (e) {
      for (const weight of inner.weights) weight.dispose();
      throw e;
    }
  }
}
setBrand(ClusterWeights.prototype, WRAPPER_BRAND);
registerPackageClass(ClusterWeights);

/** Whether `value` is a {@link ClusterWeights} wrapper of any build of this package. */
export function isClusterWeights(value: unknown): value is ClusterWeights {
  return hasBrand(value, WRAPPER_BRAND);
}
