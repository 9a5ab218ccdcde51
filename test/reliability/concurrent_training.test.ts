// One UpdatePruningStep instance serves one training at a time. Given to two concurrent fits, the
// second is refused with a PruningError that says so, and the first trains exactly as it would alone
// (before, one fit failed with the misleading "requires the UpdatePruningStep callback" and the other
// ended at step 17 instead of 16, with other sparsities).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {PolynomialDecay, PruneLowMagnitude, PruningError, UpdatePruningStep, pruneLowMagnitude} from '../../src';
import {seeded} from '../helpers/models';

const REFUSAL = (first: string, second: string) =>
  `UpdatePruningStep: this callback is already driving the training of model "${first}", so it cannot also drive the ` +
  `training of model "${second}": a callback instance serves one fit at a time. Give each concurrent fit its own new ` +
  'UpdatePruningStep(), or await one fit before starting the next (a custom training loop ends its training with ' +
  'onTrainEnd()).';

/** A seeded functional Dense 6 -> 8 model named `name`, pruned from 0 to 75% over steps 0 to 16, every step. */
function prunedModel(name: string): tfl.LayersModel {
  const input = tfl.input({shape: [6]});
  const output = tfl.layers.dense({
    name: 'd', units: 8, kernelInitializer: tfl.initializers.glorotUniform({seed: 3}),
  }).apply(input) as tfl.SymbolicTensor;
  const model = pruneLowMagnitude(tfl.model({inputs: input, outputs: output, name}), {
    pruningSchedule: new PolynomialDecay({initialSparsity: 0, finalSparsity: 0.75, beginStep: 0, endStep: 16, frequency: 1}),
  });
  model.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
  return model;
}

const wrapper = (model: tfl.LayersModel) => model.layers[1] as PruneLowMagnitude;

/** Step, masks and weights after training. */
function outcome(model: tfl.LayersModel): {step: number; weights: number[][]} {
  return {step: wrapper(model).pruningStep, weights: model.getWeights().map((w) => Array.from(w.dataSync()))};
}

const x = seeded([64, 6], 1);
const y = seeded([64, 8], 2);
afterAll(() => tf.dispose([x, y]));

/** 16 batches of 4, in one epoch. */
const fit = (model: tfl.LayersModel, callback: UpdatePruningStep) =>
  model.fit(x, y, {batchSize: 4, epochs: 1, shuffle: false, verbose: 0, callbacks: [callback]});

let alone: {step: number; weights: number[][]};
beforeAll(async () => {
  const model = prunedModel('alone');
  await fit(model, new UpdatePruningStep());
  alone = outcome(model);
  model.dispose();
});

describe('one UpdatePruningStep given to two concurrent fits', () => {
  it('refuses the second fit and lets the first train exactly as it would alone', async () => {
    expect(alone.step).toBe(16);
    const callback = new UpdatePruningStep();
    const a = prunedModel('a');
    const b = prunedModel('b');
    const results = await Promise.allSettled([fit(a, callback), fit(b, callback)]);
    const failed = results.findIndex((r) => r.status === 'rejected');
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    const reason = (results[failed] as PromiseRejectedResult).reason;
    const [winner, loser] = failed === 1 ? [a, b] : [b, a];
    expect(reason).toBeInstanceOf(PruningError);
    expect(reason.message).toBe(REFUSAL(winner.name, loser.name));
    expect(outcome(winner)).toEqual(alone);
    // The refused model was left untouched: never trained, and it trains normally with its own callback.
    expect(wrapper(loser).pruningStep).toBe(-1);
    await fit(loser, new UpdatePruningStep());
    expect(outcome(loser)).toEqual(alone);
    // Once the first fit is over, the callback serves another one.
    const c = prunedModel('c');
    await fit(c, callback);
    expect(outcome(c)).toEqual(alone);
  });

  it('the same model twice: tfjs refuses the second fit, and the first ends at step 16 as alone', async () => {
    const callback = new UpdatePruningStep();
    const a = prunedModel('a');
    const results = await Promise.allSettled([fit(a, callback), fit(a, callback)]);
    expect(results.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : 'done'))).toEqual(
        ['done', 'Cannot start training because another fit() call is ongoing.']);
    expect(outcome(a)).toEqual(alone);
  });

  it('serves a new fit of another model after a fit that failed half way', async () => {
    const callback = new UpdatePruningStep();
    const a = prunedModel('a');
    const failing = new tfl.CustomCallback({onBatchEnd: async (batch) => {
      if (batch === 2) throw new Error('stop here');
    }});
    await expect(a.fit(x, y, {batchSize: 4, epochs: 1, shuffle: false, verbose: 0, callbacks: [callback, failing]}))
        .rejects.toThrow('stop here');
    const b = prunedModel('b');
    await fit(b, callback);
    expect(outcome(b)).toEqual(alone);
  });
});

describe('the hooks called directly (a custom training loop)', () => {
  it('refuse another model between onTrainBegin and onTrainEnd, and accept it afterwards', async () => {
    const callback = new UpdatePruningStep();
    const a = prunedModel('a');
    const b = prunedModel('b');
    callback.setModel(a);
    await callback.onTrainBegin();
    expect(() => callback.setModel(b)).toThrow(new PruningError(REFUSAL('a', 'b')));
    callback.model = b; // bypassing setModel
    await expect(callback.onTrainBegin()).rejects.toThrow(REFUSAL('a', 'b'));
    callback.model = a;
    await callback.onBatchBegin(0);
    await callback.onTrainEnd();
    expect(wrapper(a).pruningStep).toBe(1);
    callback.setModel(b);
    await callback.onTrainBegin();
    await callback.onTrainEnd();
    expect(wrapper(b).pruningStep).toBe(0);
  });
});
