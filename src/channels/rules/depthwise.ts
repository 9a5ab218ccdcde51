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

/** Joins input and output slots and the depthwise kernel's input axis; returns m, or null when blocked. */
function connectDepthwise(ctx: ConnectContext): {input: number[]; output: number[]; m: number} | null {
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
  return {input: inSlots, output, m};
}

export const depthwiseRule: ChannelRule = {
  classNames: ['DepthwiseConv2D'],
  connect(ctx) {
    const joined = connectDepthwise(ctx);
    if (joined === null) return;
    const {input, output, m} = joined;
    ctx.layerSlots('out', output, (slots) => ctx.param('bias', 0, slots));
    output.forEach((slot, k) => ctx.space.union(slot, input[Math.floor(k / m)]));
    ctx.blockUnlessActivationKeepsZero();
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
    const joined = connectDepthwise(ctx);
    if (joined === null) return;
    const {input, output, m} = joined;
    ctx.layerSlots('out', output, (slots) => {
      ctx.param('pointwise_kernel', 2, Array.from({length: input.length * m}, (_, k) => input[Math.floor(k / m)]));
      ctx.param('pointwise_kernel', 3, slots);
      ctx.param('bias', 0, slots);
    });
    ctx.space.markMixedRead(ctx.input(), ctx.space.slotsOf(ctx.input()) ?? []);
    ctx.blockUnlessActivationKeepsZero();
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
