// Global magnitude pruning: one threshold across every globally pruned weight of a model, coordinated by
// UpdatePruningStep; the model-level sparsity follows the k-rule of SPEC section 4 on the total count.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {
  ConstantSparsity,
  PolynomialDecay,
  PruneLowMagnitude,
  PruningError,
  UpdatePruningStep,
  getSparsity,
  pruneLowMagnitude,
} from '../../src';
import {globalMagnitudeMasks, keepCount} from '../../src/sparsity/pruning_impl';
import {denseModel, fitBatches} from '../helpers/models';

const everyStep = (targetSparsity: number) => new ConstantSparsity({targetSparsity, beginStep: 0, frequency: 1});
const totalZeros = async (model: tfl.LayersModel) => (await getSparsity(model)).reduce((n, s) => n + s.zeros, 0);

/** Conv2D(4, 3x3) on 6x6x2, Flatten, Dense(16), Dense(3): weights of very different sizes (72, 1024, 48). */
function mixedModel(): tfl.Sequential {
  const init = (seed: number) => tfl.initializers.glorotUniform({seed});
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({filters: 4, kernelSize: 3, inputShape: [6, 6, 2], kernelInitializer: init(1), name: 'conv'}),
      tfl.layers.flatten({name: 'flat'}),
      tfl.layers.dense({units: 16, kernelInitializer: init(2), name: 'hidden'}),
      tfl.layers.dense({units: 3, kernelInitializer: tfl.initializers.randomUniform({minval: -3, maxval: 3, seed: 3}), name: 'out'}),
    ],
  });
}

