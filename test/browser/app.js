// Runs in the browser: prune, fine-tune, strip, quantize and reload a small model with the built
// ESM bundle and tfjs from node_modules, then publishes the results on window.__results.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import {setWasmPaths} from '@tensorflow/tfjs-backend-wasm';
import {
  ConstantSparsity,
  UpdatePruningStep,
  getGzippedModelSize,
  getSparsity,
  pruneLowMagnitude,
  quantizeDynamicRange,
  stripPruning,
} from 'tfjs-model-optimization';

async function run() {
  await tf.setBackend('cpu');
  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({units: 64, inputShape: [32], activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({seed: 1})}),
      tfl.layers.dense({units: 4, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({seed: 2})}),
    ],
  });
  const xs = tf.randomNormal([64, 32], 0, 1, 'float32', 3);
  const labels = tf.argMax(tf.slice(xs, [0, 0], [64, 4]), 1);
  const ys = tf.oneHot(labels, 4);

  const pruned = pruneLowMagnitude(model, {
    pruningSchedule: new ConstantSparsity({targetSparsity: 0.75, beginStep: 0, frequency: 2}),
  });
  pruned.compile({optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy']});
  const history = await pruned.fit(xs, ys, {batchSize: 16, epochs: 3, callbacks: [new UpdatePruningStep()]});

  const stripped = stripPruning(pruned);
  const sparsity = await getSparsity(stripped);
  const artifacts = await quantizeDynamicRange(stripped, {minElements: 256});
  const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
  const a = stripped.predict(xs);
  const b = loaded.predict(xs);
  const maxDiff = (await tf.max(tf.abs(tf.sub(a, b))).data())[0];
  const loadedKernel = await loaded.layers[0].getWeights()[0].data();
  const loadedZeros = loadedKernel.filter((v) => v === 0).length;

  return {
    backend: tf.getBackend(),
    layerClasses: pruned.layers.map((l) => l.getClassName()),
    losses: history.history.loss,
    sparsity: sparsity.map((s) => [s.zeros, s.size]),
    loadedZeros,
    maxDiff,
    quantizedDtypes: artifacts.weightSpecs.map((s) => (s.quantization ? s.quantization.dtype : s.dtype)),
    gzipped: {stripped: await getGzippedModelSize(stripped), quantized: await getGzippedModelSize(artifacts)},
  };
}

/**
 * A mask update on tfjs-backend-wasm, where the package cuts masks with a WebAssembly SIMD module of
 * its own on the backend's heap (a shared memory when the page is cross-origin isolated, as this one
 * is: tfjs then runs its threaded build). Checks the mask against a sort of the weights in JavaScript.
 */
async function runWasm() {
  setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');
  await tf.setBackend('wasm');
  const [rows, units] = [128, 256];
  const model = tfl.sequential({layers: [tfl.layers.dense({units, inputShape: [rows]})]});
  const pruned = pruneLowMagnitude(model, {pruningSchedule: new ConstantSparsity({targetSparsity: 0.7, beginStep: 0})});
  const wrapper = pruned.layers[0];
  const {weight, mask, threshold} = wrapper.getPrunedWeights()[0];
  const values = tf.randomNormal([rows, units], 0, 0.05, 'float32', 7);
  weight.write(values);
  const magnitudes = Float32Array.from(await values.data(), Math.abs).sort();
  await wrapper.updateMasks(0.7);
  // k = round(32768 * 0.3) = 9830 kept: the threshold is the 9830th largest |w|.
  const expectedThreshold = magnitudes[magnitudes.length - 9830];
  const maskValues = await mask.read().data();
  const weightValues = await weight.read().data();
  const original = await values.data();
  let wrong = 0;
  for (let i = 0; i < maskValues.length; i++) {
    const keep = Math.abs(original[i]) >= expectedThreshold;
    if (maskValues[i] !== (keep ? 1 : 0) || !Object.is(weightValues[i], keep ? original[i] : 0)) wrong++;
  }
  const heap = tf.backend().wasm.HEAPU8.buffer;
  const result = {
    backend: tf.getBackend(),
    crossOriginIsolated: window.crossOriginIsolated === true,
    sharedHeap: typeof SharedArrayBuffer !== 'undefined' && heap instanceof SharedArrayBuffer,
    kernelRegistered: tf.getKernel('TfmotMagnitudeCut', 'wasm') !== undefined,
    kept: maskValues.filter((v) => v === 1).length,
    thresholdMatches: (await threshold.read().data())[0] === expectedThreshold,
    wrong,
  };
  values.dispose();
  pruned.dispose();
  await tf.setBackend('cpu');
  return result;
}

run().then(async (results) => ({...results, wasm: await runWasm()})).then(
    (results) => {
      window.__results = results;
      document.getElementById('out').textContent = JSON.stringify(results, null, 2);
    },
    (error) => {
      window.__results = {error: String(error && error.stack || error)};
    });
