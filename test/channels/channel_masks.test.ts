// Channel importance and masks: tfmot's k-rule on channels, ties to the lower index, slices zeroed exactly.
import * as tfl from '@tensorflow/tfjs-layers';

import {analyseChannels} from '../../src/channels/channel_analysis';
import {channelsToPrune, zeroSlices} from '../../src/channels/channel_masks';
import type {ParamAxis} from '../../src/channels/channel_space';
import {weightRole} from '../../src/channels/layer_access';

function mlp(): tfl.Sequential {
  return tfl.sequential({layers: [
    tfl.layers.dense({units: 4, inputShape: [2], name: 'a'}),
    tfl.layers.dense({units: 1, name: 'b'}),
  ]});
}

/** Weights: a's kernel columns and bias, then b's rows; each channel's L2 norm is set by its values. */
function values(): Map<string, {values: Float32Array; shape: number[]}> {
  return new Map([
    ['a:kernel', {values: new Float32Array([3, 0, 1, 0.5, 4, 0, 1, 0.5]), shape: [2, 4]}],
    ['a:bias', {values: new Float32Array([0, 0.1, 0, 0]), shape: [4]}],
    ['b:kernel', {values: new Float32Array([1, 0, 2, -1]), shape: [4, 1]}],
    ['b:bias', {values: new Float32Array([0]), shape: [1]}],
  ].map(([k, v]) => [k as string, v as {values: Float32Array; shape: number[]}]));
}

const key = (param: ParamAxis) => `${param.layer.name}:${weightRole(param.layer.weights[param.weight])}`;

describe('channel masks', () => {
  it('prunes the channels of least L2 norm over every slice of the group, keeping max(round(n(1-s)), 1)', () => {
    const model = mlp();
    const analysis = analyseChannels(model);
    const table = values();
    const read = (param: ParamAxis) => table.get(key(param))!;
    // Channel norms squared: c0 = 9+16+0+1 = 26, c1 = 0+0+0.01+0 = 0.01, c2 = 1+1+0+4 = 6, c3 = 0.25+0.25+0+1 = 1.5.
    const at = (s: number) => channelsToPrune(analysis.groups, s, 'l2', read).map((c) => c.slices[0].index);
    expect(at(0.5).sort()).toEqual([1, 3]);
    expect(at(0.3)).toEqual([1]);
    expect(at(0.99)).toEqual([1, 3, 2]);
    expect(at(0)).toEqual([]);
  });

  it('ranks by L1 when asked', () => {
    const model = mlp();
    const analysis = analyseChannels(model);
    const table = values();
    // L1: c0 = 3+4+0+1 = 8, c1 = 0.1, c2 = 1+1+2 = 4, c3 = 0.5+0.5+1 = 2.
    const pruned = channelsToPrune(analysis.groups, 0.5, 'l1', (p) => table.get(key(p))!);
    expect(pruned.map((c) => c.slices[0].index)).toEqual([1, 3]);
  });

  it('zeroes exactly the slices of the pruned channels', () => {
    const model = mlp();
    const analysis = analyseChannels(model);
    const table = values();
    const pruned = channelsToPrune(analysis.groups, 0.5, 'l2', (p) => table.get(key(p))!);
    const masks = new Map<string, Float32Array>();
    zeroSlices(pruned, (param) => {
      const k = key(param);
      if (!masks.has(k)) masks.set(k, new Float32Array(table.get(k)!.values.length).fill(1));
      return {mask: masks.get(k)!, shape: table.get(k)!.shape};
    });
    expect(Array.from(masks.get('a:kernel')!)).toEqual([1, 0, 1, 0, 1, 0, 1, 0]);
    expect(Array.from(masks.get('a:bias')!)).toEqual([1, 0, 1, 0]);
    expect(Array.from(masks.get('b:kernel')!)).toEqual([1, 0, 1, 0]);
    expect(masks.has('b:bias')).toBe(false);
  });
});
