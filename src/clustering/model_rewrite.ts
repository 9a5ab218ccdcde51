/**
 * Rebuilding a Sequential or functional model with some of its layers
 * replaced, for clusterWeights and stripClustering, and rebuilding a single
 * layer from its serialized form, for ClusterWeights.fromConfig.
 *
 * Porting note: tfjs-layers has no `clone_model`; as pruning does (prune.ts),
 * the model is rebuilt from a rewritten copy of `model.getConfig()` and its
 * weights are copied layer by layer. The input model is never modified.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {completeGetConfig, missingConfigFields, normalizeConfigForRebuild} from '../sparsity/prune_registry';
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

/** Renames layer references in a functional config's inbound nodes and input/output lists. */
function renameReferences(config: ConfigDict, renames: Map<string, string>): void {
  if (renames.size === 0) return;
  const rename = (ref: unknown): void => {
    if (Array.isArray(ref) && typeof ref[0] === 'string' && renames.has(ref[0])) ref[0] = renames.get(ref[0]);
  };
  for (const entry of (config['layers'] as unknown as LayerEntry[]) ?? []) {
    for (const node of entry.inboundNodes ?? []) if (Array.isArray(node)) node.forEach(rename);
  }
  for (const key of ['inputLayers', 'outputLayers']) {
    const refs = config[key];
    if (Array.isArray(refs)) refs.forEach(rename);
  }
}

/** Applies `rewrite` to every non-model layer entry of `config` (a copy of `model`'s), nested models included. */
function rewriteConfig(model: tfl.LayersModel, config: ConfigDict, rewrite: Rewrite): void {
  const isSequential = model.getClassName() === 'Sequential';
  const renames = new Map<string, string>();
  (config['layers'] as unknown as LayerEntry[]).forEach((entry, index) => {
    const name = (entry.config['name'] as string | undefined) ?? entry.name ?? '';
    const layer = model.getLayer(name);
    if (layer instanceof tfl.LayersModel) {
      rewriteConfig(layer, entry.config, rewrite);
      return;
    }
    if (entry.className === 'InputLayer') return;
    Object.assign(entry.config, missingConfigFields(layer));
    const replacement = rewrite(layer, entry, isSequential && index === 0);
    if (replacement !== undefined) {
      entry.className = replacement.className;
      entry.config = replacement.config;
      if (!isSequential) {
        const newName = replacement.config['name'] as string;
        entry.name = newName;
        renames.set(name, newName);
      }
    }
    const inner = entry.config['layer'] as unknown as LayerEntry | undefined;
    if (inner?.config != null && typeof inner.className === 'string') {
      normalizeConfigForRebuild(inner.className, inner.config);
    } else {
      normalizeConfigForRebuild(entry.className, entry.config);
    }
  });
  if (!isSequential) renameReferences(config, renames);
}

/** Builds a model from a (TS-form) config through tfjs's class registry. */
function modelFromConfig(className: string, config: ConfigDict): tfl.LayersModel {
  const [cls, fromConfig] = tf.serialization.SerializationMap.getMap().classNameMap[className];
  const model = fromConfig(cls, config) as tfl.LayersModel;
  const visit = (layer: Layer): void => {
    if (layer instanceof tfl.LayersModel) layer.layers.forEach(visit); else completeGetConfig(layer);
  };
  model.layers.forEach(visit);
  return model;
}

/**
 * Pairs every non-model layer of `target` with the layer of `source` it was
 * built from: the layer of the same name, else the one named by `sourceName`.
 */
function pairLayers(
    source: tfl.LayersModel, target: tfl.LayersModel, sourceName: (layer: Layer) => string,
    visit: (source: Layer, target: Layer) => void): void {
  const named = (model: tfl.LayersModel, name: string) => model.layers.find((l) => l.name === name);
  for (const layer of target.layers) {
    const original = named(source, layer.name) ?? named(source, sourceName(layer));
    if (original === undefined) continue;
    if (layer instanceof tfl.LayersModel) {
      pairLayers(original as tfl.LayersModel, layer, sourceName, visit);
    } else {
      visit(original, layer);
    }
  }
}

/**
 * A new model of `model`'s kind with each layer entry `rewrite` replaces,
 * whose weights `copy` fills from the source layers (in a tidy).
 */
export function rebuildModel(
    model: tfl.LayersModel, rewrite: Rewrite, sourceName: (layer: Layer) => string,
    copy: (source: Layer, target: Layer) => void): tfl.LayersModel {
  const config = deepCopy(model.getConfig()) as ConfigDict;
  rewriteConfig(model, config, rewrite);
  const rebuilt = modelFromConfig(model.getClassName(), config);
  try {
    tf.tidy(() => pairLayers(model, rebuilt, sourceName, copy));
  } catch (e) {
    rebuilt.dispose();
    throw e;
  }
  return rebuilt;
}

/** Every non-model layer of a model, nested models included, each once. */
export function allLayers(model: tfl.LayersModel): Layer[] {
  const seen = new Set<Layer>();
  const visit = (layer: Layer): void => {
    if (seen.has(layer)) return;
    if (layer instanceof tfl.LayersModel) {
      layer.layers.forEach(visit);
      return;
    }
    seen.add(layer);
  };
  model.layers.forEach(visit);
  return [...seen];
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
