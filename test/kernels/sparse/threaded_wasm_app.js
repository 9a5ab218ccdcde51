/* global window */
// Runs in headless Chromium (see threaded_wasm.test.ts): the sparse kernels on tfjs-backend-wasm's
// threaded build (the page is cross-origin isolated, so the heap is a SharedArrayBuffer), against
// the stock kernels, and publishes the results on window.__results.
import * as tf from '@tensorflow/tfjs-core';
import {setThreadsCount, setWasmPaths} from '@tensorflow/tfjs-backend-wasm';

import {registerSparseKernels, unregisterSparseKernels} from '../../../src/kernels/sparse';
import {sparseRuns} from '../../../src/kernels/sparse/plan';

/** Deterministic values in [-1, 1) with `sparsity` of them zero (in [1, 4] blocks when `blocked`). */
function values(size, seed, sparsity = 0, blocked = false) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const out = new Float32Array(size);
  let zero = false;
  for (let i = 0; i < size; i++) {
    if (!blocked || i % 4 === 0) zero = next() < sparsity;
    const v = next() * 2 - 1;
    out[i] = zero ? 0 : v;
  }
  return out;
}

function maxRelativeDiff(a, b) {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

async function run() {
  setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');
  // One XNNPACK thread whatever the machine's cores: the cost model leaves more products to a stock kernel
  // with a pool (test/kernels/sparse/plan.test.ts), and every product here is to run sparse.
  setThreadsCount(1);
  await tf.setBackend('wasm');
  const w = tf.tensor2d(values(512 * 128, 1, 0.9), [512, 128]);
  const wBlocked = tf.tensor2d(values(512 * 128, 2, 0.9, true), [512, 128]);
  const bias = tf.tensor1d(values(128, 3));
  const filter = tf.tensor4d(values(128 * 64, 4, 0.9), [1, 1, 128, 64]);
  const x = tf.tensor4d(values(2 * 10 * 10 * 128, 5), [2, 10, 10, 128]);
  const ops = [];
  for (const rows of [1, 3, 8, 40]) {
    const a = tf.tensor2d(values(rows * 512, 10 + rows), [rows, 512]);
    ops.push(() => tf.fused.matMul({a, b: w, bias, activation: 'relu6'}));
    ops.push(() => tf.fused.matMul({a, b: wBlocked, bias, activation: 'linear'}));
  }
  ops.push(() => tf.fused.conv2d({x, filter, strides: 1, pad: 'same', activation: 'relu'}));
  const read = (op) => {
    const y = op();
    const out = y.dataSync().slice();
    y.dispose();
    return out;
  };
  const expected = ops.map(read);
  registerSparseKernels({backends: ['wasm']});
  ops.forEach(read); // first sightings
  const before = Object.values(sparseRuns.wasm).reduce((a, b) => a + b, 0);
  const actual = ops.map(read);
  const runs = Object.values(sparseRuns.wasm).reduce((a, b) => a + b, 0) - before;
  unregisterSparseKernels();
  const heap = tf.backend().wasm.HEAPU8.buffer;
  return {
    backend: tf.getBackend(),
    crossOriginIsolated: window.crossOriginIsolated === true,
    sharedHeap: typeof SharedArrayBuffer !== 'undefined' && heap instanceof SharedArrayBuffer,
    threads: tf.backend().wasm.tfjs.getThreadsCount(),
    products: ops.length,
    sparseRuns: runs,
    paths: Object.keys(sparseRuns.wasm).sort(),
    maxDiff: Math.max(...actual.map((a, i) => maxRelativeDiff(a, expected[i]))),
  };
}

run().then(
    (results) => {
      window.__results = results;
    },
    (error) => {
      window.__results = {error: String(error && error.stack || error)};
    });
