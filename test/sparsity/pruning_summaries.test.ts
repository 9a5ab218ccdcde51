// PruningSummaries: per-weight sparsity, threshold and target in the epoch logs (and so in History), and a table.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {
  ConstantSparsity,
  PolynomialDecay,
  PruningError,
  PruningSummaries,
  UpdatePruningStep,
  pruneLowMagnitude,
  pruningSummaries,
} from '../../src';
import {keepCount} from '../../src/sparsity/pruning_impl';
import {denseModel, seeded} from '../helpers/models';

/** Dense 'd' with kernel [[1, 2], [3, 4], [5, 6], [7, 8]] and no bias, pruned at 0.5 from step 0. */
function fixedKernelModel(): tfl.Sequential {
  const model = tfl.sequential({layers: [tfl.layers.dense({units: 2, inputShape: [4], useBias: false, name: 'd'})]});
  const kernel = tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8]]);
  model.layers[0].setWeights([kernel]);
  kernel.dispose();
  const pruned = pruneLowMagnitude(model, {pruningSchedule: new ConstantSparsity({targetSparsity: 0.5, beginStep: 0, frequency: 1})});
  pruned.compile({optimizer: tf.train.sgd(0), loss: 'meanSquaredError'});
  return pruned;
}

async function fit(model: tfl.LayersModel, epochs: number, callbacks: tfl.Callback[]): Promise<tfl.History> {
  const inputShape = model.inputs[0].shape.slice(1) as number[];
  const outputShape = model.outputs[0].shape.slice(1) as number[];
  const x = seeded([8, ...inputShape], 1);
  const y = seeded([8, ...outputShape], 2);
  try {
    return await model.fit(x, y, {batchSize: 4, epochs, shuffle: false, callbacks, verbose: 0});
  } finally {
    tf.dispose([x, y]);
  }
}

describe('PruningSummaries in model.fit', () => {
  it('puts each pruned weight\'s sparsity, threshold and target into History, once per epoch', async () => {
    const schedule = new PolynomialDecay({initialSparsity: 0.25, finalSparsity: 0.75, beginStep: 1, endStep: 4, frequency: 1});
    const pruned = pruneLowMagnitude(denseModel(), {pruningSchedule: schedule});
    pruned.compile({optimizer: 'adam', loss: 'meanSquaredError'});
    const history = await fit(pruned, 2, [new UpdatePruningStep(), new PruningSummaries()]);
    const [first, second] = pruned.layers.map((l) => `${l.name}/kernel`);
    expect(Object.keys(history.history).sort()).toEqual([
      'loss',
      `${first}/sparsity`, `${first}/target_sparsity`, `${first}/threshold`,
      `${second}/sparsity`, `${second}/target_sparsity`, `${second}/threshold`,
    ].sort());
    // Two batches per epoch: step 2 ends epoch 1, step 4 ends epoch 2.
    expect(history.history[`${first}/target_sparsity`]).toEqual([schedule.call(2).sparsity, 0.75]);
    const atStep2 = schedule.call(2).sparsity; // about 0.6019
    expect(history.history[`${first}/sparsity`]).toEqual([(80 - keepCount(80, atStep2)) / 80, 0.75]);
    expect(history.history[`${second}/sparsity`]).toEqual([(40 - keepCount(40, atStep2)) / 40, 0.75]);
    expect(history.history[`${first}/threshold`].every((t) => typeof t === 'number' && t > 0)).toBe(true);
  });

  it('reports the same values when placed before UpdatePruningStep in the callbacks', async () => {
    const history = await fit(fixedKernelModel(), 1, [new PruningSummaries(), new UpdatePruningStep()]);
    expect(history.history['prune_low_magnitude_d/kernel/sparsity']).toEqual([0.5]);
    expect(history.history['prune_low_magnitude_d/kernel/threshold']).toEqual([5]);
    expect(history.history['prune_low_magnitude_d/kernel/target_sparsity']).toEqual([0.5]);
  });

  it('prints a compact table per epoch when asked to', async () => {
    const printed: string[] = [];
    await fit(fixedKernelModel(), 2, [new UpdatePruningStep(), pruningSummaries({printTable: true, print: (t) => printed.push(t)})]);
    expect(printed).toEqual([1, 2].map((epoch) => [
      `Pruning after epoch ${epoch}`,
      'weight                        sparsity  target  threshold',
      'prune_low_magnitude_d/kernel    50.00%  50.00%      5.000',
    ].join('\n')));
  });

  it('reports m / n as the target of M-by-N pruning', async () => {
    const model = tfl.sequential({layers: [tfl.layers.dense({units: 3, inputShape: [8], name: 'mn'})]});
    const pruned = pruneLowMagnitude(model, {sparsityMByN: [1, 4]});
    pruned.compile({optimizer: 'adam', loss: 'meanSquaredError'});
    const history = await fit(pruned, 1, [new UpdatePruningStep(), new PruningSummaries()]);
    expect(history.history['prune_low_magnitude_mn/kernel/target_sparsity']).toEqual([0.25]);
    expect(history.history['prune_low_magnitude_mn/kernel/sparsity']).toEqual([0.25]);
  });
});

describe('PruningSummaries hooks called directly', () => {
  it('adds the keys to the logs it is given', async () => {
    const pruned = fixedKernelModel();
    const summaries = new PruningSummaries();
    summaries.setModel(pruned);
    const logs: tfl.Logs = {loss: 1};
    await summaries.onEpochEnd(0, logs);
    expect(logs).toEqual({
      'loss': 1,
      'prune_low_magnitude_d/kernel/sparsity': 0,
      'prune_low_magnitude_d/kernel/threshold': 0,
      'prune_low_magnitude_d/kernel/target_sparsity': 0.5,
    });
  });

  it('fails with a PruningError on a model without wrappers, and without a model', async () => {
    const summaries = new PruningSummaries();
    await expect(summaries.onEpochEnd(0, {})).rejects.toThrow(
        'PruningSummaries: no model is set. model.fit sets it; in a custom training loop call callback.setModel(model) first.');
    const model = denseModel();
    summaries.setModel(model);
    await expect(summaries.onEpochEnd(0, {})).rejects.toThrow(PruningError);
    await expect(summaries.onEpochEnd(0, {})).rejects.toThrow(/has no PruneLowMagnitude layers, so there is nothing to report/);
  });

  it.each<[string, unknown, string]>([
    ['args that are not an object', 3, "PruningSummaries: 'args' must be an object, but got 3."],
    ['a printTable that is not a boolean', {printTable: 'yes'}, "PruningSummaries: 'printTable' must be a boolean, but got \"yes\"."],
    ['a print that is not a function', {print: 'console'}, "PruningSummaries: 'print' must be a function, but got \"console\"."],
  ])('rejects %s with a TypeError', (_what, args, message) => {
    expect(() => new PruningSummaries(args as never)).toThrow(TypeError);
    expect(() => new PruningSummaries(args as never)).toThrow(message);
  });

  it('leaves no tensor behind', async () => {
    const pruned = fixedKernelModel();
    const summaries = new PruningSummaries();
    summaries.setModel(pruned);
    const before = tf.memory().numTensors;
    await summaries.onEpochEnd(0, {});
    expect(tf.memory().numTensors).toBe(before);
  });
});
