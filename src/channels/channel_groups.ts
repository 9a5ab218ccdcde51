/**
 * channelGroups: the groups of coupled channels of a model, for reading
 * (which layers go together, how many channels, whether they can be pruned).
 */
import * as tfl from '@tensorflow/tfjs-layers';

import {analyseChannels} from './channel_analysis';
import {checkLayersModel} from './shrink';

/**
 * Channels that are pruned together: Torch-Pruning's dependency group. Every
 * channel of the group spans the same weights (a layer's output channel, the
 * matching BatchNormalization entries, the input channels of every consumer,
 * across merges, concatenations, depthwise layers, Flatten and nested models).
 *
 * @category Channel pruning
 */
export interface ChannelGroup {
  /** Position of the group in the list. */
  readonly id: number;
  /** Paths of the layers whose weights the group spans (`"block1/conv"` inside a nested model). */
  readonly layers: string[];
  /** The weight axes it spans, as `"path:weight@axis"` (`"conv1:kernel@3"`: the 4th axis of conv1's kernel). */
  readonly weights: string[];
  /** How many channels it has. */
  readonly channels: number;
  /** How many of them may be removed (all, unless a reason applies). */
  readonly prunableChannels: number;
  /** Why channels cannot be removed: a model input or output, an unsupported layer, an activation... */
  readonly reasons: string[];
}

/**
 * The groups of coupled channels of a model, without changing it: what
 * {@link pruneChannels} prunes together and {@link shrinkModel} removes
 * together. Groups whose channels touch a model input or output, or a layer
 * channel pruning does not support, are listed with the reason.
 *
 * @param model A Sequential or functional model.
 * @returns One entry per group, in the order of the model's layers.
 * @throws TypeError when `model` is not a Sequential or functional LayersModel.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import {channelGroups} from 'tfjs-model-optimization';
 *
 * const model = tf.sequential({layers: [
 *   tf.layers.conv2d({filters: 8, kernelSize: 3, inputShape: [28, 28, 1], name: 'conv'}),
 *   tf.layers.batchNormalization({name: 'bn'}),
 *   tf.layers.flatten({name: 'flatten'}),
 *   tf.layers.dense({units: 10, name: 'dense'}),
 * ]});
 * for (const group of channelGroups(model)) {
 *   console.log(group.layers.join(' + '), group.channels, group.prunableChannels, group.reasons);
 * }
 * // bn + conv + dense 8 8 []   (conv's filters, bn's entries, dense's rows)
 * ```
 *
 * @category Channel pruning
 */
export function channelGroups(model: tfl.LayersModel): ChannelGroup[] {
  checkLayersModel('channelGroups', model);
  const analysis = analyseChannels(model);
  return analysis.groups.filter((g) => g.members.length > 0).map((group, id) => {
    const reasons = [...new Set(group.channels.flatMap((c) => c.reasons))];
    return {
      id,
      layers: [...new Set(group.members.map((m) => m.slice(0, m.lastIndexOf(':'))))],
      weights: [...group.members],
      channels: group.channels.length,
      prunableChannels: group.channels.filter((c) => c.reasons.length === 0).length,
      reasons,
    };
  });
}
