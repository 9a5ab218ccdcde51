/**
 * The channel rules, one per kind of layer, and the reasons given for the
 * layers that have none. Adding a kind of layer: one file, one line in RULES.
 */
import {batchNormRule} from './batch_norm';
import {activationRule, channelwiseRule, preluRule, rescalingRule} from './channelwise';
import {depthwiseRule, separableRule} from './depthwise';
import {embeddingRule} from './embedding';
import {concatenateRule, multiplyRule, sumLikeRule} from './merge';
import {convRule, convTransposeRule, denseRule} from './mixing';
import {permuteRule, reshapeRule} from './reshape';
import type {ChannelRule} from './rule';

const RULES: readonly ChannelRule[] = [
  denseRule, convRule, convTransposeRule, depthwiseRule, separableRule, batchNormRule, channelwiseRule,
  activationRule, rescalingRule, preluRule, sumLikeRule, multiplyRule, concatenateRule, reshapeRule, permuteRule,
  embeddingRule,
];

const BY_CLASS = new Map<string, ChannelRule>(RULES.flatMap((rule) => rule.classNames.map((name) => [name, rule])));

/** Why the layers without a rule keep their channels. */
const KNOWN_REASONS = new Map<string, string>([
  ['LayerNormalization', 'normalizes across channels'],
  ['Softmax', 'applies softmax across channels'],
  ['Masking', 'masks a time step by looking at all its channels'],
  ['Dot', 'contracts channels between its inputs'],
  ...['SimpleRNN', 'GRU', 'LSTM', 'RNN', 'ConvLSTM2D', 'Bidirectional', 'TimeDistributed']
      .map((name): [string, string] => [name, 'is a recurrent or wrapper layer, which channel pruning does not support']),
]);

/** The rule for a tfjs class name, if the package has one. */
export function ruleFor(className: string): ChannelRule | undefined {
  return BY_CLASS.get(className);
}

/** Why a layer of `className` blocks the channels it touches. */
export function unsupportedReason(className: string): string {
  return KNOWN_REASONS.get(className) ?? 'is not a layer channel pruning knows';
}

export type {ChannelRule} from './rule';
export {ConnectContext} from './rule';
