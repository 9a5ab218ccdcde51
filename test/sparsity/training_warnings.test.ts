// The warning UpdatePruningStep prints at the end of a training that leaves pruning short of its
// schedule: tfmot's step semantics are kept (one step per batch, the default schedule cuts every 100
// steps), so a short fine-tune can end before the first cut, or before a decay reaches its end.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {
  ConstantSparsity,
  PolynomialDecay,
  PruneLowMagnitude,
  PruneSelectedLayers,
  PruningSchedule,
  UpdatePruningStep,
  getSparsity,
  pruneLowMagnitude,
} from '../../src';
import type {PruningDecision} from '../../src';
import {saveToMemory} from '../../src/io/gzipped_size';
import {fitBatches} from '../helpers/models';

const STEP_TEXT = (step: number) =>
  `training ended at pruning step ${step} (one step per training batch, counted across fit calls)`;

/** A custom schedule without step fields that never prunes. */
class NeverPrune extends PruningSchedule {
  static className = 'TrainingWarningsNeverPrune';
  call(): PruningDecision {
    return {shouldPrune: false, sparsity: 0.5};
  }
  getConfig(): tf.serialization.ConfigDict {
    return {};
  }
}
tf.serialization.registerClass(NeverPrune);

function pruned(pruningSchedule?: PruningSchedule): tfl.LayersModel {
  const model = tfl.sequential({layers: [tfl.layers.dense({name: 'd', units: 6, inputShape: [5]})]});
  const result = pruneLowMagnitude(model, pruningSchedule === undefined ? {} : {pruningSchedule});
  result.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
  return result;
}

let warn: jest.SpyInstance;
beforeEach(() => {
  warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
});
afterEach(() => warn.mockRestore());

/** The messages UpdatePruningStep printed (tfjs prints its own notices through console.warn too). */
const warnings = () => warn.mock.calls.map((args) => String(args[0])).filter((m) => m.startsWith('UpdatePruningStep'));

async function train(model: tfl.LayersModel, batches: number, callback = new UpdatePruningStep()): Promise<void> {
  await fitBatches(model, [5], [6], batches, [callback]);
}

describe('a training after which no mask has been cut', () => {
  it('warns once that the default schedule cuts first at step 100 after a 60-batch fine-tune', async () => {
    const model = pruned();
    await train(model, 60);
    expect(warnings()).toEqual([
      `UpdatePruningStep: nothing is pruned yet: ${STEP_TEXT(60)}, and no mask of the model has been cut. Its ` +
      'schedule, ConstantSparsity (beginStep 0, endStep -1, frequency 100), cuts masks first at step 100, then ' +
      "every 100 steps. Train for at least 100 batches in all, or lower the schedule's 'frequency' (and " +
      "'beginStep') so that masks are cut within the batches you train.",
    ]);
    expect((await getSparsity(model)).map((w) => w.sparsity)).toEqual([0]);
  });

  it('warns for a PolynomialDecay ending at step 100 trained for 60 batches (its one cut is at step 100)', async () => {
    await train(pruned(new PolynomialDecay({initialSparsity: 0.2, finalSparsity: 0.8, beginStep: 0, endStep: 100})), 60);
    expect(warnings()).toEqual([
      `UpdatePruningStep: nothing is pruned yet: ${STEP_TEXT(60)}, and no mask of the model has been cut. Its ` +
      'schedule, PolynomialDecay (beginStep 0, endStep 100, frequency 100), cuts masks at step 100 only. Train for ' +
      "at least 100 batches in all, or lower the schedule's 'frequency' (and 'beginStep') so that masks are cut " +
      'within the batches you train.',
    ]);
  });

  it('says when a schedule cuts at no training step at all', async () => {
    await train(pruned(new ConstantSparsity({targetSparsity: 0.5, beginStep: 0, endStep: 50, frequency: 100})), 3);
    expect(warnings()).toEqual([
      `UpdatePruningStep: nothing is pruned yet: ${STEP_TEXT(3)}, and no mask of the model has been cut. Its ` +
      'schedule, ConstantSparsity (beginStep 0, endStep 50, frequency 100), cuts no mask at any training step: its ' +
      "first cut would be at step 100, after its endStep. Lower 'frequency' to at most 50, or raise 'endStep'.",
    ]);
  });

  it('names a custom schedule without step fields', async () => {
    await train(pruned(new NeverPrune()), 2);
    expect(warnings()).toEqual([
      `UpdatePruningStep: nothing is pruned yet: ${STEP_TEXT(2)}, and no mask of the model has been cut. Its ` +
      'schedule, TrainingWarningsNeverPrune, answered shouldPrune: false at every step so far; check its steps ' +
      'against the number of batches you train.',
    ]);
  });

  it('warns once per model (not at every short fit), and no more once a later fit has cut the masks', async () => {
    const model = pruned(new ConstantSparsity({targetSparsity: 0.5, frequency: 10}));
    const callback = new UpdatePruningStep();
    await train(model, 4, callback);
    await train(model, 4, callback);
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toContain(STEP_TEXT(4));
    await train(model, 4, callback); // steps 9 to 12: cut at step 10
    await train(model, 4, callback); // steps 13 to 16: no cut, but the masks were cut before
    expect(warnings()).toHaveLength(1);
  });

  it('does not warn for a reloaded model whose masks were cut before the save', async () => {
    const model = pruned(new ConstantSparsity({targetSparsity: 0.5, frequency: 10}));
    await train(model, 10);
    const artifacts = await saveToMemory(model);
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
    loaded.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
    await train(loaded, 5); // steps 11 to 15: no cut in this fit
    expect(warnings()).toEqual([]);
    loaded.dispose();
  });
});

