/**
 * Layers that act on each channel alone (activations, dropout, pooling,
 * padding, cropping, upsampling, resizing): channel `c` of the input is
 * channel `c` of the output, and a zero channel stays zero.
 */
import {activationName, channelsLast, keepsZero} from '../layer_access';
import type {ChannelRule, ConnectContext, ZeroContext} from './rule';

/** Joins input and output slot by slot; false (and all blocked) when that is impossible. */
export function connectIdentity(ctx: ConnectContext): boolean {
  if (!channelsLast(ctx.config)) {
    ctx.blockAll('uses channelsFirst data');
    return false;
  }
  const input = ctx.space.slotsOf(ctx.input());
  const output = ctx.space.slotsOf(ctx.output());
  if (input === null || output === null || input.length !== output.length) {
    ctx.blockAll('has an input or output with an unknown or different number of channels');
    return false;
  }
  ctx.space.unionAll(input, output);
  return true;
}

const sameZeros = (ctx: ZeroContext) => [ctx.inputs[0] === null ? null : [...ctx.inputs[0]]];

export const channelwiseRule: ChannelRule = {
  classNames: [
    'ReLU', 'LeakyReLU', 'ELU', 'ThresholdedReLU', 'Dropout', 'SpatialDropout1D', 'GaussianNoise', 'GaussianDropout',
    'AlphaDropout', 'ZeroPadding2D', 'Cropping2D', 'UpSampling2D', 'MaxPooling1D', 'MaxPooling2D', 'MaxPooling3D',
    'AveragePooling1D', 'AveragePooling2D', 'AveragePooling3D', 'GlobalAveragePooling1D', 'GlobalAveragePooling2D',
    'GlobalMaxPooling1D', 'GlobalMaxPooling2D', 'RepeatVector', 'Resizing', 'CenterCrop',
  ],
  connect: (ctx) => void connectIdentity(ctx),
  zeroOutputs: sameZeros,
};

/** Activation: per channel when its function maps 0 to 0; softmax mixes channels. */
export const activationRule: ChannelRule = {
  classNames: ['Activation'],
  connect(ctx) {
    const activation = activationName(ctx.config);
    if (activation === 'softmax') {
      ctx.blockAll('applies softmax across channels');
      return;
    }
    if (!connectIdentity(ctx)) return;
    ctx.blockUnlessActivationKeepsZero();
  },
  zeroOutputs: (ctx) => (keepsZero(activationName(ctx.config)) ? sameZeros(ctx) : [null]),
};

/** Rescaling: `x * scale + offset`, zero-keeping only without an offset. */
export const rescalingRule: ChannelRule = {
  classNames: ['Rescaling'],
  connect(ctx) {
    if (!connectIdentity(ctx)) return;
    if (Number(ctx.config['offset'] ?? 0) !== 0) {
      ctx.space.blockTensor(ctx.output(), `${ctx.where} adds an offset, so a zero channel does not stay zero`);
    }
  },
  zeroOutputs: (ctx) => (Number(ctx.config['offset'] ?? 0) === 0 ? sameZeros(ctx) : [null]),
};

/** PReLU: per channel, with one alpha per channel along its last axis (unless alpha is shared there). */
export const preluRule: ChannelRule = {
  classNames: ['PReLU'],
  connect(ctx) {
    if (!connectIdentity(ctx)) return;
    const output = ctx.space.slotsOf(ctx.output()) ?? [];
    ctx.layerSlots('channels', output, (slots) => {
      const alpha = ctx.layer.weights.find((w) => /alpha(_\d+)?$/.test(w.originalName ?? w.name));
      if (alpha !== undefined && alpha.shape[alpha.shape.length - 1] === slots.length && slots.length > 1) {
        ctx.param('alpha', (rank) => rank - 1, slots);
      }
    });
  },
  zeroOutputs: sameZeros,
};
