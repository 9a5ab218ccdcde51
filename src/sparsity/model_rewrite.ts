/**
 * Rewriting models through their configs, the way pruneLowMagnitude and
 * stripPruning rebuild them: each layer entry of a (nested) model config
 * replaced, references renamed, the model rebuilt through tfjs's class
 * registry, and the layers of the new model paired with those they came from.
 *
 * Porting note: tfjs-layers has no `clone_model`; this is what stands in for it.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {layersOf} from '../graph/model_graph';
import {completeGetConfig, missingConfigFields, normalizeConfigForRebuild} from './prune_registry';
import {deepCopy} from '../util/validation';

type Layer = tfl.layers.Layer;
type ConfigDict = tf.serialization.ConfigDict;

/** A layer entry of a functional model's config. */
interface LayerEntry {
  name: string;
  className: string;
  config: ConfigDict;
  inboundNodes?: unknown[];
}

/** Renames references in a functional config's inbound nodes and input/output lists. */
function renameReferences(config: ConfigDict, renames: Map<string, string>): void {
  if (renames.size === 0) return;
  const rename = (ref: unknown): void => {
    if (Array.isArray(ref) && typeof ref[0] === 'string' && renames.has(ref[0])) ref[0] = renames.get(ref[0]);
  };
  for (const entry of (config['layers'] as unknown as LayerEntry[]) ?? []) {
    for (const node of entry.inboundNodes ?? []) {
      if (Array.isArray(node)) node.forEach(rename);
    }
  }
  for (const key of ['inputLayers', 'outputLayers']) {
    const refs = config[key];
    if (Array.isArray(refs)) refs.forEach(rename);
  }
}

/**
 * Rewrites the config of `model` (a deep copy) with `transform` applied to
 * each non-model layer entry; nested models are rewritten recursively.
 * `transform` returns a replacement `{name, className, config}` or undefined.
 */
export function rewriteModelConfig(
    model: tfl.LayersModel, config: ConfigDict,
    transform: (layer: Layer, entry: {className: string; config: ConfigDict}, isFirst: boolean) =>
      {className: string; config: ConfigDict} | undefined): void {
  const isSequential = model.getClassName() === 'Sequential';
  const entries = config['layers'] as unknown as LayerEntry[];
  const renames = new Map<string, string>();
  entries.forEach((entry, index) => {
    const name = (entry.config['name'] as string | undefined) ?? entry.name;
    const layer = model.getLayer(name);
    if (layer instanceof tfl.LayersModel) {
      rewriteModelConfig(layer, entry.config, transform);
      return;
    }
    if (entry.className === 'InputLayer') return;
    Object.assign(entry.config, missingConfigFields(layer));
    const replacement = transform(layer, entry, isSequential && index === 0);
    if (replacement !== undefined) {
      const newName = replacement.config['name'] as string;
      entry.className = replacement.className;
      entry.config = replacement.config;
      if (!isSequential) {
        entry.name = newName;
        renames.set(name, newName);
      }
    }
    normalizeEntry(entry);
  });
  if (!isSequential) renameReferences(config, renames);
}

/**
 * Normalizes the config of a layer entry for rebuilding, or, for a wrapper's
 * entry (PruneLowMagnitude, ClusterWeights: a `layer: {className, config}`
 * field), the config of the layer it holds.
 */
function normalizeEntry(entry: {className: string; config: ConfigDict}): void {
  const inner = entry.config['layer'] as unknown as {className?: unknown; config?: ConfigDict} | undefined;
  if (inner?.config != null && typeof inner.className === 'string') {
    normalizeConfigForRebuild(inner.className, inner.config);
  } else {
    normalizeConfigForRebuild(entry.className, entry.config);
  }
}

/**
 * Builds a model from a (TS-form) config through tfjs's class registry. Its
 * layers' `getConfig()` then holds every field tfjs forgets, so that the
 * model saves into a topology stock tfjs loads.
 */
export function modelFromConfig(className: string, config: ConfigDict): tfl.LayersModel {
  const [cls, fromConfig] = tf.serialization.SerializationMap.getMap().classNameMap[className];
  const model = fromConfig(cls, config) as tfl.LayersModel;
  for (const layer of layersOf(model.layers)) completeGetConfig(layer);
  return model;
}

/** A layer entry of a model topology in tfjs's saved (snake_case) form. */
interface SavedLayerEntry {
  name?: string;
  config?: Record<string, unknown> & {name?: string; layers?: SavedLayerEntry[]};
}

