/**
 * shrinkModel: a new, smaller dense model without the channels that are
 * exactly zero, computing the same outputs.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import type {GraphTensor} from '../graph/model_graph';
import {argumentMessage, checkKnownKeys, checkOptionsObject} from '../util/validation';
import {type Channel, type ChannelAnalysis, analyseChannels} from './channel_analysis';
import {foldBatchNorm} from './fold_batch_norm';
import {configEntriesByPath, layersByPath, modelConfigOf, modelFromConfig} from './model_walk';
import {ruleFor} from './rules';
import {zeroChannels} from './zero_channels';

const MODEL_CLASSES = new Set(['Sequential', 'Model', 'Functional']);

/** Throws unless `model` is a Sequential or functional LayersModel. */
export function checkLayersModel(caller: string, model: unknown): asserts model is tfl.LayersModel {
  if (!(model instanceof tfl.LayersModel) || !MODEL_CLASSES.has(model.getClassName())) {
    throw new TypeError(argumentMessage(caller, 'model', 'must be a tf.Sequential or functional tf.LayersModel', model));
  }
}

/** Whether removing `channel` leaves the model's outputs unchanged: every mixing layer reads a zero there. */
function isDead(channel: Channel, analysis: ChannelAnalysis, slotZero: Map<number, boolean>): boolean {
  if (channel.reasons.length > 0 || channel.slices.length === 0) return false;
  return channel.slots.every((slot) => !analysis.space.mixedReads.has(slot) || slotZero.get(slot) === true);
}

/**
 * The channels to remove: the given candidates, skipping any whose removal
 * would leave a tensor with no channel at all.
 */
export function removableRoots(analysis: ChannelAnalysis, candidates: Channel[]): Set<number> {
  const tensorOf = new Map<number, GraphTensor>();
  const remaining = new Map<GraphTensor, number>();
  for (const [tensor, slots] of analysis.space.tensorEntries()) {
    remaining.set(tensor, slots.length);
    for (const slot of slots) tensorOf.set(slot, tensor);
  }
  const removed = new Set<number>();
  for (const channel of candidates) {
    const counts = new Map<GraphTensor, number>();
    for (const slot of channel.slots) {
      const tensor = tensorOf.get(slot);
      if (tensor !== undefined) counts.set(tensor, (counts.get(tensor) ?? 0) + 1);
    }
    if ([...counts].some(([tensor, n]) => (remaining.get(tensor) ?? 0) - n < 1)) continue;
    for (const [tensor, n] of counts) remaining.set(tensor, (remaining.get(tensor) ?? 0) - n);
    removed.add(channel.root);
  }
  return removed;
}

/** Writes the new channel count of every nested model's input into its config (batchInputShape). */
function resizeNestedInputs(
    analysis: ChannelAnalysis, entries: Map<string, tf.serialization.ConfigDict>,
    count: (slots: readonly number[]) => number): void {
  for (const node of analysis.graph.nodes) {
    if (node.kind !== 'link' || node.boundary?.side !== 'input') continue;
    const inner = node.outputs[0];
    const model = node.layer as tfl.LayersModel;
    const input = model.inputs[node.boundary.index];
    const slots = analysis.space.slotsOf(inner);
    if (input === undefined || slots === null) continue;
    const first = model.getClassName() === 'Sequential' ? model.layers[0] : input.sourceLayer;
    const entry = entries.get(`${node.path}/${first.name}`);
    const shape = entry?.['batchInputShape'];
    if (Array.isArray(shape)) shape[shape.length - 1] = count(slots);
  }
}

/** Builds the smaller model without the channels in `removed` (roots), copying and slicing every weight. */
export function rebuildWithout(model: tfl.LayersModel, analysis: ChannelAnalysis, removed: Set<number>): tfl.LayersModel {
  const {space} = analysis;
  const kept = (slots: readonly number[]) =>
    slots.flatMap((slot, i) => (removed.has(space.find(slot)) ? [] : [i]));
  const config = modelConfigOf(model);
  const entries = configEntriesByPath(config);
  for (const [layer, path] of analysis.paths) {
    const entry = entries.get(path);
    if (entry === undefined) continue;
    const rule = ruleFor(layer.getClassName());
    const out = space.layerRoleSlots(layer, 'out');
    if (rule?.resize !== undefined && out !== undefined) rule.resize(entry, kept(out).length);
  }
  resizeNestedInputs(analysis, entries, (slots) => kept(slots).length);
  const slices = new Map<tfl.layers.Layer, Map<number, Array<{axis: number; indices: number[]}>>>();
  for (const param of space.params) {
    const indices = kept(param.slots);
    if (indices.length === param.slots.length) continue;
    const byWeight = slices.get(param.layer) ?? new Map();
    slices.set(param.layer, byWeight);
    const list = byWeight.get(param.weight) ?? [];
    byWeight.set(param.weight, list);
    if (!list.some((s: {axis: number}) => s.axis === param.axis)) list.push({axis: param.axis, indices});
  }
  const shrunk = modelFromConfig(model.getClassName(), config);
  const targets = layersByPath(shrunk);
  tf.tidy(() => {
    for (const [path, source] of layersByPath(model)) {
      const target = targets.get(path);
      if (target === undefined || source.weights.length === 0) continue;
      const cuts = slices.get(source);
      target.setWeights(source.weights.map((weight, w) => {
        let value = weight.read();
        const list = cuts?.get(w) ?? [];
        for (const {axis, indices} of list) value = tf.gather(value, indices, axis);
        // A fresh tensor: tfjs-backend-wasm's GatherV2 keeps its output under an internal 4-D
        // shape, and its fused Conv2D/MatMul then reject a gathered bias as "rank 4".
        return list.length === 0 ? value : tf.tensor(value.dataSync(), value.shape, value.dtype);
      }));
    }
  });
  return shrunk;
}

