/**
 * pruneChannels: structured pruning of whole channels during training, with
 * the schedules and the UpdatePruningStep callback of magnitude pruning.
 */
import * as tfl from '@tensorflow/tfjs-layers';

import {wrapSelectedLayers} from '../sparsity/prune';
import {resolveMaskParams} from '../sparsity/pruning_params';
import {isPruneLowMagnitude} from '../sparsity/pruning_wrapper';
import {ConstantSparsity, PruningSchedule, isPruningSchedule} from '../sparsity/pruning_schedule';
import {argumentMessage, checkKnownKeys, checkOptionsObject} from '../util/validation';
import {analyseChannels} from './channel_analysis';
import type {ChannelImportance} from './channel_masks';
import {layersByPath} from './model_walk';
import {checkLayersModel} from './shrink';

/**
 * Parameters of {@link pruneChannels}.
 *
 * @category Channel pruning
 */
export interface PruneChannelsParams {
  /**
   * When and how much: the schedule's sparsity is the fraction of channels
   * zeroed in every group. Default: a new `ConstantSparsity({targetSparsity: 0.5})`.
   */
  pruningSchedule?: PruningSchedule;
  /** How channels are ranked: `'l2'` (default) or `'l1'` norm of all the weight slices of the channel's group. */
  importance?: ChannelImportance;
}

const KNOWN = ['pruningSchedule', 'importance'];
const IMPORTANCES: readonly ChannelImportance[] = ['l2', 'l1'];

/**
 * Wraps a model for channel pruning: {@link UpdatePruningStep} then zeroes
 * whole channels during training on the schedule's steps, a fraction
 * `sparsity` of the channels of every group of coupled channels (see
 * {@link channelGroups}): a layer's output channel with its bias, the
 * matching BatchNormalization gamma and beta, and the input channels of every
 * consumer, through residual additions, concatenations, depthwise layers,
 * pooling, Flatten into Dense and nested models. The least important channels
 * go, by the norm of all the group's weights for that channel. A pruned
 * channel's output is exactly zero downstream, so {@link stripPruning} and
 * then {@link shrinkModel} give a smaller dense model with the same outputs.
 *
 * Channels that touch the model's inputs or outputs, or a layer channel
 * pruning does not support, are left whole; `channelGroups(model)` lists them
 * with the reason. Compile the result before training. The input is not changed.
 *
 * @param model A Sequential or functional model.
 * @param params `{pruningSchedule?, importance?}`.
 * @returns A new model with PruneLowMagnitude wrappers around the layers whose weights hold channels.
 * @throws TypeError when `model` is not a Sequential or functional model, or a parameter has the wrong
 *   type or name; RangeError for an unknown importance.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import {ConstantSparsity, UpdatePruningStep, pruneChannels, shrinkModel, stripPruning} from 'tfjs-model-optimization';
 *
 * const model = tf.sequential({layers: [
 *   tf.layers.dense({units: 32, inputShape: [8], activation: 'relu'}),
 *   tf.layers.dense({units: 1}),
 * ]});
 * const pruned = pruneChannels(model, {pruningSchedule: new ConstantSparsity({targetSparsity: 0.5, beginStep: 1, endStep: 1})});
 * pruned.compile({optimizer: 'adam', loss: 'meanSquaredError'});
 * await pruned.fit(tf.randomNormal([64, 8]), tf.randomNormal([64, 1]), {
 *   batchSize: 16, epochs: 1, callbacks: [new UpdatePruningStep()],
 * });
 * const small = shrinkModel(stripPruning(pruned));
 * console.log(small.layers[0].getWeights()[0].shape); // [8, 16]
 * ```
 *
 * @category Channel pruning
 */
export function pruneChannels(model: tfl.Sequential, params?: PruneChannelsParams): tfl.Sequential;
export function pruneChannels(model: tfl.LayersModel, params?: PruneChannelsParams): tfl.LayersModel;
export function pruneChannels(model: tfl.LayersModel, params?: PruneChannelsParams): tfl.LayersModel {
  checkLayersModel('pruneChannels', model);
  checkOptionsObject('pruneChannels', 'params', params, true);
  const p = params ?? {};
  checkKnownKeys('pruneChannels', 'parameter', p, KNOWN);
  if (p.pruningSchedule !== undefined && !isPruningSchedule(p.pruningSchedule)) {
    throw new TypeError(argumentMessage('pruneChannels', 'pruningSchedule',
        'must be a PruningSchedule (e.g. new ConstantSparsity(...))', p.pruningSchedule));
  }
  if (p.importance !== undefined && !IMPORTANCES.includes(p.importance)) {
    throw new RangeError(argumentMessage('pruneChannels', 'importance', "must be 'l2' or 'l1'", p.importance));
  }
  const wrapper = [...layersByPath(model)].find(([, layer]) => isPruneLowMagnitude(layer));
  if (wrapper !== undefined) {
    throw new TypeError(`pruneChannels: model "${model.name}" already holds the pruning wrapper "${wrapper[0]}"; ` +
        'channel pruning wraps a plain model: call stripPruning(model) first.');
  }
  const analysis = analyseChannels(model);
  const selected = new Set<tfl.layers.Layer>();
  for (const group of analysis.groups) {
    if (!group.channels.some((c) => c.reasons.length === 0)) continue;
    for (const channel of group.channels) for (const {param} of channel.slices) selected.add(param.layer);
  }
  return wrapSelectedLayers(model, selected, p.pruningSchedule ?? new ConstantSparsity({targetSparsity: 0.5}),
      resolveMaskParams('pruneChannels', {channelImportance: p.importance ?? 'l2'}));
}
