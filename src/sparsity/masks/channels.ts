/**
 * The channel mask kind (pruneChannels): every weight of the layer but
 * BatchNormalization's moving statistics is masked, and whole channels of the
 * model's channel groups are zeroed by a ChannelPruner
 * (src/channels/channel_pruner.ts) that UpdatePruningStep advances at every batch.
 */
import {ChannelPruner} from '../../channels/channel_pruner';
import {channelWeightsOf} from '../../channels/channel_masks';
import {MAGNITUDE} from './magnitude';
import {type MaskKindDefinition, scheduledGroup} from './mask_kind';

const CHANNEL_GROUP = scheduledGroup({
  name: 'channels',
  differentSchedules: (first, other) =>
    `UpdatePruningStep: the channel-pruned layers "${first.name}" and "${other.name}" have different schedules; ` +
    'channel pruning zeroes coupled channels of several layers together, so they need one schedule (wrap the ' +
    'model in one pruneChannels call).',
  differentSteps: (model, steps) =>
    `UpdatePruningStep: the channel-pruned layers of model "${model.name}" are at different pruning steps ` +
    `(${steps.join(', ')}); channel pruning needs them in step (wrap the model in one ` +
    'pruneChannels call and train it as a whole).',
  create: (model, wrappers) => new ChannelPruner(model, wrappers),
});

export const channelsKind: MaskKindDefinition = {
  selects: (options) => options.channelImportance !== null,
  create: () => ({
    ...MAGNITUDE, needsPrunableLayer: false, weightsOf: channelWeightsOf, group: CHANNEL_GROUP, dueSparsity: () => null,
  }),
  group: CHANNEL_GROUP,
};