const SHRINK_OPTIONS = ['foldBatchNorm'];

/** Checks shrinkModel's options and fills in the defaults. */
function parseShrinkOptions(options: unknown): {foldBatchNorm: boolean} {
  checkOptionsObject('shrinkModel', 'options', options, true);
  if (options === undefined) return {foldBatchNorm: false};
  checkKnownKeys('shrinkModel', 'option', options as object, SHRINK_OPTIONS);
  const fold = (options as {foldBatchNorm?: unknown}).foldBatchNorm;
  if (fold !== undefined && typeof fold !== 'boolean') {
    throw new TypeError(argumentMessage('shrinkModel', 'foldBatchNorm', 'must be a boolean', fold));
  }
  return {foldBatchNorm: fold ?? false};
}

/**
 * A new model without the channels that are exactly zero: every group of
 * coupled channels (a layer's output channel, the BatchNormalization entries
 * and the consumers' input channels that go with it, through merges,
 * concatenations, depthwise layers, Flatten and nested models) whose value is
 * zero wherever a layer reads it is removed, so kernels, biases and
 * BatchNormalization parameters get smaller. The result is a plain dense
 * model that stock `tf.loadLayersModel` loads and that computes the same
 * outputs (within float32 rounding: a sum over fewer zeros). Works on any
 * model; after {@link stripPruning} of a channel-pruned model it removes the
 * pruned channels. Inputs and outputs keep their shapes; a tensor keeps at
 * least one channel. The input is not changed.
 *
 * With `{foldBatchNorm: true}`, every BatchNormalization (last axis) is then
 * folded into the Conv2D, DepthwiseConv2D, SeparableConv2D (its pointwise
 * part) or Dense that produces its input, when that layer has a linear
 * activation, is called once, and feeds only the BatchNormalization (and no
 * model output): the kernel is scaled per output channel by
 * `gamma / sqrt(movingVariance + epsilon)` and the bias becomes
 * `(bias - movingMean) * scale + beta`. A ReLU layer without maxValue or an
 * Activation layer that then alone reads that layer's output moves into its
 * `activation` (tfjs fuses 'relu' into Conv2D's and Dense's kernel); a ReLU
 * with maxValue 6 stays a layer, which is faster on wasm than the 'relu6'
 * activation. Nested models are folded inside, each on its own. The result
 * computes the same outputs in inference (within float32 rounding) with
 * fewer layers, and runs faster where tfjs's per-operation overhead
 * dominates (small models, batch 1); it no longer trains like the original
 * (BatchNormalization is gone).
 *
 * @param model A Sequential or functional model.
 * @param options `foldBatchNorm` (default false): after shrinking, fold every BatchNormalization into
 *   the layer before it (and a ReLU without maxValue or an Activation layer after it into that layer's
 *   `activation`), for faster inference.
 * @returns A new, uncompiled model of the same class.
 * @throws TypeError when `model` is not a Sequential or functional LayersModel, or still holds
 *   PruneLowMagnitude wrappers, or when `options` is not an object, has an unknown key or a
 *   `foldBatchNorm` that is not a boolean.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import {shrinkModel} from 'tfjs-model-optimization';
 *
 * const model = tf.sequential({layers: [
 *   tf.layers.dense({units: 4, inputShape: [3], activation: 'relu'}),
 *   tf.layers.dense({units: 2}),
 * ]});
 * const [kernel, bias] = model.layers[0].getWeights();
 * model.layers[0].setWeights([kernel.mul(tf.tensor1d([1, 0, 1, 0])), bias.mul(tf.tensor1d([1, 0, 1, 0]))]);
 * const small = shrinkModel(model);
 * console.log(small.layers[0].getWeights()[0].shape); // [3, 2]
 *
 * // Conv2D -> BatchNormalization -> ReLU becomes one Conv2D with a bias and activation 'relu'.
 * const cnn = tf.sequential({layers: [
 *   tf.layers.conv2d({filters: 4, kernelSize: 3, inputShape: [8, 8, 1], useBias: false}),
 *   tf.layers.batchNormalization(),
 *   tf.layers.reLU(),
 * ]});
 * const folded = shrinkModel(cnn, {foldBatchNorm: true});
 * console.log(folded.layers.length, folded.layers[0].getConfig().activation); // 1 'relu'
 * ```
 *
 * @category Channel pruning
 */
export function shrinkModel(model: tfl.LayersModel, options?: {foldBatchNorm?: boolean}): tfl.LayersModel {
  checkLayersModel('shrinkModel', model);
  const {foldBatchNorm: fold} = parseShrinkOptions(options);
  const wrapper = [...layersByPath(model)].find(([, layer]) => layer.getClassName() === 'PruneLowMagnitude');
  if (wrapper !== undefined) {
    throw new TypeError(`shrinkModel: model "${model.name}" still holds the pruning wrapper "${wrapper[0]}"; ` +
        'call stripPruning(model) first and shrink its result.');
  }
  const analysis = analyseChannels(model);
  const zeros = zeroChannels(analysis);
  const slotZero = new Map<number, boolean>();
  for (const [tensor, slots] of analysis.space.tensorEntries()) {
    const flags = zeros.get(tensor);
    slots.forEach((slot, c) => slotZero.set(slot, flags?.[c] === true));
  }
  const candidates = analysis.groups.flatMap((g) => g.channels).filter((c) => isDead(c, analysis, slotZero));
  const shrunk = rebuildWithout(model, analysis, removableRoots(analysis, candidates));
  if (!fold) return shrunk;
  try {
    return foldBatchNorm(shrunk).model;
  } finally {
    shrunk.dispose();
  }
}
