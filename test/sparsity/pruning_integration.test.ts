// Training with pruning: the reference's integration results (SPEC section 3).
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
import {keepCount} from '../../src/sparsity/pruning_impl';
import {denseModel, fitBatches, seeded, snapshot} from '../helpers/models';
import {saveToMemory} from '../../src/io/gzipped_size';

const constant = (targetSparsity: number) => new ConstantSparsity({targetSparsity, beginStep: 0, frequency: 1});


/** A model around `layer` whose output is flattened to `[batch, 2]`. */
function around(layer: tfl.layers.Layer): tfl.Sequential {
  const model = tfl.sequential({layers: [layer]});
  if (model.outputs[0].shape.length > 2) model.add(tfl.layers.flatten());
  model.add(tfl.layers.dense({units: 2}));
  return model;
}

// Recurrent layers use a glorot recurrent initializer here: tfjs-layers' default Orthogonal initializer
// calls tensor.flatten(), a chained method that only the umbrella @tensorflow/tfjs package registers.
describe('one fit batch at ConstantSparsity(0.5, begin 0, frequency 1)', () => {
  const cases: [string, () => tfl.Sequential, number[], string[]][] = [
    ['Dense', () => around(tfl.layers.dense({units: 8, inputShape: [10]})), [10], ['kernel']],
    ['Conv1D', () => around(tfl.layers.conv1d({filters: 4, kernelSize: 3, inputShape: [8, 3]})), [8, 3], ['kernel']],
    ['Conv2D', () => around(tfl.layers.conv2d({filters: 4, kernelSize: 3, inputShape: [6, 6, 2]})), [6, 6, 2], ['kernel']],
    ['Conv3D', () => around(tfl.layers.conv3d({filters: 2, kernelSize: 2, inputShape: [4, 4, 4, 1]})), [4, 4, 4, 1], ['kernel']],
    ['Conv2DTranspose',
      () => around(tfl.layers.conv2dTranspose({filters: 3, kernelSize: 3, inputShape: [4, 4, 2]})), [4, 4, 2], ['kernel']],
    ['SeparableConv2D (pointwise kernel only)',
      () => around(tfl.layers.separableConv2d({filters: 4, kernelSize: 3, depthMultiplier: 2, inputShape: [6, 6, 3]})),
      [6, 6, 3], ['pointwise_kernel']],
    ['Embedding', () => around(tfl.layers.embedding({inputDim: 10, outputDim: 4, inputLength: 5})), [5], ['embeddings']],
    ['LSTM', () => around(tfl.layers.lstm({units: 3, inputShape: [4, 2], recurrentInitializer: 'glorotNormal'})), [4, 2], ['kernel', 'recurrent_kernel']],
    ['GRU', () => around(tfl.layers.gru({units: 3, inputShape: [4, 2], recurrentInitializer: 'glorotNormal'})), [4, 2], ['kernel', 'recurrent_kernel']],
    ['SimpleRNN', () => around(tfl.layers.simpleRNN({units: 3, inputShape: [4, 2], recurrentInitializer: 'glorotNormal'})), [4, 2],
      ['kernel', 'recurrent_kernel']],
  ];

  it.each(cases)('%s: every prunable weight is exactly 50% sparse', async (name, build, inputShape, weights) => {
    const pruned = pruneLowMagnitude(build(), {pruningSchedule: constant(0.5)});
    pruned.compile({optimizer: 'adam', loss: 'meanSquaredError'});
    const x = name === 'Embedding' ? tf.tidy(() => tf.floor(tf.mul(tf.abs(seeded([4, 5], 1)), 9.99))) :
      seeded([4, ...inputShape], 1);
    const y = seeded([4, 2], 2);
    await pruned.fit(x, y, {batchSize: 4, epochs: 1, callbacks: [new UpdatePruningStep()], verbose: 0});
    tf.dispose([x, y]);
    const sparsity = await getSparsity(pruned);
    const first = sparsity.filter((s) => s.layer === pruned.layers[0].name.replace('prune_low_magnitude_', ''));
    expect(first.map((s) => s.weight.split('/').pop())).toEqual(weights);
    for (const s of sparsity) expect(s.zeros).toBe(s.size - keepCount(s.size, 0.5));
  });

  it('prunes nothing in a DepthwiseConv2D (accepted, no prunable weight)', () => {
    const pruned = pruneLowMagnitude(around(tfl.layers.depthwiseConv2d({kernelSize: 3, inputShape: [5, 5, 2]})));
    expect((pruned.layers[0] as PruneLowMagnitude).getPrunedWeights()).toHaveLength(0);
  });
});

