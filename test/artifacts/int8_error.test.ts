// The rules quantizeArtifacts applies to graph models at int8 (src/artifacts/int8_error.ts, graph_roles.ts):
// MSE-optimal clipping per tensor, the error of each output channel, the float16 fallback, and which
// constants are weight operands.
import * as tf from '@tensorflow/tfjs-core';

import {quantizeArtifacts} from '../../src';
import {isWeightOperand} from '../../src/artifacts/graph_roles';
import {channelErrors, clipChannels, mseOptimalClip} from '../../src/artifacts/int8_error';
import {gaussians} from '../quantization/fixtures';
import {loadHumanModel, tfconv} from './fixtures';

const role = (ops: string[], kernel: 'inputs-outputs' | null) => ({names: ['w'], ops, isBias: false, channelAxis: null, kernel});

it('clips a Gaussian weight below max|w| and a uniform one not at all', () => {
  const g = gaussians(20000, 1, 1);
  const max = g.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
  const layout = {outer: 1, channels: 1, inner: g.length};
  const clip = mseOptimalClip(g, layout, Float64Array.of(max))[0];
  expect(clip).toBeLessThan(max);
  expect(clip).toBeGreaterThan(0.5 * max);
  const u = Float32Array.from({length: 4096}, (_, i) => ((i * 7919) % 4096) / 2048 - 1);
  expect(mseOptimalClip(u, {outer: 1, channels: 1, inner: u.length}, Float64Array.of(1))[0]).toBe(1);
  expect(Array.from(clipChannels(Float32Array.of(-3, 0.5, 3), layout, Float64Array.of(1)))).toEqual([-1, 0.5, 1]);
});

it('measures each output channel relative to its own size, all-zero channels left out', () => {
  // [2, 3]: channels on the last axis; channel 2 is all zero.
  const values = Float32Array.of(1, 0.01, 0, -1, 0.01, 0);
  const decoded = Float32Array.of(1, 0, 0, -1, 0, 0);
  const {median, mean} = channelErrors(values, decoded, [2, 3], 1);
  expect(mean).toBeCloseTo(0.5, 6); // channel 0 exact, channel 1 lost
  expect(median).toBeCloseTo(0.5, 6);
  expect(channelErrors(values, values, [2, 3], 1).median).toBe(0);
});

it('quantizes only weight operands of a graph model: kernels, lookup tables, weights of unknown use', () => {
  expect(isWeightOperand(role(['_FusedConv2D'], 'inputs-outputs'))).toBe(true);
  expect(isWeightOperand(role(['GatherV2'], null))).toBe(true);
  expect(isWeightOperand(role([], null))).toBe(true);
  expect(isWeightOperand(role(['AddV2'], null))).toBe(false);
  expect(isWeightOperand(role(['Mul', 'Reshape'], null))).toBe(false);
});

it('keeps an anchors-like constant read by Add at full precision, even with minElements 0', async () => {
  const anchors = gaussians(2048, 3, 10);
  const artifacts: tf.io.ModelArtifacts = {
    format: 'graph-model',
    modelTopology: {node: [
      {name: 'x', op: 'Placeholder', attr: {dtype: {type: 'DT_FLOAT'}}},
      {name: 'anchors', op: 'Const', attr: {dtype: {type: 'DT_FLOAT'}}},
      {name: 'y', op: 'AddV2', input: ['x', 'anchors']},
    ]},
    weightSpecs: [{name: 'anchors', shape: [1024, 2], dtype: 'float32'}],
    weightData: anchors.slice().buffer,
  };
  const int8 = await quantizeArtifacts(artifacts, {minElements: 0});
  expect(int8.weightSpecs![0].quantization).toBeUndefined();
});

it('keeps in float16 the BlazeFace filter whose channels int8 per tensor zeroes, reports it, loads with stock tfjs', async () => {
  const original = loadHumanModel('blazeface');
  const reported: Array<{name: string; int8Error: number}> = [];
  const int8 = await quantizeArtifacts(original, {onFloat16Fallback: (w) => reported.push(w)});
  // unknown_127 [1, 1, 96, 96]: channel maxima from 7e-6 to 0.51; per tensor, the median channel is all zeros.
  expect(reported.map((w) => w.name)).toEqual(['unknown_127']);
  expect(reported[0].int8Error).toBeGreaterThan(0.9);
  expect(int8.weightSpecs!.find((s) => s.name === 'unknown_127')!.quantization?.dtype).toBe('float16');
  const model = await tfconv.loadGraphModel(tf.io.fromMemory(int8));
  model.dispose();
  // Per channel, every channel has its own scale: nothing falls back.
  const perChannel: string[] = [];
  await quantizeArtifacts(original, {perChannel: true, onFloat16Fallback: (w) => perChannel.push(w.name)});
  expect(perChannel).toEqual([]);
});

it('rejects an onFloat16Fallback that is not a function', async () => {
  await expect(quantizeArtifacts(loadHumanModel('liveness'), {onFloat16Fallback: 1 as never})).rejects.toThrow(
      /'onFloat16Fallback' must be a function/);
});
