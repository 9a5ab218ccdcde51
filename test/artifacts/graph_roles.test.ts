// The role of each graph-model weight comes from the ops that consume it (synthetic GraphDefs).
import {describeGraphWeights} from '../../src/artifacts/graph_roles';

function roles(nodes: object[], shapes: Record<string, number[]>) {
  return describeGraphWeights({node: nodes}, new Map(Object.entries(shapes)));
}

const matmul = (name: string, a: string, b: string, ta: boolean, tb: boolean, op = 'MatMul') =>
  ({name, op, input: [a, b], attr: {transpose_a: {b: ta}, transpose_b: {b: tb}}});

it('reads MatMul operands with their transposes: the output axis is the one not contracted', () => {
  const r = roles([
    matmul('m1', 'x', 'b', false, false), matmul('m2', 'x', 'bt', false, true),
    matmul('m3', 'a', 'x', false, false), matmul('m4', 'at', 'x', true, false),
  ], {b: [32, 64], bt: [64, 32], a: [64, 32], at: [32, 64]});
  expect([r.get('b'), r.get('bt'), r.get('a'), r.get('at')].map((x) => [x!.channelAxis, x!.kernel])).toEqual([
    [1, 'inputs-outputs'], [0, 'outputs-inputs'], [0, 'outputs-inputs'], [1, 'inputs-outputs'],
  ]);
});

it('reads BatchMatMulV2 adj_y, fused ops and their bias arguments', () => {
  const r = roles([
    {name: 'bm', op: 'BatchMatMulV2', input: ['x', 'w'], attr: {adj_x: {b: false}, adj_y: {b: true}}},
    {name: 'c', op: '_FusedConv2D', input: ['x', 'f', 'bias'], attr: {}},
    {name: 'd', op: 'FusedDepthwiseConv2dNative', input: ['x', 'dw', 'dbias'], attr: {}},
    {name: 't', op: 'Conv2DBackpropInput', input: ['shape', 'tf', 'x'], attr: {}},
  ], {w: [64, 32], f: [3, 3, 8, 16], bias: [16], dw: [3, 3, 8, 1], dbias: [8], tf: [3, 3, 4, 8]});
  expect(r.get('w')).toMatchObject({channelAxis: 0, kernel: 'outputs-inputs', isBias: false});
  expect(r.get('f')).toMatchObject({channelAxis: 3, kernel: 'inputs-outputs', ops: ['_FusedConv2D']});
  expect(r.get('bias')).toMatchObject({isBias: true, channelAxis: null, kernel: null});
  expect(r.get('dw')).toMatchObject({channelAxis: 2, kernel: 'depthwise'});
  expect(r.get('dbias')).toMatchObject({isBias: true});
  expect(r.get('tf')).toMatchObject({channelAxis: 2, kernel: 'transposed-convolution'});
});

it('follows Identity nodes, ignores control inputs, and keeps per tensor when consumers disagree', () => {
  const r = roles([
    {name: 'id', op: 'Identity', input: ['w:0']},
    matmul('m', 'x', 'id', false, false),
    {name: 'n', op: 'NoOp', input: ['^v']},
    matmul('m1', 'x', 'v', false, false), matmul('m2', 'x', 'v', false, true),
    {name: 'g', op: 'GatherV2', input: ['e', 'ids', 'axis']},
  ], {w: [8, 4], v: [8, 8], e: [100, 16], unused: [4, 4]});
  expect(r.get('w')).toMatchObject({channelAxis: 1, kernel: 'inputs-outputs', ops: ['MatMul']});
  expect(r.get('v')).toMatchObject({channelAxis: null, kernel: null});
  expect(r.get('e')).toMatchObject({channelAxis: null, kernel: null, isBias: false, ops: ['GatherV2']});
  expect(r.get('unused')).toMatchObject({channelAxis: null, kernel: null, isBias: false, ops: []});
});
