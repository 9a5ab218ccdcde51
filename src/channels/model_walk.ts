/**
 * Rebuilding a model with changed layer configs: its config entries and its
 * layers by path (`"nested/conv"`), and construction through tfjs's class registry.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

type ConfigDict = tf.serialization.ConfigDict;

/** Every layer of `model` and of its nested models, by path. */
export function layersByPath(model: tfl.LayersModel, prefix = '', into = new Map<string, tfl.layers.Layer>()):
    Map<string, tfl.layers.Layer> {
  for (const layer of model.layers) {
    const path = prefix + layer.name;
    if (layer instanceof tfl.LayersModel) {
      layersByPath(layer, `${path}/`, into);
    } else if (!into.has(path)) {
      into.set(path, layer);
    }
  }
  return into;
}

/** Every layer entry (`{className, config}`) of a model config and of its nested models' configs, by path. */
export function configEntriesByPath(config: ConfigDict, prefix = '', into = new Map<string, ConfigDict>()):
    Map<string, ConfigDict> {
  const layers = config['layers'];
  if (!Array.isArray(layers)) return into;
  for (const entry of layers as ConfigDict[]) {
    const inner = entry['config'] as ConfigDict | undefined;
    const name = String(inner?.['name'] ?? entry['name']);
    if (inner !== undefined && Array.isArray(inner['layers'])) {
      configEntriesByPath(inner, `${prefix}${name}/`, into);
    } else if (inner !== undefined) {
      into.set(prefix + name, inner);
    }
  }
  return into;
}

/**
 * Porting note: tfjs 4.22's SeparableConv2D.getConfig forgets
 * `depthMultiplier`, so a saved model with a multiplier above 1 does not
 * load; the layers of the models made here add it back.
 */
function keepDepthMultiplierInConfig(layer: tfl.layers.Layer): void {
  const multiplier = (layer as unknown as {depthMultiplier?: number}).depthMultiplier;
  if (layer.getClassName() !== 'SeparableConv2D' || multiplier == null) return;
  const getConfig = layer.getConfig.bind(layer);
  Object.defineProperty(layer, 'getConfig', {
    value: () => ({...getConfig(), depthMultiplier: multiplier}),
    configurable: true, writable: true,
  });
}

/** A deep copy of `model.getConfig()` with what tfjs's getConfig forgets (SeparableConv2D's depthMultiplier). */
export function modelConfigOf(model: tfl.LayersModel): ConfigDict {
  const config = JSON.parse(JSON.stringify(model.getConfig())) as ConfigDict;
  const entries = configEntriesByPath(config);
  for (const [path, layer] of layersByPath(model)) {
    const multiplier = (layer as unknown as {depthMultiplier?: number}).depthMultiplier;
    const entry = entries.get(path);
    if (layer.getClassName() === 'SeparableConv2D' && entry !== undefined && entry['depthMultiplier'] == null &&
        multiplier != null) {
      entry['depthMultiplier'] = multiplier;
    }
  }
  return config;
}

/** Builds a model of class `className` from a config, through tfjs's class registry. */
export function modelFromConfig(className: string, config: ConfigDict): tfl.LayersModel {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[className];
  if (entry === undefined) throw new Error(`No model class "${className}" is registered with tfjs.`);
  const [cls, fromConfig] = entry;
  const model = fromConfig(cls, config) as tfl.LayersModel;
  for (const layer of layersByPath(model).values()) keepDepthMultiplierInConfig(layer);
  return model;
}

/** A copy of a model (uncompiled): the same config and the same weights. */
export function cloneModel(model: tfl.LayersModel): tfl.LayersModel {
  const copy = modelFromConfig(model.getClassName(), modelConfigOf(model));
  const targets = layersByPath(copy);
  tf.tidy(() => {
    for (const [path, source] of layersByPath(model)) targets.get(path)?.setWeights(source.getWeights());
  });
  return copy;
}
