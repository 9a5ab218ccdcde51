/**
 * What registerSparseKernels buys at inference (issue 17). Each figure is
 * the stock kernel's time over the sparse kernel's on the same call,
 * interleaved in one run: the sparse kernels are registered (and their
 * sparse forms built, untimed) before each timed sparse call and removed
 * before each stock one. "Stock" is whatever was registered before: in
 * `npm run bench` that includes registerTrainingKernels, whose cpu products
 * are faster than tfjs-backend-cpu's own.
 *
 * - Dense 1600 -> 256 (fused bias and ReLU) at 70% and 90% unstructured
 *   sparsity, batch 1 and 32; and [1, 4]-blocked at 90%.
 * - 1x1 Conv2D 14x14x256 -> 256 (fused bias and ReLU) at 80%.
 * - The fallback: 30%, 50% and 2:4 sparsity, where the stock kernel must
 *   run on wasm (at least 0.97x: never slower; on cpu, whose stock kernels
 *   are slow at batch 1, the sparse one may run and win).
 * - End to end: `predict` of a MobileNetV1-style model (128x128x3, width 1)
 *   whose 1x1 convolutions and Dense layer are 90% sparse, batch 1.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import {registerSparseKernels, unregisterSparseKernels} from '../../src';
import {Backend, Figure, Rounds, Settings, Target, figure} from './figures';
import {interleave, pairedRatios, summarize} from './harness';
import {SparsityPattern, mobileNetV1Style, prunePointwise, prunedValues, uniformValues} from './sparse_models';

/** One product figure. */
interface Case {
  id: string;
  title: string;
  kind: 'dense' | 'conv';
  sparsity: number;
  pattern: SparsityPattern;
  batch: number;
  /** Least speed-up on wasm and on cpu (null: reported only). */
  target: {wasm: number | null; cpu: number | null};
}

const FALLBACK = 0.97;

const CASES: readonly Case[] = [
  {id: 'dense-70-b1', title: 'Dense 1600->256, 70% sparse, batch 1', kind: 'dense', sparsity: 0.7, pattern: 'unstructured', batch: 1, target: {wasm: 1.4, cpu: null}},
  {id: 'dense-70-b32', title: 'Dense 1600->256, 70% sparse, batch 32', kind: 'dense', sparsity: 0.7, pattern: 'unstructured', batch: 32, target: {wasm: 1.4, cpu: null}},
  {id: 'dense-90-b1', title: 'Dense 1600->256, 90% sparse, batch 1', kind: 'dense', sparsity: 0.9, pattern: 'unstructured', batch: 1, target: {wasm: 3.5, cpu: 2}},
  {id: 'dense-90-b32', title: 'Dense 1600->256, 90% sparse, batch 32', kind: 'dense', sparsity: 0.9, pattern: 'unstructured', batch: 32, target: {wasm: 4, cpu: 2}},
  {id: 'dense-90-block-b1', title: 'Dense 1600->256, 90% sparse in [1,4] blocks, batch 1', kind: 'dense', sparsity: 0.9, pattern: '[1,4]', batch: 1, target: {wasm: null, cpu: null}},
  {id: 'dense-90-block-b32', title: 'Dense 1600->256, 90% sparse in [1,4] blocks, batch 32', kind: 'dense', sparsity: 0.9, pattern: '[1,4]', batch: 32, target: {wasm: null, cpu: null}},
  {id: 'conv1x1-80', title: '1x1 Conv2D 14x14x256->256, 80% sparse, batch 1', kind: 'conv', sparsity: 0.8, pattern: 'unstructured', batch: 1, target: {wasm: 2, cpu: null}},
  {id: 'fallback-dense-30-b1', title: 'Dense 1600->256, 30% sparse, batch 1', kind: 'dense', sparsity: 0.3, pattern: 'unstructured', batch: 1, target: {wasm: FALLBACK, cpu: FALLBACK}},
  {id: 'fallback-dense-50-b32', title: 'Dense 1600->256, 50% sparse, batch 32', kind: 'dense', sparsity: 0.5, pattern: 'unstructured', batch: 32, target: {wasm: FALLBACK, cpu: FALLBACK}},
  {id: 'fallback-dense-2of4-b1', title: 'Dense 1600->256, 2:4 sparse, batch 1', kind: 'dense', sparsity: 0.5, pattern: '2:4', batch: 1, target: {wasm: FALLBACK, cpu: FALLBACK}},
  {id: 'fallback-conv1x1-30', title: '1x1 Conv2D 14x14x256->256, 30% sparse, batch 1', kind: 'conv', sparsity: 0.3, pattern: 'unstructured', batch: 1, target: {wasm: FALLBACK, cpu: FALLBACK}},
];