describe('global pruning', () => {
  it('cuts every kernel at one threshold taken over the whole model at the first step', async () => {
    const model = mixedModel();
    const kernels = model.layers.filter((l) => l.getClassName() !== 'Flatten').map((l) => l.getWeights()[0].dataSync() as Float32Array);
    const expected = globalMagnitudeMasks(kernels, 0.8);
    const pruned = pruneLowMagnitude(model, {pruningSchedule: everyStep(0.8), globalPruning: true});
    pruned.compile({optimizer: tf.train.sgd(0.01), loss: 'meanSquaredError'});
    await fitBatches(pruned, [6, 6, 2], [3], 1, [new UpdatePruningStep()]);
    const wrappers = pruned.layers.filter((l) => l.name !== 'prune_low_magnitude_flat') as PruneLowMagnitude[];
    const masks = wrappers.map((w) => Array.from(w.getPrunedWeights()[0].mask.read().dataSync()));
    expect(masks).toEqual(expected.masks.map((m) => Array.from(m)));
    const thresholds = wrappers.map((w) => w.getPrunedWeights()[0].threshold.read().dataSync()[0]);
    expect(thresholds).toEqual([expected.threshold, expected.threshold, expected.threshold]);
  });

  it('reaches the model-level target exactly by the k-rule while the layers end at different sparsities', async () => {
    const pruned = pruneLowMagnitude(mixedModel(), {pruningSchedule: everyStep(0.8), globalPruning: true});
    pruned.compile({optimizer: 'adam', loss: 'meanSquaredError'});
    await fitBatches(pruned, [6, 6, 2], [3], 3, [new UpdatePruningStep()]);
    const sparsity = await getSparsity(pruned);
    const total = sparsity.reduce((n, s) => n + s.size, 0);
    expect(total).toBe(72 + 1024 + 48);
    expect(await totalZeros(pruned)).toBe(total - keepCount(total, 0.8));
    // The small, large-valued output kernel keeps far more than the hidden one.
    const byLayer = Object.fromEntries(sparsity.map((s) => [s.layer, s.sparsity]));
    expect(byLayer['out']).toBeLessThan(0.5);
    expect(byLayer['hidden']).toBeGreaterThan(0.8);
  });

  it('follows a PolynomialDecay schedule at the model level (0.2 after batch 1, 0.6 after batch 4)', async () => {
    const schedule = new PolynomialDecay({initialSparsity: 0.2, finalSparsity: 0.6, beginStep: 1, endStep: 4, frequency: 1});
    const pruned = pruneLowMagnitude(denseModel(), {pruningSchedule: schedule, globalPruning: true});
    pruned.compile({optimizer: 'adam', loss: 'meanSquaredError'});
    await fitBatches(pruned, [10], [5], 1, [new UpdatePruningStep()]);
    expect(await totalZeros(pruned)).toBe(120 - keepCount(120, 0.2));
    await fitBatches(pruned, [10], [5], 3, [new UpdatePruningStep()], 4, 20);
    expect(await totalZeros(pruned)).toBe(120 - keepCount(120, 0.6));
  });

  it('equals per-layer pruning when a single weight is pruned globally', async () => {
    const run = async (globalPruning: boolean) => {
      const model = tfl.sequential({layers: [tfl.layers.dense({units: 6, inputShape: [5], kernelInitializer: tfl.initializers.glorotUniform({seed: 9})})]});
      const pruned = pruneLowMagnitude(model, {pruningSchedule: everyStep(0.6), globalPruning});
      pruned.compile({optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError'});
      await fitBatches(pruned, [5], [6], 3, [new UpdatePruningStep()]);
      return pruned.getWeights().map((w) => Array.from(w.dataSync()));
    };
    expect(await run(true)).toEqual(await run(false));
  });

  it('leaves wrappers without the option to their own per-layer threshold', async () => {
    const model = mixedModel();
    const input = tfl.input({shape: [6, 6, 2]});
    let x = input as tfl.SymbolicTensor;
    const wrappers = model.layers.map((layer) => pruneLowMagnitude(layer, {
      pruningSchedule: everyStep(0.5), globalPruning: layer.name !== 'out',
    }));
    for (const wrapper of wrappers) x = wrapper.apply(x) as tfl.SymbolicTensor;
    const pruned = tfl.model({inputs: input, outputs: x});
    pruned.compile({optimizer: 'adam', loss: 'meanSquaredError'});
    await fitBatches(pruned, [6, 6, 2], [3], 1, [new UpdatePruningStep()]);
    const sparsity = await getSparsity(pruned);
    expect(sparsity.find((s) => s.layer === 'out')!.zeros).toBe(48 - keepCount(48, 0.5));
    const globalZeros = sparsity.filter((s) => s.layer !== 'out').reduce((n, s) => n + s.zeros, 0);
    expect(globalZeros).toBe(1096 - keepCount(1096, 0.5));
  });

  it('refuses globally pruned wrappers with different schedules', async () => {
    const model = tfl.sequential({
      layers: [
        pruneLowMagnitude(tfl.layers.dense({units: 4, inputShape: [3], name: 'a'}), {pruningSchedule: everyStep(0.5), globalPruning: true}),
        pruneLowMagnitude(tfl.layers.dense({units: 2, name: 'b'}), {pruningSchedule: everyStep(0.7), globalPruning: true}),
      ],
    });
    model.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
    const fit = fitBatches(model, [3], [2], 1, [new UpdatePruningStep()]);
    await expect(fit).rejects.toThrow(PruningError);
    await expect(fitBatches(model, [3], [2], 1, [new UpdatePruningStep()])).rejects.toThrow(
        'UpdatePruningStep: the globally pruned layers "prune_low_magnitude_a" and "prune_low_magnitude_b" have ' +
        'different schedules; global pruning cuts every globally pruned weight of a model at one threshold, so they ' +
        'need one schedule (wrap them in one pruneLowMagnitude call).');
  });

  it('drives global pruning from a custom training loop through the callback hooks', async () => {
    const pruned = pruneLowMagnitude(denseModel(), {pruningSchedule: everyStep(0.75), globalPruning: true});
    const callback = new UpdatePruningStep();
    callback.setModel(pruned);
    await callback.onTrainBegin();
    await callback.onBatchBegin(0);
    await callback.onEpochEnd(0);
    await callback.onTrainEnd();
    expect(await totalZeros(pruned)).toBe(90);
  });

  it('keeps the tensor count constant across batches', async () => {
    const pruned = pruneLowMagnitude(denseModel(), {pruningSchedule: everyStep(0.5), globalPruning: true});
    pruned.compile({optimizer: 'adam', loss: 'meanSquaredError'});
    const counts: number[] = [];
    const recorder = new tfl.CustomCallback({onBatchEnd: async () => {
      counts.push(tf.memory().numTensors);
    }});
    await fitBatches(pruned, [10], [5], 30, [new UpdatePruningStep(), recorder as unknown as tfl.Callback], 1);
    expect(counts[29]).toBe(counts[4]);
  });
});
