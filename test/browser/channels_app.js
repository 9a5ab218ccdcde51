// Runs in the browser: channel-prune a small residual CNN with BatchNorm and a depthwise layer in one
// shot (pruneChannels, one fit batch), strip and shrink it on the cpu backend, reload the shrunk model
// with stock tfjs, and run it on webgl. Publishes the results on window.__results.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import {ConstantSparsity, UpdatePruningStep, pruneChannels, shrinkModel, stripPruning} from 'tfjs-model-optimization';

function residualCnn() {
  const input = tfl.input({shape: [16, 16, 3]});
  const init = (seed) => tfl.initializers.glorotUniform({seed});
  const stem = tfl.layers.conv2d({filters: 16, kernelSize: 3, padding: 'same', kernelInitializer: init(1), name: 'stem'}).apply(input);
  const bn = tfl.layers.batchNormalization({name: 'bn'}).apply(stem);
  const act = tfl.layers.reLU({name: 'act'}).apply(bn);
  const dw = tfl.layers.depthwiseConv2d({kernelSize: 3, padding: 'same', depthwiseInitializer: init(2), name: 'dw'}).apply(act);
  const pw = tfl.layers.conv2d({filters: 16, kernelSize: 1, kernelInitializer: init(3), name: 'pw'}).apply(dw);
  const sum = tfl.layers.add({name: 'sum'}).apply([act, pw]);
  const pooled = tfl.layers.globalAveragePooling2d({name: 'gap'}).apply(sum);
  const out = tfl.layers.dense({units: 4, kernelInitializer: init(4), name: 'head'}).apply(pooled);
  return tfl.model({inputs: input, outputs: out});
}

async function run() {
  await tf.setBackend('cpu');
  const model = residualCnn();
  const pruned = pruneChannels(model, {pruningSchedule: new ConstantSparsity({targetSparsity: 0.5, beginStep: 1, endStep: 1})});
  pruned.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
  const xs = tf.randomNormal([8, 16, 16, 3], 0, 1, 'float32', 5);
  const ys = tf.randomNormal([8, 4], 0, 1, 'float32', 6);
  await pruned.fit(xs, ys, {batchSize: 8, epochs: 1, callbacks: [new UpdatePruningStep()]});
  const stripped = stripPruning(pruned);
  const shrunk = shrinkModel(stripped);
  let saved;
  await shrunk.save(tf.io.withSaveHandler(async (artifacts) => {
    saved = artifacts;
    return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
  }));
  const x = tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 7);
  const expected = await stripped.predict(x).array();
  const results = {
    stemFilters: shrunk.getLayer('stem').getWeights()[0].shape,
    pwKernel: shrunk.getLayer('pw').getWeights()[0].shape,
    headKernel: shrunk.getLayer('head').getWeights()[0].shape,
  };
  const xValues = await x.array();
  const webgl = await tf.setBackend('webgl');
  results.webgl = webgl;
  if (!webgl) return results;
  results.backend = tf.getBackend();
  results.renderer = (() => {
    const gl = tf.backend().gpgpu?.gl;
    const info = gl?.getExtension('WEBGL_debug_renderer_info');
    return info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : 'unknown';
  })();
  const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved));
  const actual = await loaded.predict(tf.tensor(xValues)).array();
  let worst = 0;
  let scale = 0;
  expected.forEach((row, i) => row.forEach((v, j) => {
    worst = Math.max(worst, Math.abs(v - actual[i][j]));
    scale = Math.max(scale, Math.abs(v));
  }));
  results.maxRelativeDifference = worst / scale;
  return results;
}

run().then(
    (results) => {
      window.__results = results;
    },
    (error) => {
      window.__results = {error: String(error && error.stack || error)};
    });
