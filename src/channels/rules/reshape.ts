/**
 * Flatten and Reshape in channels-last order: element `(..., c)` lands on an
 * index whose remainder modulo the channel count is `c`, so when the output's
 * last axis is a multiple `L` of the input's `C` channels, output channel `j`
 * belongs to input channel `j % C` (Flatten into a Dense: channel `c` feeds
 * the Dense rows `c, c + C, c + 2C, ...`). Any other reshape mixes channels.
 * Permute keeps channels when the last axis stays last.
 */
import {channelsLast} from '../layer_access';
import {connectIdentity} from './channelwise';
import type {ChannelRule, ZeroContext} from './rule';

export const reshapeRule: ChannelRule = {
  classNames: ['Flatten', 'Reshape'],
  connect(ctx) {
    const input = ctx.space.slotsOf(ctx.input());
    const output = ctx.space.slotsOf(ctx.output());
    if (!channelsLast(ctx.config)) {
      ctx.blockAll('uses channelsFirst data');
    } else if (input === null || output === null || output.length % input.length !== 0) {
      ctx.blockAll('reshapes across channels (its last axis is not a multiple of its input\'s channels)');
    } else {
      output.forEach((slot, j) => ctx.space.union(slot, input[j % input.length]));
    }
  },
  zeroOutputs(ctx: ZeroContext) {
    const input = ctx.inputs[0];
    const size = ctx.node.outputs[0].shape[ctx.node.outputs[0].shape.length - 1];
    if (input === null || size == null) return [null];
    return [Array.from({length: size}, (_, j) => input[j % input.length])];
  },
};

export const permuteRule: ChannelRule = {
  classNames: ['Permute'],
  connect(ctx) {
    const dims = ctx.config['dims'];
    const rank = ctx.input().shape.length - 1;
    if (!Array.isArray(dims) || dims[dims.length - 1] !== rank) {
      ctx.blockAll('moves the channel axis');
      return;
    }
    connectIdentity(ctx);
  },
  zeroOutputs: (ctx) => [ctx.inputs[0] === null ? null : [...ctx.inputs[0]]],
};
