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

/** Builds a model of class `className` from a config, through tfjs's class registry. */
export function modelFromConfig(className: string, config: ConfigDict): tfl.LayersModel {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[className];
  if (entry === undefined) throw new Error(`No model class "${className}" is registered with tfjs.`);
  const [cls, fromConfig] = entry;
  return fromConfig(cls, config) as tfl.LayersModel;
}
