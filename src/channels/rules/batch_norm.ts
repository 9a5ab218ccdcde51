/**
 * BatchNormalization on the last axis: channel `c` of its input, its output,
 * and entry `c` of gamma, beta, the moving mean and the moving variance are
 * one channel. Its output channel is zero when gamma and beta are (whatever
 * the input), or when the input is zero and `beta - gamma * mean / sqrt(var + eps)` is.
 */
import type {ChannelRule, ZeroContext} from './rule';

const ROLES = ['gamma', 'beta', 'moving_mean', 'moving_variance'];

function normalizesLastAxis(axis: unknown, rank: number): boolean {
  const axes = Array.isArray(axis) ? axis : [axis ?? -1];
  return axes.length === 1 && (axes[0] === -1 || axes[0] === rank - 1);
}

export const batchNormRule: ChannelRule = {
  classNames: ['BatchNormalization'],
  connect(ctx) {
    const input = ctx.space.slotsOf(ctx.input());
    const output = ctx.space.slotsOf(ctx.output());
    if (input === null || output === null || !normalizesLastAxis(ctx.config['axis'], ctx.input().shape.length)) {
      ctx.blockAll('does not normalize the last axis of a tensor with a known number of channels');
      return;
    }
    ctx.space.unionAll(input, output);
    ctx.layerSlots('channels', output, (slots) => ROLES.forEach((role) => ctx.param(role, 0, slots)));
  },
  zeroOutputs(ctx: ZeroContext) {
    const gamma = ctx.weight('gamma');
    const beta = ctx.weight('beta');
    const mean = ctx.weight('moving_mean');
    const variance = ctx.weight('moving_variance');
    const input = ctx.inputs[0];
    if (input === null || mean === null || variance === null) return [null];
    const epsilon = Number(ctx.config['epsilon'] ?? 1e-3);
    return [input.map((zero, c) => {
      const g = gamma === null ? 1 : gamma.values[c];
      const b = beta === null ? 0 : beta.values[c];
      if (g === 0 && b === 0) return true;
      if (!zero) return false;
      const offset = Math.fround(b - Math.fround(g * Math.fround(mean.values[c] /
          Math.fround(Math.sqrt(Math.fround(variance.values[c] + epsilon))))));
      return offset === 0 && b === 0 && (g === 0 || mean.values[c] === 0);
    })];
  },
};
