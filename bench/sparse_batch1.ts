/**
 * Where the time of a batch-1 sparse Dense call goes on wasm (issue 17): for
 * the 1600 -> 256 Dense of the `sparse-kernels` group (fused bias and ReLU)
 * at 70% and 90% unstructured sparsity, interleaved in one process:
 *
 * - `stock`: `tf.fused.matMul` on the kernel registered before (XNNPACK);
 * - `sparse`: the same call with registerSparseKernels;
 * - `kernel`: the sparse kernel alone (spmvGroups on the heap, called
 *   directly: no tfjs, no JavaScript of ours);
 * - `dispatch`: `tf.fused.matMul` of a 1 x 4 by 4 x 4 product (tfjs-core's
 *   fused op, its customGrad and reshapes, the engine: what every call pays
 *   before and after its kernel).
 *
 * Prints the medians, the paired sparse/stock speed-up, and the ceiling
 * `stock / (dispatch + kernel)`: what the speed-up would be if the package's
 * own JavaScript around the kernel cost nothing.
 *
 *   npx tsx bench/sparse_batch1.ts [--rounds N]
 */
import {parseArgs} from 'node:util';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';

import {registerSparseKernels, unregisterSparseKernels} from '../src';
import {buildRowLists, buildSparseForm} from '../src/kernels/sparse/sparse_format';
import {isWasmHeapBackend, rowsToHeap, spmmInstance, toHeap, freeHeapForm} from '../src/kernels/sparse/wasm_spmm';
import {cpuModel} from './machine';
import {summarize} from './suite/harness';
import {prunedValues, uniformValues} from './suite/sparse_models';

const {values: args} = parseArgs({options: {rounds: {type: 'string', default: '21'}}});
const rounds = Number(args.rounds);
if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`--rounds must be a positive integer, got ${args.rounds}`);
const CALLS = 200;

await tf.setBackend('wasm');
const backend = tf.backend();
if (!isWasmHeapBackend(backend)) throw new Error('bench/sparse_batch1.ts needs tfjs-backend-wasm');
const spmm = spmmInstance(backend);
if (spmm === null) throw new Error('bench/sparse_batch1.ts: the sparse kernels cannot run here (no WebAssembly SIMD)');

/** Microseconds per call of `fn`, over CALLS calls after a short warm-up. */
function perCall(fn: () => void): number {
  for (let i = 0; i < 20; i++) fn();
  const start = performance.now();
  for (let i = 0; i < CALLS; i++) fn();
  return (performance.now() - start) / CALLS * 1000;
}

const tiny = {
  a: tf.tensor2d(uniformValues(4, 1), [1, 4]), b: tf.tensor2d(uniformValues(16, 2), [4, 4]), bias: tf.tensor1d(uniformValues(4, 3)),
};
const dispatch = () => tf.fused.matMul({a: tiny.a, b: tiny.b, bias: tiny.bias, activation: 'relu'}).dispose();

console.log(`Batch-1 sparse Dense 1600 -> 256 on wasm, ${rounds} rounds of ${CALLS} calls each, interleaved (${cpuModel()})`);
console.log('| sparsity | stock | sparse | speed-up | kernel alone | dispatch | ceiling |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const sparsity of [0.7, 0.9]) {
  const values = prunedValues(1600, 256, sparsity, 'unstructured', 7);
  const weight = tf.tensor2d(values, [1600, 256]);
  const bias = tf.tensor1d(uniformValues(256, 8));
  const x = tf.tensor2d(uniformValues(1600, 9), [1, 1600]);
  const call = () => tf.fused.matMul({a: x, b: weight, bias, activation: 'relu'}).dispose();

  // The kernel alone, on a heap copy of the same sparse form, writing into a scratch output.
  const form = buildSparseForm(values, 1600, 256, false);
  const heapForm = toHeap(backend, form);
  const rows = heapForm === null ? null : rowsToHeap(backend, heapForm, buildRowLists(form));
  if (heapForm === null || rows === null) throw new Error('bench/sparse_batch1.ts: no room on the wasm heap');
  heapForm.rows = rows;
  new Float32Array(backend.wasm.HEAPU8.buffer, heapForm.xbuf, 1600).set(uniformValues(1600, 9));
  const out = tf.zeros([1, 256]);
  const outOffset = (backend as unknown as {dataIdMap: {get(id: object): {memoryOffset: number}}})
    .dataIdMap.get(out.dataId).memoryOffset >>> 0;
  const kernel = () => spmm.spmvGroups(rows.groups, rows.counts, rows.blockKs, rows.blockWs, rows.ks, rows.ws, rows.perm,
    0, 0, Infinity, outOffset);

  const times = {stock: [] as number[], sparse: [] as number[], kernel: [] as number[], dispatch: [] as number[]};
  const ratios: number[] = [];
  const ceilings: number[] = [];
  for (let r = 0; r < rounds; r++) {
    unregisterSparseKernels();
    const stock = perCall(call);
    registerSparseKernels({backends: ['wasm']});
    call(); // the second sighting builds the sparse form
    const sparse = perCall(call);
    unregisterSparseKernels();
    const k = perCall(kernel);
    const d = perCall(dispatch);
    times.stock.push(stock);
    times.sparse.push(sparse);
    times.kernel.push(k);
    times.dispatch.push(d);
    ratios.push(stock / sparse);
    ceilings.push(stock / (d + k));
  }
  const us = (xs: number[]) => `${summarize(xs).median.toFixed(1)} us`;
  const ratio = summarize(ratios);
  console.log(`| ${100 * sparsity}% (${form.nonZeros} nonzeros) | ${us(times.stock)} | ${us(times.sparse)} | ` +
    `${ratio.median.toFixed(2)}x (${ratio.p25.toFixed(2)}-${ratio.p75.toFixed(2)}) | ${us(times.kernel)} ` +
    `(${(1000 * summarize(times.kernel).median / form.nonZeros).toFixed(3)} ns per nonzero) | ${us(times.dispatch)} | ` +
    `${summarize(ceilings).median.toFixed(2)}x |`);
  freeHeapForm(backend, heapForm);
  tf.dispose([weight, bias, x, out]);
}
tf.dispose(Object.values(tiny));
