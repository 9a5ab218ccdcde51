/**
 * DepthwiseConv2D and SeparableConv2D: each input channel has its own
 * filters, so input channel `i` and its `depthMultiplier` outputs
 * `i * m .. i * m + m - 1` are one channel for pruning. SeparableConv2D then
 * mixes them in its pointwise kernel (whose row `k` belongs to input `k / m`).
 */
import {activationName, channelsLast, keepsZero} from '../layer_access';
import type {ChannelRule, ConnectContext, WeightValues, ZeroContext} from './rule';
import {outputsFedOnlyZeros, withBias} from './zero_math';

/** Per depthwise output `i * m + j`: zero when input `i` is zero or its filter `j` is all zeros. */
function depthwiseZeros(kernel: WeightValues, inputZero: readonly boolean[] | null): boolean[] {
  const [kh, kw, channels, m] = kernel.shape;
  const zero = new Array<boolean>(channels * m).fill(true);
  for (let i = 0; i < kh * kw * channels * m; i++) {
    if (kernel.values[i] === 0) continue;
    const k = i % (channels * m);
    if (inputZero?.[Math.floor(k / m)] !== true) zero[k] = false;
  }
  return zero;
}

/**
 * Joins the input slots to the depthwise kernel's input axis, registers the
 * output slots' weight axes with `registerOutputs` (given the input slots and
 * the depth multiplier `m`), and blocks the outputs when the activation does
 * not keep zeros. Returns the slots and `m`, or null when blocked.
 */
function connectDepthwise(
    ctx: ConnectContext, registerOutputs: (outSlots: number[], inSlots: number[], m: number) => void):
    {input: number[]; output: number[]; m: number} | null {
  if (!channelsLast(ctx.config)) {
    ctx.blockAll('uses channelsFirst data');
    return null;
  }
  const input = ctx.space.slotsOf(ctx.input());
  const output = ctx.space.slotsOf(ctx.output());
  const index = ctx.layer.weights.findIndex((w) => /depthwise_kernel(_\d+)?$/.test(w.originalName ?? w.name));
  if (input === null || output === null || index < 0) {
    ctx.blockAll('has an input or output with an unknown number of channels');
    return null;
  }
  const m = ctx.layer.weights[index].shape[3] as number;
  const inSlots = ctx.layerSlots('in', input, (slots) => ctx.param('depthwise_kernel', 2, slots));
  ctx.layerSlots('out', output, (slots) => registerOutputs(slots, inSlots, m));
  ctx.blockUnlessActivationKeepsZero();
  return {input: inSlots, output, m};
}

export const depthwiseRule: ChannelRule = {
  classNames: ['DepthwiseConv2D'],
  connect(ctx) {
    const joined = connectDepthwise(ctx, (slots) => ctx.param('bias', 0, slots));
    // Output i * m + j is input i's channel: removing one removes the other.
    joined?.output.forEach((slot, k) => ctx.space.union(slot, joined.input[Math.floor(k / joined.m)]));
  },
  zeroOutputs(ctx: ZeroContext) {
    const kernel = ctx.weight('depthwise_kernel');
    if (kernel === null) return [null];
    return [withBias(depthwiseZeros(kernel, ctx.inputs[0]), ctx.weight('bias'), keepsZero(activationName(ctx.config)))];
  },
};

export const separableRule: ChannelRule = {
  classNames: ['SeparableConv2D'],
  connect(ctx) {
    const joined = connectDepthwise(ctx, (slots, input, m) => {
      ctx.param('pointwise_kernel', 2, Array.from({length: input.length * m}, (_, k) => input[Math.floor(k / m)]));
      ctx.param('pointwise_kernel', 3, slots);
      ctx.param('bias', 0, slots);
    });
    if (joined !== null) ctx.space.markMixedRead(ctx.input(), ctx.space.slotsOf(ctx.input()) ?? []);
  },
  zeroOutputs(ctx: ZeroContext) {
    const depthwise = ctx.weight('depthwise_kernel');
    const pointwise = ctx.weight('pointwise_kernel');
    if (depthwise === null || pointwise === null) return [null];
    const inner = depthwiseZeros(depthwise, ctx.inputs[0]);
    const fed = outputsFedOnlyZeros(pointwise, true, inner);
    return [withBias(fed, ctx.weight('bias'), keepsZero(activationName(ctx.config)))];
  },
  resize(config, outputChannels) {
    config['filters'] = outputChannels;
  },
};