describe('reference results on the two-layer Dense model', () => {
  it('keeps exactly one non-zero per kernel at ConstantSparsity(0.99) after one batch', async () => {
    const pruned = pruneLowMagnitude(denseModel(), {pruningSchedule: constant(0.99)});
    pruned.compile({optimizer: 'adam', loss: 'meanSquaredError'});
    await fitBatches(pruned, [10], [5], 1, [new UpdatePruningStep()]);
    expect((await getSparsity(pruned)).map((s) => s.size - s.zeros)).toEqual([1, 1]);
  });

  it('trains exactly like no pruning at ConstantSparsity(0)', async () => {
    const model = denseModel();
    const pruned = pruneLowMagnitude(model, {pruningSchedule: constant(0)});
    const reference = tfl.models.modelFromJSON === undefined ? model : model;
    reference.compile({optimizer: 'adam', loss: 'meanSquaredError'});
    pruned.compile({optimizer: 'adam', loss: 'meanSquaredError'});
    await fitBatches(pruned, [10], [5], 3, [new UpdatePruningStep()]);
    await fitBatches(reference, [10], [5], 3, []);
    const prunedKernels = pruned.layers.map((l) => Array.from((l as PruneLowMagnitude).layer.getWeights()[0].dataSync()));
    const referenceKernels = reference.layers.map((l) => Array.from(l.getWeights()[0].dataSync()));
    expect(prunedKernels).toEqual(referenceKernels);
  });

  it('follows PolynomialDecay(0.2 -> 0.6, begin 1, end 4, frequency 1): 0.2 after batch 1, 0.6 after batch 4', async () => {
    const schedule = new PolynomialDecay({initialSparsity: 0.2, finalSparsity: 0.6, beginStep: 1, endStep: 4, frequency: 1});
    const pruned = pruneLowMagnitude(denseModel(), {pruningSchedule: schedule});
    pruned.compile({optimizer: 'adam', loss: 'meanSquaredError'});
    await fitBatches(pruned, [10], [5], 1, [new UpdatePruningStep()]);
    expect((await getSparsity(pruned)).map((s) => s.zeros)).toEqual([80 - keepCount(80, 0.2), 40 - keepCount(40, 0.2)]);
    await fitBatches(pruned, [10], [5], 3, [new UpdatePruningStep()], 4, 20);
    expect((pruned.layers[0] as PruneLowMagnitude).pruningStep).toBe(4);
    expect((await getSparsity(pruned)).map((s) => s.sparsity)).toEqual([0.6, 0.6]);
  });

  it('continues at the same step with the same masks after a save and reload in the middle', async () => {
    const schedule = new PolynomialDecay({initialSparsity: 0.2, finalSparsity: 0.6, beginStep: 1, endStep: 4, frequency: 1});
    const pruned = pruneLowMagnitude(denseModel(), {pruningSchedule: schedule});
    pruned.compile({optimizer: 'adam', loss: 'meanSquaredError'});
    await fitBatches(pruned, [10], [5], 1, [new UpdatePruningStep()]);
    const artifacts = await saveToMemory(pruned);
    const reloaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
    expect(snapshot(reloaded)).toEqual(snapshot(pruned));
    const wrapper = reloaded.layers[0] as PruneLowMagnitude;
    expect(wrapper).toBeInstanceOf(PruneLowMagnitude);
    expect(wrapper.pruningStep).toBe(1);
    expect(wrapper.pruningSchedule.getConfig()).toEqual(schedule.getConfig());
    reloaded.compile({optimizer: 'adam', loss: 'meanSquaredError'});
    await fitBatches(reloaded, [10], [5], 3, [new UpdatePruningStep()], 4, 20);
    expect(wrapper.pruningStep).toBe(4);
    expect((await getSparsity(reloaded)).map((s) => s.sparsity)).toEqual([0.6, 0.6]);
  });

  it('saves the same topology again after a load (save -> load -> save)', async () => {
    const pruned = pruneLowMagnitude(denseModel(), {pruningSchedule: constant(0.5)});
    const first = await saveToMemory(pruned);
    const second = await saveToMemory(await tfl.loadLayersModel(tf.io.fromMemory(first)));
    expect(JSON.stringify(second.modelTopology)).toBe(JSON.stringify(first.modelTopology));
  });
});

