/**
 * The channel pruner of a model under training: the group object that
 * {@link UpdatePruningStep} advances at every batch. At the steps its
 * schedule names it ranks the channels of every group and writes masks that
 * zero the least important ones into the wrappers' weights.
 */
import * as tfl from '@tensorflow/tfjs-layers';

import {assertFinite} from '../sparsity/masks/radix_select';
import type {PruneLowMagnitude} from '../sparsity/pruning_wrapper';
import {type ChannelAnalysis, analyseChannels} from './channel_analysis';
import {type ChannelImportance, channelsToPrune, isMaskedParam, zeroSlices} from './channel_masks';
import type {ParamAxis} from './channel_space';

interface MaskedWeight {
  wrapper: PruneLowMagnitude;
  index: number;
}

/** The analysis of every model trained so far (a built model's graph does not change). */
const ANALYSES = new WeakMap<tfl.LayersModel, {layers: number; analysis: ChannelAnalysis}>();

/**
 * Cuts the channel masks of one model's channel-pruning wrappers together
 * (they share one schedule and one step).
 */
export class ChannelPruner {
  private analysis: ChannelAnalysis | null = null;
  private readonly masked = new Map<tfl.LayerVariable, MaskedWeight>();
  private readonly importance: ChannelImportance;

  /**
   * @param model The model being trained.
   * @param wrappers Its wrappers created by pruneChannels (they share one schedule and one step).
   */
  constructor(private readonly model: tfl.LayersModel, private readonly wrappers: readonly PruneLowMagnitude[]) {
    this.importance = wrappers[0].channelImportance ?? 'l2';
    for (const wrapper of wrappers) {
      wrapper.getPrunedWeights().forEach(({weight}, index) => this.masked.set(weight, {wrapper, index}));
    }
  }

  /** The groups whose every weight slice is masked by one of the wrappers (the others are left alone). */
  private prunableGroups() {
    // Analysed at the first cut, once per model: a training of many short fit calls pays it once.
    if (this.analysis === null) {
      const cached = ANALYSES.get(this.model);
      // A Sequential can gain layers (model.add) between trainings: then analysed again.
      this.analysis = cached !== undefined && cached.layers === this.model.layers.length ?
        cached.analysis : analyseChannels(this.model);
      ANALYSES.set(this.model, {layers: this.model.layers.length, analysis: this.analysis});
    }
    return this.analysis.groups.filter((group) => group.channels.every((channel) =>
      channel.slices.every(({param}) => !isMaskedParam(param) || this.masked.has(param.layer.weights[param.weight]))));
  }

  /** Cuts the masks when the schedule says so at the current step. */
  async advance(): Promise<boolean> {
    const {shouldPrune, sparsity} = this.wrappers[0].currentDecision();
    if (!shouldPrune) return false;
    await this.cut(sparsity);
    return true;
  }

  /** Recomputes every channel mask at `sparsity` from the current weights and writes them. */
  async cut(sparsity: number): Promise<void> {
    const values = new Map<tfl.LayerVariable, Float32Array>();
    for (const weight of this.masked.keys()) {
      const data = (await weight.read().data()) as Float32Array;
      // Ranking NaN or infinite norms would zero arbitrary channels: refused, as magnitude pruning does.
      assertFinite(data, `weight "${weight.originalName}"`);
      values.set(weight, data);
    }
    const variableOf = (param: ParamAxis) => param.layer.weights[param.weight];
    const pruned = channelsToPrune(this.prunableGroups(), sparsity, this.importance,
        (param) => ({values: values.get(variableOf(param))!, shape: variableOf(param).shape as number[]}));
    const masks = new Map<PruneLowMagnitude, Float32Array[]>(this.wrappers.map((wrapper) =>
      [wrapper, wrapper.getPrunedWeights().map(({weight}) => new Float32Array(values.get(weight)!.length).fill(1))]));
    zeroSlices(pruned, (param) => {
      const weight = variableOf(param);
      const target = this.masked.get(weight);
      return target === undefined ? null : {mask: masks.get(target.wrapper)![target.index], shape: weight.shape as number[]};
    });
    for (const [wrapper, list] of masks) wrapper.setMasks(list, list.map(() => 0));
  }
}
