/**
 * Rebuilding a Sequential or functional model with some of its layers
 * replaced, for clusterWeights and stripClustering, and rebuilding a single
 * layer from its serialized form, for ClusterWeights.fromConfig.
 *
 * Porting note: tfjs-layers has no `clone_model`; as pruning does, the model
 * is rebuilt from a rewritten copy of `model.getConfig()`
 * (sparsity/model_rewrite.ts) and its weights are copied layer by layer. The
 * input model is never modified.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {modelFromConfig, pairLayers, rewriteModelConfig} from '../sparsity/model_rewrite';
import {lookupRegisteredClass} from '../util/registry';
import {argumentMessage, checkNoProtoKeys, deepCopy, describeValue} from '../util/validation';

type Layer = tfl.layers.Layer;
type ConfigDict = tf.serialization.ConfigDict;

/** A layer entry of a model's config (TS form). */
export interface LayerEntry {
  name?: string;
  className: string;
  config: ConfigDict;
  inboundNodes?: unknown[];
}

/** A replacement for one layer entry, or undefined to keep it. */
export type Rewrite = (layer: Layer, entry: LayerEntry, isFirstOfSequential: boolean) => LayerEntry | undefined;

const MODEL_CLASS_NAMES = new Set(['Sequential', 'Model', 'Functional']);

/** Whether `value` is a Sequential or functional model (not a subclassed one). */
export function isSupportedModel(value: unknown): value is tfl.LayersModel {
  return value instanceof tfl.LayersModel && MODEL_CLASS_NAMES.has(value.getClassName());
}

/**
 * A new model of `model`'s kind with each layer entry `rewrite` replaces,
 * whose weights `copy` fills from the source layers (in a tidy).
 */
export function rebuildModel(
    model: tfl.LayersModel, rewrite: Rewrite, sourceName: (layer: Layer) => string,
    copy: (source: Layer, target: Layer) => void): tfl.LayersModel {
  const config = deepCopy(model.getConfig()) as ConfigDict;
  rewriteModelConfig(model, config, rewrite);
  const rebuilt = modelFromConfig(model.getClassName(), config);
  try {
    tf.tidy(() => pairLayers(model, rebuilt, sourceName, copy));
  } catch (e) {
    rebuilt.dispose();
    throw e;
  }
  return rebuilt;
}

/**
 * Builds a single layer from `{className, config}` through tfjs's registry
 * (the config is copied).
 *
 * @throws TypeError when the input is not `{className, config}` or the class is not a registered single layer.
 */
export function deserializeInnerLayer(caller: string, serialized: unknown): Layer {
  const {className, config} = (serialized ?? {}) as {className?: unknown; config?: unknown};
  if (typeof className !== 'string' || typeof config !== 'object' || config === null) {
    throw new TypeError(argumentMessage(caller, 'layer', 'must be {className, config}', serialized));
  }
  checkNoProtoKeys(caller, 'layer.config', config);
  const entry = lookupRegisteredClass(className);
  const prototype: unknown = entry?.cls.prototype;
  if (entry === undefined || !(prototype instanceof tfl.layers.Layer) || prototype instanceof tfl.LayersModel) {
    throw new TypeError(`${caller}: 'layer.className' must name a registered single layer class, but got ` +
        `${describeValue(className)}; register custom layers with tf.serialization.registerClass before loading.`);
  }
  return entry.fromConfig(entry.cls, deepCopy(config) as tf.serialization.ConfigDict) as Layer;
}