/** The model figure's least speed-up on wasm. */
const MODEL_TARGET = 1.5;

let sparseOn = false;

/** Untimed: the sparse kernels registered, and `call`'s weights sighted twice (their forms built). */
function sparse(call: () => void): () => void {
  return () => {
    if (sparseOn) return;
    registerSparseKernels();
    sparseOn = true;
    call();
    call();
  };
}

function stock(): void {
  if (!sparseOn) return;
  unregisterSparseKernels();
  sparseOn = false;
}

function targetOf(value: number | null): Target | null {
  if (value === null) return null;
  return {comparison: '>=', value, text: value === FALLBACK ? 'at least 0.97x (never slower)' : `at least ${value}x`};
}

async function compare(call: () => void, rounds: Rounds): Promise<{ratios: number[]; ms: Record<string, unknown>}> {
  const measured = await interleave([
    {name: 'sparse', fn: call, beforeEach: sparse(call)},
    {name: 'stock', fn: call, beforeEach: stock},
  ], rounds);
  stock();
  return {ratios: pairedRatios(measured, 'stock', 'sparse'), ms: measured.times};
}

async function measureCase(c: Case, backend: Backend, rounds: Rounds): Promise<Figure> {
  const [k, n] = c.kind === 'dense' ? [1600, 256] : [256, 256];
  const w = prunedValues(k, n, c.sparsity, c.pattern, 7);
  const bias = tf.tensor1d(uniformValues(n, 8));
  let weight: tf.Tensor;
  let input: tf.Tensor;
  let call: () => void;
  if (c.kind === 'dense') {
    weight = tf.tensor2d(w, [k, n]);
    input = tf.tensor2d(uniformValues(c.batch * k, 9), [c.batch, k]);
    call = () => tf.fused.matMul({a: input as tf.Tensor2D, b: weight as tf.Tensor2D, bias, activation: 'relu'}).dispose();
  } else {
    weight = tf.tensor4d(w, [1, 1, k, n]);
    input = tf.tensor4d(uniformValues(c.batch * 14 * 14 * k, 9), [c.batch, 14, 14, k]);
    call = () => tf.fused.conv2d({
      x: input as tf.Tensor4D, filter: weight as tf.Tensor4D, strides: 1, pad: 'same', bias, activation: 'relu',
    }).dispose();
  }
  try {
    const {ratios, ms} = await compare(call, rounds);
    const density = w.reduce((count, v) => count + (v !== 0 ? 1 : 0), 0) / w.length;
    return figure({
      id: `sparse-${c.id}`, backend, title: `${c.title}: speed-up of the sparse kernels`,
      baseline: 'the same call on the kernels registered before', unit: 'x', target: targetOf(c.target[backend]),
      details: {batch: c.batch, pattern: c.pattern, density: Number(density.toFixed(4)), ms},
    }, summarize(ratios));
  } finally {
    tf.dispose([weight, input, bias]);
  }
}

async function measureModel(backend: Backend, rounds: Rounds): Promise<Figure> {
  const model: tfl.LayersModel = mobileNetV1Style([128, 128, 3]);
  prunePointwise(model, 0.9);
  const x = tf.tensor4d(uniformValues(128 * 128 * 3, 10), [1, 128, 128, 3]);
  const call = () => (model.predict(x) as tf.Tensor).dispose();
  try {
    const {ratios, ms} = await compare(call, rounds);
    return figure({
      id: 'sparse-mobilenetv1-90-b1', backend,
      title: 'predict, MobileNetV1-style 128x128x3 with 90% sparse 1x1 convs and Dense, batch 1: speed-up',
      baseline: 'the same predict on the kernels registered before', unit: 'x',
      target: backend === 'wasm' ? targetOf(MODEL_TARGET) : null, details: {batch: 1, ms},
    }, summarize(ratios));
  } finally {
    x.dispose();
    model.dispose();
  }
}

export async function measureSparseKernels(backend: Backend, settings: Settings): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const c of CASES) figures.push(await measureCase(c, backend, settings.sparse.kernel));
  figures.push(await measureModel(backend, settings.sparse.model));
  return figures;
}
