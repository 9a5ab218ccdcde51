/**
 * Layers that mix channels: Dense, Conv1D/2D/3D and the transposed
 * convolutions. An input channel is a slice of the kernel along its input
 * axis; an output channel is a slice along its output axis plus a bias entry.
 */
import {activationName, channelsLast, keepsZero} from '../layer_access';
import type {ChannelRule, ConnectContext, ZeroContext} from './rule';
import {outputsFedOnlyZeros, withBias} from './zero_math';

function mixingRule(classNames: string[], inFirst: boolean, sizeKey: string): ChannelRule {
  return {
    classNames,
    connect(ctx: ConnectContext): void {
      if (!channelsLast(ctx.config)) {
        ctx.blockAll('uses channelsFirst data');
        return;
      }
      const input = ctx.space.slotsOf(ctx.input());
      const output = ctx.space.slotsOf(ctx.output());
      if (input === null || output === null) {
        ctx.blockAll('has an input or output with an unknown number of channels');
        return;
      }
      const inAxis = (rank: number) => (inFirst ? rank - 2 : rank - 1);
      const outAxis = (rank: number) => (inFirst ? rank - 1 : rank - 2);
      ctx.layerSlots('in', input, (slots) => ctx.param('kernel', inAxis, slots));
      ctx.layerSlots('out', output, (slots) => {
        ctx.param('kernel', outAxis, slots);
        ctx.param('bias', 0, slots);
      });
      ctx.space.markMixedRead(ctx.input(), input);
      ctx.blockUnlessActivationKeepsZero();
    },
    zeroOutputs(ctx: ZeroContext): Array<boolean[] | null> {
      const kernel = ctx.weight('kernel');
      if (kernel === null) return [null];
      const fed = outputsFedOnlyZeros(kernel, inFirst, ctx.inputs[0]);
      return [withBias(fed, ctx.weight('bias'), keepsZero(activationName(ctx.config)))];
    },
    resize(config, outputChannels): void {
      config[sizeKey] = outputChannels;
    },
  };
}

export const denseRule = mixingRule(['Dense'], true, 'units');
export const convRule = mixingRule(['Conv1D', 'Conv2D', 'Conv3D'], true, 'filters');
export const convTransposeRule = mixingRule(['Conv2DTranspose', 'Conv3DTranspose'], false, 'filters');