describe('a training that ends before the schedule does', () => {
  it('warns with the step reached, the schedule and the sparsity now and at its end', async () => {
    await train(pruned(new PolynomialDecay({
      initialSparsity: 0, finalSparsity: 0.5, beginStep: 0, endStep: 100, frequency: 10,
    })), 60);
    // At step 60: (0 - 0.5) * (1 - 0.6)^3 + 0.5 = 0.468.
    expect(warnings()).toEqual([
      'UpdatePruningStep: the pruning schedule of layer "prune_low_magnitude_d" did not reach its end: ' +
      `${STEP_TEXT(60)}, but its schedule, PolynomialDecay (beginStep 0, endStep 100, frequency 10), reaches its ` +
      'final sparsity 0.5 at step 100; at step 60 it asks for 0.468. Train for 40 more batches (another fit call ' +
      "continues from step 60), or set 'endStep' to at most the number of batches you train.",
    ]);
  });
});

describe('a training that goes as the schedule describes', () => {
  it.each([
    ['a ConstantSparsity cutting every step', new ConstantSparsity({targetSparsity: 0.5, frequency: 1}), 3],
    ['a ConstantSparsity with an end, trained past it', new ConstantSparsity({targetSparsity: 0.5, endStep: 4, frequency: 2}), 6],
    ['a PolynomialDecay trained to its end step', new PolynomialDecay({initialSparsity: 0.2, finalSparsity: 0.8, beginStep: 0, endStep: 8, frequency: 2}), 8],
    ['M-by-N sparsity (cut at step 1, whatever the schedule)', undefined, 2],
  ])('does not warn: %s', async (_description, schedule, batches) => {
    const model = schedule === undefined ?
      pruneLowMagnitude(tfl.sequential({layers: [tfl.layers.dense({name: 'd', units: 6, inputShape: [8]})]}), {sparsityMByN: [2, 4]}) :
      pruned(schedule);
    model.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
    await fitBatches(model, [schedule === undefined ? 8 : 5], [6], batches, [new UpdatePruningStep()]);
    expect(warnings()).toEqual([]);
  });

  it('does not warn for wrappers that prune nothing, whatever their schedule', async () => {
    const model = pruneLowMagnitude(tfl.sequential({layers: [
      tfl.layers.dense({name: 'd', units: 6, inputShape: [5]}),
      tfl.layers.dropout({name: 'drop', rate: 0.1}),
    ]}), {pruningSchedule: new NeverPrune(), pruningPolicy: new PruneSelectedLayers({names: ['drop']})});
    model.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
    await train(model, 2);
    expect(model.layers.map((layer) => layer instanceof PruneLowMagnitude)).toEqual([false, true]);
    expect(warnings()).toEqual([]);
  });
});
