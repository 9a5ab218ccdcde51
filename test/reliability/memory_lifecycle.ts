// The whole life of a pruned model, for the memory tests on cpu and on wasm: prune, a fit of 200
// batches with 50 mask updates, strip, quantize, save and load (pruned, stripped and quantized),
// predict, train the reloaded pruned model on, dispose. Records tf.memory() and the backend's buffer
// count along the way.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {
  ConstantSparsity,
  UpdatePruningStep,
  loadQuantizedLayersModel,
  pruneLowMagnitude,
  quantizeDynamicRange,
  stripPruning,
} from '../../src';
import {fileSystem} from '../../src/node';

export const BATCHES = 200;
const BATCH_SIZE = 2;
const schedule = () => new ConstantSparsity({targetSparsity: 0.6, beginStep: 0, frequency: 4});

interface Counts {
  numTensors: number;
  numBytes: number;
  dataIds: number;
}

export interface MemoryReport {
  start: Counts;
  /** After pruning and compiling, before the first batch. */
  beforeFit: Counts;
  /** After each batch (the optimizer creates its slots in the first one). */
  batches: Counts[];
  /** Tensors the optimizer owns while the model lives (Adam: two moments per trainable weight, and beta^t twice). */
  optimizerSlots: number;
  /** Batches on which the schedule recomputed the masks. */
  maskUpdates: number;
  /** After everything was disposed. */
  end: Counts;
}

function counts(): Counts {
  const memory = tf.memory();
  const backend = tf.backend() as unknown as {numDataIds(): number};
  return {numTensors: memory.numTensors, numBytes: memory.numBytes, dataIds: backend.numDataIds()};
}

function cnn(): tfl.Sequential {
  const init = (seed: number) => tfl.initializers.glorotUniform({seed});
  return tfl.sequential({layers: [
    tfl.layers.conv2d({inputShape: [6, 6, 1], filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: init(1)}),
    tfl.layers.maxPooling2d({poolSize: 2}),
    tfl.layers.dropout({rate: 0.25, seed: 2}),
    tfl.layers.flatten(),
    tfl.layers.dense({units: 8, activation: 'relu', kernelInitializer: init(3)}),
    tfl.layers.dense({units: 3, activation: 'softmax', kernelInitializer: init(4)}),
  ]});
}

/** Runs the lifecycle on the current backend. */
export async function pruneTrainStripQuantizeSaveLoad(): Promise<MemoryReport> {
  const start = counts();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tfmo-memory-'));
  const x = tf.randomUniform([BATCHES * BATCH_SIZE, 6, 6, 1], 0, 1, 'float32', 5);
  const y = tf.tidy(() => tf.oneHot(tf.cast(tf.randomUniform([BATCHES * BATCH_SIZE], 0, 3, 'float32', 6), 'int32'), 3));
  const model = cnn();
  const pruned = pruneLowMagnitude(model, {pruningSchedule: schedule()});
  pruned.compile({optimizer: 'adam', loss: 'categoricalCrossentropy'});
  const beforeFit = counts();
  const batches: Counts[] = [];
  let maskUpdates = 0;
  const recorder = new tfl.CustomCallback({
    onBatchEnd: async () => {
      batches.push(counts());
    },
  });
  await pruned.fit(x, y, {
    batchSize: BATCH_SIZE, epochs: 1, shuffle: false, verbose: 0,
    callbacks: [new UpdatePruningStep(), recorder as unknown as tfl.Callback],
  });
  for (let step = 1; step <= BATCHES; step++) if (schedule().call(step).shouldPrune) maskUpdates++;
  const optimizerSlots = 2 * pruned.trainableWeights.length + 2;

  const stripped = stripPruning(pruned);
  const artifacts = await quantizeDynamicRange(pruned, {minElements: 0, perChannel: true});
  await pruned.save(fileSystem(path.join(dir, 'pruned')));
  await stripped.save(fileSystem(path.join(dir, 'stripped')));
  await fileSystem(path.join(dir, 'quantized')).save(artifacts);
  const loaded = [
    await tfl.loadLayersModel(fileSystem(path.join(dir, 'pruned'))),
    await tfl.loadLayersModel(fileSystem(path.join(dir, 'stripped'))),
    await loadQuantizedLayersModel(fileSystem(path.join(dir, 'quantized'))),
  ];
  for (const m of [pruned, stripped, ...loaded]) {
    tf.tidy(() => {
      m.predict(tf.slice(x, 0, 4));
    });
  }
  // A few more batches for the reloaded pruned model, then everything goes.
  const [xs, ys] = [tf.slice(x, 0, 8), tf.slice(y, 0, 8)];
  loaded[0].compile({optimizer: 'adam', loss: 'categoricalCrossentropy'});
  await loaded[0].fit(xs, ys, {batchSize: BATCH_SIZE, verbose: 0, callbacks: [new UpdatePruningStep()]});
  tf.dispose([x, y, xs, ys]);
  for (const m of [model, pruned, stripped, ...loaded]) m.dispose();
  fs.rmSync(dir, {recursive: true, force: true});
  return {start, beforeFit, batches, optimizerSlots, maskUpdates, end: counts()};
}

/**
 * Tensors left behind by the whole resume path: train `batches` batches, save with the optimizer
 * (includeOptimizer), load (which restores the optimizer), train `batches` more, dispose everything
 * (a model compiled from a saved training config does not own its optimizer in tfjs 4.22, so its
 * optimizer is disposed by hand).
 */
export async function optimizerRestoreLeak(pruned: boolean, optimizer: string, batches: number): Promise<number> {
  const start = tf.memory().numTensors;
  const x = tf.randomUniform([batches * BATCH_SIZE, 6, 6, 1], 0, 1, 'float32', 7);
  const y = tf.tidy(() => tf.oneHot(tf.cast(tf.randomUniform([batches * BATCH_SIZE], 0, 3, 'float32', 8), 'int32'), 3));
  const callbacks = () => (pruned ? [new UpdatePruningStep()] : []);
  const model = cnn();
  const trained = pruned ? pruneLowMagnitude(model, {pruningSchedule: schedule()}) : model;
  trained.compile({optimizer, loss: 'categoricalCrossentropy'});
  await trained.fit(x, y, {batchSize: BATCH_SIZE, verbose: 0, callbacks: callbacks()});
  let artifacts: tf.io.ModelArtifacts | undefined;
  await trained.save(tf.io.withSaveHandler(async (a) => {
    artifacts = a;
    return {modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a)};
  }), {includeOptimizer: true});
  const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts!));
  await loaded.fit(x, y, {batchSize: BATCH_SIZE, verbose: 0, callbacks: callbacks()});
  for (const m of pruned ? [trained, model, loaded] : [trained, loaded]) m.dispose();
  loaded.optimizer.dispose();
  tf.dispose([x, y]);
  return tf.memory().numTensors - start;
}
