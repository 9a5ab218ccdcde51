/**
 * One-shot channel pruning without training: a copy of a plain model in
 * which the least important channels of every group are zero (then
 * {@link shrinkModel} removes them). Used by the benchmarks and by pruning
 * without training code.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {analyseChannels} from './channel_analysis';
import {type ChannelImportance, channelsToPrune, zeroSlices} from './channel_masks';
import type {ParamAxis} from './channel_space';
import {cloneModel} from './model_walk';
import {checkLayersModel} from './shrink';

/**
 * Zeroes, in a copy of `model`, the fraction `sparsity` of least important
 * channels of every prunable group (the k-rule of {@link pruneChannels}).
 *
 * @returns The copy (uncompiled) and the number of channels zeroed.
 */
export function zeroLeastImportantChannels(
    model: tfl.LayersModel, sparsity: number, importance: ChannelImportance = 'l2'):
    {model: tfl.LayersModel; zeroed: number} {
  checkLayersModel('zeroLeastImportantChannels', model);
  if (typeof sparsity !== 'number' || !(sparsity >= 0 && sparsity < 1)) {
    throw new RangeError(`zeroLeastImportantChannels: 'sparsity' must be in [0, 1), but got ${String(sparsity)}.`);
  }
  const copy = cloneModel(model);
  const analysis = analyseChannels(copy);
  const values = new Map<tfl.LayerVariable, Float32Array>();
  const variableOf = (param: ParamAxis) => param.layer.weights[param.weight];
  const valuesOf = (param: ParamAxis) => {
    const variable = variableOf(param);
    let data = values.get(variable);
    if (data === undefined) {
      data = variable.read().dataSync() as Float32Array;
      values.set(variable, data);
    }
    return data;
  };
  const pruned = channelsToPrune(analysis.groups, sparsity, importance,
      (param) => ({values: valuesOf(param), shape: variableOf(param).shape as number[]}));
  const masks = new Map<tfl.LayerVariable, Float32Array>();
  zeroSlices(pruned, (param) => {
    const variable = variableOf(param);
    let mask = masks.get(variable);
    if (mask === undefined) {
      mask = new Float32Array(valuesOf(param).length).fill(1);
      masks.set(variable, mask);
    }
    return {mask, shape: variable.shape as number[]};
  });
  tf.tidy(() => {
    for (const [variable, mask] of masks) {
      variable.write(tf.mul(variable.read(), tf.tensor(mask, variable.shape as number[])));
    }
  });
  return {model: copy, zeroed: pruned.length};
}
