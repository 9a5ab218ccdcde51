/**
 * foldBatchNorm: a copy of a model in which every BatchNormalization that
 * follows a Conv2D, DepthwiseConv2D, SeparableConv2D or Dense is folded into
 * that layer's kernel and bias (inference mode: the moving statistics), and an
 * activation layer that then follows it is moved into its `activation`, so
 * tfjs runs fewer kernels (Conv2D or Dense with 'relu': one where it ran three).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {layersByPath, modelConfigOf, modelFromConfig} from './model_walk';

type ConfigDict = tf.serialization.ConfigDict;
/** A reference to a layer's output in a functional config: `[layerName, nodeIndex, tensorIndex, kwargs?]`. */
type Ref = [string, number, number, ConfigDict?];

const MODEL_CLASSES = new Set(['Sequential', 'Model', 'Functional']);

/** The layers a BatchNormalization folds into, and the index of the kernel that holds their output channels. */
const KERNEL_INDEX: Readonly<Record<string, number>> = {Conv2D: 0, DepthwiseConv2D: 0, SeparableConv2D: 1, Dense: 0};

/**
 * The activations an Activation layer may hand to the layer before it: the
 * element-wise ones tfjs-layers accepts as a Conv2D's or Dense's `activation`
 * (not softmax, which is the same but not element-wise). The layer applies
 * the same function to the same tensor, so the outputs do not change.
 */
const MOVABLE_ACTIVATIONS = new Set([
  'relu', 'relu6', 'elu', 'selu', 'sigmoid', 'hardSigmoid', 'tanh', 'softplus', 'softsign', 'swish', 'mish',
  'gelu', 'gelu_new',
]);

/** One BatchNormalization folded into the layer at `producer` (a path, as layersByPath gives). */
interface Fold {
  producer: string;
  className: string;
  batchNorm: string;
}

/** What foldBatchNorm did. */
export interface FoldResult {
  model: tfl.LayersModel;
  /** BatchNormalization layers folded away. */
  batchNorms: number;
  /** Activation and ReLU layers moved into the layer before them. */
  activations: number;
}

const nameOf = (entry: ConfigDict): string =>
  String((entry['config'] as ConfigDict | undefined)?.['name'] ?? entry['name']);
const configOf = (entry: ConfigDict): ConfigDict => entry['config'] as ConfigDict;
const nodesOf = (entry: ConfigDict): Ref[][] => (entry['inboundNodes'] ?? []) as unknown as Ref[][];

/** The rank of a layer's (single) output, or null when tfjs does not know it. */
function outputRank(layer: tfl.layers.Layer | undefined): number | null {
  const shape = layer?.outputShape;
  return Array.isArray(shape) && !Array.isArray(shape[0]) ? shape.length : null;
}

/**
 * Whether the BatchNormalization `bn` may fold into `producer`: a layer
 * with a linear activation whose channels are on the last axis, and a
 * BatchNormalization on that axis.
 */
function canFold(producer: ConfigDict, bn: ConfigDict, live: tfl.layers.Layer | undefined): boolean {
  if (KERNEL_INDEX[String(producer['className'])] === undefined || bn['className'] !== 'BatchNormalization') {
    return false;
  }
  const p = configOf(producer);
  const b = configOf(bn);
  if ((p['activation'] ?? 'linear') !== 'linear') return false;
  if (p['dataFormat'] != null && p['dataFormat'] !== 'channelsLast') return false;
  const rank = outputRank(live);
  const axis = b['axis'] ?? -1;
  return rank !== null && (axis === -1 || axis === rank - 1);
}

/**
 * The `activation` a ReLU or Activation layer hands to the layer before it, or null.
 * Porting note: a ReLU layer with maxValue 6 stays a layer. tfjs-layers 4.22 fuses only
 * 'relu' and 'elu' into Conv2D's and Dense's kernels; its 'relu6' activation runs
 * `minimum(6, relu(x))`, whose scalar-broadcast Minimum is slower on wasm than the layer's
 * Relu + ClipByValue (MobileNetV2-style at 25% width, batch 1: 3.4x faster than the
 * original with the ReLU6 layers kept, 2.0x with them moved into 'relu6').
 */
function movableActivation(entry: ConfigDict): string | null {
  const config = configOf(entry);
  if (entry['className'] === 'ReLU') {
    if ((config['negativeSlope'] ?? 0) !== 0 || (config['threshold'] ?? 0) !== 0) return null;
    return config['maxValue'] == null ? 'relu' : null;
  }
  if (entry['className'] === 'Activation') {
    const name = config['activation'];
    return typeof name === 'string' && MOVABLE_ACTIVATIONS.has(name) ? name : null;
  }
  return null;
}