/**
 * `model.toJSON(null, false)` with the config fields tfjs-layers' `getConfig()`
 * forgets written in (snake_case, as tfjs saves them), so that stock
 * `tf.loadLayersModel` rebuilds every layer with its weight shapes (tfjs
 * 4.22's SeparableConv2D forgets `depthMultiplier`). The model is not modified.
 *
 * @param model A Sequential or functional model.
 * @returns The model's topology, as `model.save` would write it, completed.
 */
export function completeModelTopology(model: tfl.LayersModel): tf.io.ModelArtifacts['modelTopology'] {
  const topology = model.toJSON(null, false) as unknown as {config: {layers?: SavedLayerEntry[]}};
  const complete = (owner: tfl.LayersModel, entries: SavedLayerEntry[]): void => {
    for (const entry of entries) {
      const layer = layerNamed(owner, entry.config?.name ?? entry.name ?? '');
      if (layer === undefined || entry.config === undefined) continue;
      if (layer instanceof tfl.LayersModel) {
        complete(layer, entry.config.layers ?? []);
        continue;
      }
      for (const [key, value] of Object.entries(missingConfigFields(layer))) {
        const savedKey = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
        if (entry.config[savedKey] === undefined) entry.config[savedKey] = value;
      }
    }
  };
  complete(model, topology.config.layers ?? []);
  return topology as tf.io.ModelArtifacts['modelTopology'];
}

/** The layer of `model` named `name`, or undefined. */
function layerNamed(model: tfl.LayersModel, name: string): Layer | undefined {
  return model.layers.find((layer) => layer.name === name);
}

/**
 * Pairs every non-model layer of `target` with the layer of `source` it was
 * built from: the layer of the same name, else the one named by `renamed`.
 */
export function pairLayers(
    source: tfl.LayersModel, target: tfl.LayersModel, renamed: (layer: Layer) => string,
    visit: (source: Layer, target: Layer) => void): void {
  for (const layer of target.layers) {
    const original = layerNamed(source, layer.name) ?? layerNamed(source, renamed(layer));
    if (original === undefined) continue;
    if (layer instanceof tfl.LayersModel) {
      pairLayers(original as tfl.LayersModel, layer, renamed, visit);
    } else {
      visit(original, layer);
    }
  }
}

/**
 * The entry of a wrapper (`className`, with `fields` and the inner entry as
 * `layer`) around `entry`. The first layer of a Sequential model carries the
 * model's input shape: it moves to the wrapper, which becomes the first layer.
 */
export function wrapEntry(
    entry: {className: string; config: ConfigDict}, isFirst: boolean, className: string,
    fields: ConfigDict): {className: string; config: ConfigDict} {
  const inner = {className: entry.className, config: entry.config};
  const config: ConfigDict = {...fields, layer: inner as unknown as ConfigDict};
  if (isFirst && inner.config['batchInputShape'] != null) {
    config['batchInputShape'] = inner.config['batchInputShape'];
    config['dtype'] = inner.config['dtype'] ?? 'float32';
    delete inner.config['batchInputShape'];
  }
  return {className, config};
}

/** The inner entry of a wrapper's entry, given back the input shape the wrapper carried (see {@link wrapEntry}). */
export function unwrapEntry(entry: {config: ConfigDict}): {className: string; config: ConfigDict} {
  const inner = entry.config['layer'] as unknown as {className: string; config: ConfigDict};
  if (entry.config['batchInputShape'] != null) inner.config['batchInputShape'] = entry.config['batchInputShape'];
  return inner;
}

/**
 * A copy of `layer`'s config for the layer a wrapper will hold, and the
 * wrapper's own `batchInputShape` and `dtype` arguments when the layer had an
 * input shape (the wrapper, not the inner layer, then starts the model).
 */
export function splitInputShape(layer: Layer): {
  innerConfig: ConfigDict; wrapperArgs: {batchInputShape?: number[]; dtype?: tf.DataType};
} {
  const innerConfig = {...deepCopy(layer.getConfig()), ...missingConfigFields(layer)} as ConfigDict;
  const {batchInputShape, dtype} = innerConfig;
  delete innerConfig['batchInputShape'];
  const wrapperArgs = batchInputShape != null ?
    {batchInputShape: batchInputShape as number[], dtype: dtype as tf.DataType} : {};
  return {innerConfig, wrapperArgs};
}
