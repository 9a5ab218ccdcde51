// The sparse kernels on the models users ship, not only on layers built in
// the test: a real tfjs-converter graph model pruned with pruneArtifacts and
// loaded with stock tf.loadGraphModel, and a pruned layers model quantized to
// int8, saved and reloaded with stock tf.loadLayersModel. Each runs sparse
// (the run counters move) and gives the stock kernels' outputs.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import * as tfconv from '@tensorflow/tfjs-converter';
import * as tfl from '@tensorflow/tfjs-layers';

import {pruneArtifacts} from '../../../src/artifacts/prune_artifacts';
import {registerSparseKernels, unregisterSparseKernels} from '../../../src/kernels/sparse';
import {quantizeDynamicRange} from '../../../src/quantization/quantize';
import {graphRunner, inputShape, layersRunner, loadHumanModel, outputsOn, relativeError} from '../../artifacts/fixtures';
import type {Runner} from '../../artifacts/fixtures';
import {uniform} from '../harness';
import {sparseRunCount} from './helpers';

beforeAll(async () => {
  await tf.setBackend('wasm');
});

afterEach(() => {
  unregisterSparseKernels();
});

/**
 * The outputs of `runner` on `x` with the stock kernels, then with the sparse
 * kernels registered (the first prediction sights the weights, the second
 * runs sparse), and how many sparse products the second prediction ran.
 */
function stockAndSparse(runner: Runner, x: tf.Tensor): {stock: Float32Array[]; sparse: Float32Array[]; runs: number} {
  const stock = outputsOn(runner, x);
  registerSparseKernels({backends: ['wasm']});
  outputsOn(runner, x);
  const before = sparseRunCount('wasm');
  const sparse = outputsOn(runner, x);
  return {stock, sparse, runs: sparseRunCount('wasm') - before};
}

describe('registerSparseKernels on shipped models (wasm)', () => {
  it('runs a converter-produced graph model pruned to 90% sparse, with the stock outputs', async () => {
    // liveness: Dense layers as _FusedMatMul, a real tfjs-converter model (see test/artifacts/fixtures.ts).
    const pruned = await pruneArtifacts(loadHumanModel('liveness'), {sparsity: 0.9});
    const model = await tfconv.loadGraphModel(tf.io.fromMemory(pruned));
    const x = tf.tensor(uniform(inputShape(model, 8).reduce((a, b) => a * b, 1), 11).map((v) => v * 0.5 + 0.5),
        inputShape(model, 8));
    const before = tf.memory().numTensors;
    const {stock, sparse, runs} = stockAndSparse(graphRunner(model), x);
    expect(runs).toBeGreaterThan(0);
    expect(relativeError(stock, sparse)).toBeLessThan(1e-4);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    model.dispose();
  });

  it('runs a pruned layers model quantized to int8, saved and reloaded by stock tfjs, with the stock outputs', async () => {
    const model = tfl.sequential({layers: [
      tfl.layers.dense({units: 256, inputShape: [1600], activation: 'relu'}),
      tfl.layers.dense({units: 10}),
    ]});
    // 90% of the big kernel at zero, as pruning leaves it: int8 keeps those zeros exact.
    const [kernel, bias, kernel2, bias2] = model.getWeights();
    const mask = uniform(1600 * 256, 5).map((v) => (v * 0.5 + 0.5 < 0.9 ? 0 : 1));
    const prunedKernel = tf.tidy(() => tf.mul(kernel, tf.tensor(mask, [1600, 256])));
    model.setWeights([prunedKernel, bias, kernel2, bias2]);
    prunedKernel.dispose();
    const artifacts = await quantizeDynamicRange(model, {dtype: 'int8'});
    model.dispose();
    const reloaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
    const zeros = tf.tidy(() => (reloaded.getWeights()[0].dataSync() as Float32Array).filter((v) => v === 0).length);
    expect(zeros / (1600 * 256)).toBeGreaterThanOrEqual(0.89);
    const x = tf.tensor(uniform(4 * 1600, 12), [4, 1600]);
    const {stock, sparse, runs} = stockAndSparse(layersRunner(reloaded), x);
    expect(runs).toBeGreaterThan(0);
    expect(relativeError(stock, sparse)).toBeLessThan(1e-5);
    x.dispose();
    reloaded.dispose();
  });
});