/** Records the fold of `bn` into `producer` and gives the producer a bias (the folded shift). */
function record(producer: ConfigDict, bn: ConfigDict, prefix: string, folds: Fold[]): void {
  configOf(producer)['useBias'] = true;
  folds.push({producer: prefix + nameOf(producer), className: String(producer['className']), batchNorm: prefix + nameOf(bn)});
}

/** Whether a call's keyword arguments are empty (no `training`, no mask). */
const plainCall = (ref: Ref): boolean => ref[3] == null || Object.keys(ref[3]).length === 0;

/** A functional config's references to layer outputs: every inbound node input and every model output. */
function references(layers: ConfigDict[], config: ConfigDict): Ref[] {
  const outputs = (config['outputLayers'] ?? []) as unknown as Ref[];
  return [...layers.flatMap((entry) => nodesOf(entry).flat()), ...outputs];
}

/** Points every reference to `from`'s output at `to`'s (both single calls) and removes `from`'s entry. */
function bypass(layers: ConfigDict[], config: ConfigDict, from: ConfigDict, to: string): void {
  const name = nameOf(from);
  for (const ref of references(layers, config)) {
    if (ref[0] === name) {
      ref[0] = to;
      ref[1] = 0;
      ref[2] = 0;
    }
  }
  layers.splice(layers.indexOf(from), 1);
}

/** The single reference to `entry`'s output if that is the only one and not a model output, with its reader. */
function soleReader(layers: ConfigDict[], config: ConfigDict, entry: ConfigDict): ConfigDict | null {
  const name = nameOf(entry);
  const outputs = (config['outputLayers'] ?? []) as unknown as Ref[];
  if (outputs.some((ref) => ref[0] === name)) return null;
  const readers = layers.filter((other) => nodesOf(other).flat().some((ref) => ref[0] === name));
  if (readers.length !== 1) return null;
  const reader = readers[0];
  const nodes = nodesOf(reader);
  const refs = nodes.flat().filter((ref) => ref[0] === name);
  // A single call of the reader, on this tensor alone, without keyword arguments.
  if (nodes.length !== 1 || nodes[0].length !== 1 || refs.length !== 1 || !plainCall(refs[0])) return null;
  return reader;
}

/** Folds inside a functional model's config (not in its nested models); records what it folded. */
function foldFunctional(
    config: ConfigDict, prefix: string, live: Map<string, tfl.layers.Layer>, folds: Fold[]): number {
  const layers = config['layers'] as ConfigDict[];
  let moved = 0;
  for (const producer of [...layers]) {
    const name = nameOf(producer);
    if (KERNEL_INDEX[String(producer['className'])] === undefined || nodesOf(producer).length !== 1) continue;
    const bn = soleReader(layers, config, producer);
    if (bn === null || !canFold(producer, bn, live.get(prefix + name))) continue;
    record(producer, bn, prefix, folds);
    bypass(layers, config, bn, name);
    const act = soleReader(layers, config, producer);
    const activation = act === null ? null : movableActivation(act);
    if (act !== null && activation !== null) {
      configOf(producer)['activation'] = activation;
      bypass(layers, config, act, name);
      moved++;
    }
  }
  return moved;
}

/** Folds inside a Sequential model's config (not in its nested models); records what it folded. */
function foldSequential(
    config: ConfigDict, prefix: string, live: Map<string, tfl.layers.Layer>, folds: Fold[]): number {
  const layers = config['layers'] as ConfigDict[];
  let moved = 0;
  for (let i = 0; i + 1 < layers.length; i++) {
    const producer = layers[i];
    const name = nameOf(producer);
    if (!canFold(producer, layers[i + 1], live.get(prefix + name))) continue;
    record(producer, layers[i + 1], prefix, folds);
    layers.splice(i + 1, 1);
    const activation = i + 1 < layers.length ? movableActivation(layers[i + 1]) : null;
    if (activation !== null) {
      configOf(producer)['activation'] = activation;
      layers.splice(i + 1, 1);
      moved++;
    }
  }
  return moved;
}

/** Folds in a model's config and, independently, in every nested model's config. */
function foldConfig(
    className: string, config: ConfigDict, prefix: string, live: Map<string, tfl.layers.Layer>,
    folds: Fold[]): number {
  let moved = 0;
  for (const entry of config['layers'] as ConfigDict[]) {
    if (MODEL_CLASSES.has(String(entry['className']))) {
      moved += foldConfig(String(entry['className']), configOf(entry), `${prefix}${nameOf(entry)}/`, live, folds);
    }
  }
  const fold = className === 'Sequential' ? foldSequential : foldFunctional;
  return moved + fold(config, prefix, live, folds);
}

