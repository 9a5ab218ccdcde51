/**
 * Merge layers. Add, Subtract, Multiply, Average, Maximum and Minimum join
 * channel `c` of every input and of the output into one channel (Torch-Pruning's
 * elementwise coupling); Concatenate on the last axis shifts each input's
 * channels by the sizes of the inputs before it.
 */
import type {ChannelRule, ConnectContext, ZeroContext} from './rule';

function inputSlots(ctx: ConnectContext): number[][] | null {
  const slots = ctx.node.inputs.map((t) => ctx.space.slotsOf(t));
  return slots.some((s) => s === null) ? null : (slots as number[][]);
}

function connectElementwise(ctx: ConnectContext): void {
  const inputs = inputSlots(ctx);
  const output = ctx.space.slotsOf(ctx.output());
  if (inputs === null || output === null || inputs.some((s) => s.length !== output.length)) {
    ctx.blockAll('merges inputs with unknown or different numbers of channels (broadcasting)');
    return;
  }
  for (const slots of inputs) ctx.space.unionAll(slots, output);
}

function elementwiseZeros(any: boolean) {
  return (ctx: ZeroContext): Array<boolean[] | null> => {
    const inputs = ctx.inputs;
    const channels = inputs.find((z) => z !== null)?.length;
    if (channels === undefined) return [null];
    const zero = Array.from({length: channels}, (_, c) =>
      any ? inputs.some((z) => z?.[c] === true) : inputs.every((z) => z?.[c] === true));
    return [zero];
  };
}

export const sumLikeRule: ChannelRule = {
  classNames: ['Add', 'Subtract', 'Average', 'Maximum', 'Minimum'],
  connect: connectElementwise,
  zeroOutputs: elementwiseZeros(false),
};

export const multiplyRule: ChannelRule = {
  classNames: ['Multiply'],
  connect: connectElementwise,
  zeroOutputs: elementwiseZeros(true),
};

function concatenatesChannels(ctx: {config: {[key: string]: unknown}; node: {outputs: Array<{shape: readonly unknown[]}>}}) {
  const axis = Number(ctx.config['axis'] ?? -1);
  return axis === -1 || axis === ctx.node.outputs[0].shape.length - 1;
}

export const concatenateRule: ChannelRule = {
  classNames: ['Concatenate'],
  connect(ctx) {
    if (!concatenatesChannels(ctx)) {
      connectElementwise(ctx);
      return;
    }
    const inputs = inputSlots(ctx);
    const output = ctx.space.slotsOf(ctx.output());
    const total = inputs?.reduce((sum, s) => sum + s.length, 0);
    if (inputs === null || output === null || total !== output.length) {
      ctx.blockAll('concatenates inputs with an unknown number of channels');
      return;
    }
    let offset = 0;
    for (const slots of inputs) {
      ctx.space.unionAll(slots, output.slice(offset, offset + slots.length));
      offset += slots.length;
    }
  },
  zeroOutputs(ctx) {
    if (!concatenatesChannels(ctx)) return elementwiseZeros(false)(ctx);
    if (ctx.inputs.some((z) => z === null)) return [null];
    return [ctx.inputs.flatMap((z) => [...(z as boolean[])])];
  },
};
