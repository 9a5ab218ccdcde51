/**
 * Channel masks: the importance of every channel of a group (the norm of all
 * the weight slices it spans, Torch-Pruning's group importance), the choice of
 * the least important ones at a sparsity, and the 0/1 masks that zero them.
 */
import type * as tfl from '@tensorflow/tfjs-layers';

import {keepCount} from '../sparsity/pruning_impl';
import type {Channel, ChannelGroupInternal, ChannelSlice} from './channel_analysis';
import type {ParamAxis} from './channel_space';

/**
 * How a channel's importance is measured over every weight slice of its
 * group: `'l2'` (default) the Euclidean norm, `'l1'` the sum of magnitudes.
 *
 * @category Channel pruning
 */
export type ChannelImportance = 'l2' | 'l1';

/** BatchNormalization's moving statistics: neither ranked nor zeroed (a zero gamma and beta silence the channel). */
const STATISTICS = ['moving_mean', 'moving_variance'];

function isStatistic(variable: tfl.LayerVariable): boolean {
  const name = variable.originalName;
  return STATISTICS.includes(name.slice(name.lastIndexOf('/') + 1).replace(/_\d+$/, ''));
}

/** Whether a parameter slice takes part in ranking and zeroing channels. */
export function isMaskedParam(param: ParamAxis): boolean {
  return !isStatistic(param.layer.weights[param.weight]);
}

/**
 * The weights a channel-pruning wrapper masks: every float32 weight of the
 * layer but BatchNormalization's moving statistics.
 */
export function channelWeightsOf(layer: tfl.layers.Layer): tfl.LayerVariable[] {
  return layer.weights.filter((weight) => weight.dtype === 'float32' && !isStatistic(weight));
}

/** The stride and size of `axis` in a row-major shape. */
function axisLayout(shape: readonly number[], axis: number): {stride: number; size: number} {
  let stride = 1;
  for (let a = shape.length - 1; a > axis; a--) stride *= shape[a];
  return {stride, size: shape[axis]};
}

/** Per index along `param.axis`: the sum of |w| (l1) or w² (l2) over the slice. */
function sliceSums(values: ArrayLike<number>, shape: readonly number[], axis: number, importance: ChannelImportance):
    Float64Array {
  const {stride, size} = axisLayout(shape, axis);
  const sums = new Float64Array(size);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    sums[Math.floor(i / stride) % size] += importance === 'l1' ? Math.abs(v) : v * v;
  }
  return sums;
}

/** Reads a weight's current values and shape. */
export type ReadWeight = (param: ParamAxis) => {values: ArrayLike<number>; shape: readonly number[]};

/**
 * The channels to zero at `sparsity`: in every group, the
 * `n - max(round(n * (1 - sparsity)), 1)` channels of least importance
 * (tfmot's k-rule on channels; ties to the lower index), among those that may
 * be pruned.
 */
export function channelsToPrune(
    groups: readonly ChannelGroupInternal[], sparsity: number, importance: ChannelImportance,
    read: ReadWeight): Channel[] {
  const sums = new Map<ParamAxis, Float64Array>();
  const score = (slice: ChannelSlice): number => {
    if (!isMaskedParam(slice.param)) return 0;
    let table = sums.get(slice.param);
    if (table === undefined) {
      const {values, shape} = read(slice.param);
      table = sliceSums(values, shape, slice.param.axis, importance);
      sums.set(slice.param, table);
    }
    return table[slice.index];
  };
  const pruned: Channel[] = [];
  for (const group of groups) {
    const candidates = group.channels.filter((c) => c.reasons.length === 0 && c.slices.length > 0);
    const count = Math.min(group.channels.length - keepCount(group.channels.length, sparsity), candidates.length);
    if (count <= 0) continue;
    const ranked = candidates.map((channel, order) => ({channel, order, value: channel.slices.reduce((s, x) => s + score(x), 0)}))
        .sort((a, b) => a.value - b.value || a.order - b.order);
    pruned.push(...ranked.slice(0, count).map((r) => r.channel));
  }
  return pruned;
}

/** Zeroes, in `masks` (one flat 0/1 array per weight), every slice of the given channels. */
export function zeroSlices(
    channels: readonly Channel[], maskOf: (param: ParamAxis) => {mask: Float32Array; shape: readonly number[]} | null):
    void {
  for (const channel of channels) {
    for (const {param, index} of channel.slices) {
      if (!isMaskedParam(param)) continue;
      const target = maskOf(param);
      if (target === null) continue;
      const {stride, size} = axisLayout(target.shape, param.axis);
      const {mask} = target;
      for (let outer = 0; outer < mask.length; outer += stride * size) {
        mask.fill(0, outer + index * stride, outer + (index + 1) * stride);
      }
    }
  }
}