/** A BatchNormalization's gamma, beta, moving mean and variance (gamma 1 and beta 0 when it has none). */
function batchNormVectors(bn: tfl.layers.Layer): {gamma: Float32Array; beta: Float32Array; mean: Float32Array;
  variance: Float32Array; epsilon: number} {
  const config = bn.getConfig();
  const weights = bn.getWeights().map((w) => w.dataSync() as Float32Array);
  const variance = weights[weights.length - 1];
  const mean = weights[weights.length - 2];
  let next = 0;
  const gamma = config['scale'] === false ? new Float32Array(mean.length).fill(1) : weights[next++];
  const beta = config['center'] === false ? new Float32Array(mean.length) : weights[next++];
  return {gamma, beta, mean, variance, epsilon: Number(config['epsilon'] ?? 1e-3)};
}

/**
 * The weights of `producer` with `bn` folded in: every kernel entry of output
 * channel c times scale[c] = gamma[c] / sqrt(variance[c] + epsilon), and the
 * bias (bias[c] - mean[c]) * scale[c] + beta[c], computed in float64 and
 * rounded once. The output channel of a kernel entry is its flat index modulo
 * the number of channels: the last axis (depthwise: the last two, c*m + j).
 */
function foldedWeights(producer: tfl.layers.Layer, className: string, bn: tfl.layers.Layer): tf.Tensor[] {
  const weights = producer.getWeights();
  const index = KERNEL_INDEX[className];
  const kernel = weights[index];
  const bias = weights.length > index + 1 ? weights[index + 1].dataSync() : null;
  const {gamma, beta, mean, variance, epsilon} = batchNormVectors(bn);
  const n = mean.length;
  const shape = kernel.shape;
  const channels = className === 'DepthwiseConv2D' ? shape[shape.length - 1] * shape[shape.length - 2] :
    shape[shape.length - 1];
  if (channels !== n) {
    throw new Error(`foldBatchNorm: layer "${producer.name}" has ${channels} output channels, ` +
        `BatchNormalization "${bn.name}" ${n}.`);
  }
  const scale = Array.from(gamma, (g, c) => g / Math.sqrt(variance[c] + epsilon));
  const source = kernel.dataSync();
  const scaled = new Float32Array(source.length);
  for (let i = 0; i < source.length; i++) scaled[i] = source[i] * scale[i % n];
  const newBias = Float32Array.from(scale, (s, c) => ((bias?.[c] ?? 0) - mean[c]) * s + beta[c]);
  return [...weights.slice(0, index), tf.tensor(scaled, shape, 'float32'), tf.tensor1d(newBias, 'float32')];
}

/**
 * A new model computing `model`'s outputs (within float32 rounding) with
 * every foldable BatchNormalization folded into the Conv2D, DepthwiseConv2D,
 * SeparableConv2D (pointwise part) or Dense that produces its input, when
 * that layer has a linear activation, is called once, and its output feeds
 * only the BatchNormalization (last axis) and is no model output. A ReLU
 * without maxValue or an Activation layer (element-wise) that then alone reads
 * the folded layer's output becomes the folded layer's `activation` (a ReLU
 * with maxValue 6 stays: see movableActivation). Nested models are
 * folded inside, each on its own, never across their boundary. `model` is
 * not changed.
 */
export function foldBatchNorm(model: tfl.LayersModel): FoldResult {
  const live = layersByPath(model);
  const config = modelConfigOf(model);
  const folds: Fold[] = [];
  const activations = foldConfig(model.getClassName(), config, '', live, folds);
  const folded = modelFromConfig(model.getClassName(), config);
  const byProducer = new Map(folds.map((f) => [f.producer, f]));
  const targets = layersByPath(folded);
  try {
    tf.tidy(() => {
      for (const [path, source] of live) {
        const target = targets.get(path);
        if (target === undefined || source.weights.length === 0 && target.weights.length === 0) continue;
        const fold = byProducer.get(path);
        target.setWeights(fold === undefined ? source.getWeights() :
          foldedWeights(source, fold.className, live.get(fold.batchNorm)!));
      }
    });
  } catch (error) {
    folded.dispose();
    throw error;
  }
  return {model: folded, batchNorms: folds.length, activations};
}