describe('the step callback is required for training, not for inference', () => {
  it('fails fit without UpdatePruningStep with a PruningError telling what to add', async () => {
    const pruned = pruneLowMagnitude(denseModel());
    pruned.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
    const fit = fitBatches(pruned, [10], [5], 1, []);
    await expect(fit).rejects.toThrow(PruningError);
    await expect(fitBatches(pruned, [10], [5], 1, [])).rejects.toThrow(
        'PruneLowMagnitude requires the UpdatePruningStep callback during training. Add it to the callbacks of ' +
        'your model.fit call: model.fit(x, y, {callbacks: [new UpdatePruningStep()]}), or call its hooks ' +
        'yourself in a custom training loop.');
  });

  it('predicts and evaluates without the callback', () => {
    const pruned = pruneLowMagnitude(denseModel());
    pruned.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
    const x = seeded([4, 10], 1);
    const y = seeded([4, 5], 2);
    const loss = pruned.evaluate(x, y) as tf.Scalar;
    expect(Number.isFinite(loss.dataSync()[0])).toBe(true);
    tf.dispose([x, y, loss]);
  });

  it('rejects the callback on a model without wrappers', async () => {
    const model = denseModel();
    model.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
    await expect(fitBatches(model, [10], [5], 1, [new UpdatePruningStep()])).rejects.toThrow(
        /UpdatePruningStep: model "sequential_\d+(_model)?" has no PruneLowMagnitude layers, so there is nothing to prune/);
  });
});

describe('a custom training loop', () => {
  it('drives pruning by calling the callback hooks by hand', async () => {
    const pruned = pruneLowMagnitude(denseModel(), {
      pruningSchedule: new ConstantSparsity({targetSparsity: 0.75, beginStep: 2, frequency: 1}),
    });
    const optimizer = tf.train.adam(0.01);
    const callback = new UpdatePruningStep();
    callback.setModel(pruned);
    await callback.onTrainBegin();
    const x = seeded([8, 10], 5);
    const y = seeded([8, 5], 6);
    for (let step = 0; step < 3; step++) {
      await callback.onBatchBegin(step);
      optimizer.minimize(() => tf.losses.meanSquaredError(y, pruned.apply(x, {training: true}) as tf.Tensor) as tf.Scalar);
    }
    await callback.onEpochEnd(0);
    await callback.onTrainEnd();
    expect((pruned.layers[0] as PruneLowMagnitude).pruningStep).toBe(3);
    expect((await getSparsity(pruned)).map((s) => s.zeros)).toEqual([60, 30]);
    tf.dispose([x, y]);
    optimizer.dispose();
  });
});

describe('tensor memory', () => {
  it('keeps the tensor count constant between batch 10 and batch 100 of a pruned fit', async () => {
    const pruned = pruneLowMagnitude(denseModel(), {
      pruningSchedule: new ConstantSparsity({targetSparsity: 0.5, beginStep: 0, frequency: 7}),
    });
    pruned.compile({optimizer: 'adam', loss: 'meanSquaredError'});
    const counts: number[] = [];
    const recorder = new tfl.CustomCallback({onBatchEnd: async () => {
      counts.push(tf.memory().numTensors);
    }});
    await fitBatches(pruned, [10], [5], 100, [new UpdatePruningStep(), recorder as unknown as tfl.Callback], 1);
    expect(counts).toHaveLength(100);
    expect(counts[99]).toBe(counts[9]);
  });

  it('returns to the starting tensor count after prune, fit, strip and dispose', async () => {
    const model = denseModel();
    const start = tf.memory().numTensors;
    const pruned = pruneLowMagnitude(model, {pruningSchedule: constant(0.5)});
    pruned.compile({optimizer: 'adam', loss: 'meanSquaredError'});
    await fitBatches(pruned, [10], [5], 3, [new UpdatePruningStep()]);
    const {stripPruning} = await import('../../src');
    const stripped = stripPruning(pruned);
    pruned.dispose();
    stripped.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });
});
