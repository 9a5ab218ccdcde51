// Bidirectional and TimeDistributed: their wrapped layer's weights are pruned (tfmot rejects both layers).
// Recurrent layers use a glorot recurrent initializer: tfjs-layers' default Orthogonal initializer calls
// tensor.flatten(), a chained method that only the umbrella @tensorflow/tfjs package registers.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {
  ConstantSparsity,
  PruneLowMagnitude,
  UpdatePruningStep,
  getSparsity,
  isPrunable,
  isPrunedMByN,
  pruneLowMagnitude,
  stripPruning,
} from '../../src';
import {keepCount} from '../../src/sparsity/pruning_impl';
import {ChannelScale, fitBatches, seeded, snapshot} from '../helpers/models';
import {saveToMemory} from '../../src/io/gzipped_size';

const everyStep = (targetSparsity = 0.5) => new ConstantSparsity({targetSparsity, beginStep: 0, frequency: 1});
const rnnArgs = {units: 3, recurrentInitializer: 'glorotNormal', returnSequences: true} as const;

/** Bidirectional(LSTM) -> TimeDistributed(Dense) -> Flatten on sequences of 4 steps of 2 features. */
function sequenceModel(): tfl.Sequential {
  return tfl.sequential({
    layers: [
      tfl.layers.bidirectional({layer: tfl.layers.lstm(rnnArgs) as tfl.RNN, inputShape: [4, 2], name: 'bi'}),
      tfl.layers.timeDistributed({layer: tfl.layers.dense({units: 2}), name: 'td'}),
      tfl.layers.flatten({name: 'flat'}),
    ],
  });
}


describe('Bidirectional and TimeDistributed', () => {
  it('are prunable when the layer they wrap is', () => {
    expect(isPrunable(tfl.layers.bidirectional({layer: tfl.layers.gru(rnnArgs) as tfl.RNN}))).toBe(true);
    expect(isPrunable(tfl.layers.timeDistributed({layer: tfl.layers.conv2d({filters: 2, kernelSize: 1})}))).toBe(true);
  });

  it('prune the forward and backward kernels and recurrent kernels, and the time-distributed kernel, in fit', async () => {
    const model = sequenceModel();
    const pruned = pruneLowMagnitude(model, {pruningSchedule: everyStep(0.5)});
    const x = seeded([3, 4, 2], 5);
    const [before, after] = [model.predict(x) as tf.Tensor, pruned.predict(x) as tf.Tensor];
    expect(Array.from(after.dataSync())).toEqual(Array.from(before.dataSync()));
    tf.dispose([x, before, after]);
    pruned.compile({optimizer: 'adam', loss: 'meanSquaredError'});
    await fitBatches(pruned, [4, 2], [8], 2, [new UpdatePruningStep()]);
    const sparsity = await getSparsity(pruned);
    expect(sparsity.map((s) => s.weight.slice(s.weight.indexOf('/') + 1))).toEqual([
      expect.stringMatching(/^forward_lstm.*\/kernel$/), expect.stringMatching(/^forward_lstm.*\/recurrent_kernel$/),
      expect.stringMatching(/^backward_lstm.*\/kernel$/), expect.stringMatching(/^backward_lstm.*\/recurrent_kernel$/),
      'kernel',
    ]);
    for (const s of sparsity) expect(s.zeros).toBe(s.size - keepCount(s.size, 0.5));
    expect(model.layers.map((l) => l.getClassName())).toEqual(['Bidirectional', 'TimeDistributed', 'Flatten']);
  });

  it('strip back to the original config and resume after a save and reload', async () => {
    const model = sequenceModel();
    const pruned = pruneLowMagnitude(model, {pruningSchedule: everyStep(0.75)});
    pruned.compile({optimizer: 'adam', loss: 'meanSquaredError'});
    await fitBatches(pruned, [4, 2], [8], 1, [new UpdatePruningStep()]);
    expect(stripPruning(pruned).toJSON(null, false)).toEqual(model.toJSON(null, false));
    const reloaded = await tfl.loadLayersModel(tf.io.fromMemory(await saveToMemory(pruned)));
    // (Not the config: tfjs saves the LSTM's undefined unitForgetBias and implementation as null.)
    expect(snapshot(reloaded).weights).toEqual(snapshot(pruned).weights);
    reloaded.compile({optimizer: 'adam', loss: 'meanSquaredError'});
    await fitBatches(reloaded, [4, 2], [8], 1, [new UpdatePruningStep()], 4, 30);
    expect((reloaded.layers[0] as PruneLowMagnitude).pruningStep).toBe(2);
    const sparsity = await getSparsity(stripPruning(reloaded));
    expect(sparsity).toHaveLength(5);
    for (const s of sparsity) expect(s.zeros).toBe(s.size - keepCount(s.size, 0.75));
  });

  it('prune a Bidirectional GRU (mergeMode "ave") in a functional model, wrapped as a single layer too', async () => {
    const input = tfl.input({shape: [5, 3]});
    const bi = tfl.layers.bidirectional({layer: tfl.layers.gru({...rnnArgs, returnSequences: false}) as tfl.RNN, mergeMode: 'ave'});
    const output = tfl.layers.dense({units: 2}).apply(bi.apply(input) as tfl.SymbolicTensor) as tfl.SymbolicTensor;
    const model = tfl.model({inputs: input, outputs: output});
    const pruned = pruneLowMagnitude(model, {pruningSchedule: everyStep(0.5)});
    pruned.compile({optimizer: 'adam', loss: 'meanSquaredError'});
    await fitBatches(pruned, [5, 3], [2], 1, [new UpdatePruningStep()]);
    const sparsity = await getSparsity(pruned);
    expect(sparsity).toHaveLength(5);
    for (const s of sparsity) expect(s.zeros).toBe(s.size - keepCount(s.size, 0.5));
    const single = pruneLowMagnitude(bi);
    expect(single).toBeInstanceOf(PruneLowMagnitude);
    expect(single.layer).not.toBe(bi);
  });

  it('take block and M-by-N sparsity on the rank-2 weights they wrap', async () => {
    const td = () => tfl.sequential({layers: [tfl.layers.timeDistributed({layer: tfl.layers.dense({units: 4}), inputShape: [3, 8]})]});
    const blocks = pruneLowMagnitude(td(), {pruningSchedule: everyStep(0.5), blockSize: [2, 2]});
    const mByN = pruneLowMagnitude(td(), {sparsityMByN: [2, 4]});
    for (const pruned of [blocks, mByN]) {
      pruned.compile({optimizer: 'adam', loss: 'meanSquaredError'});
      await fitBatches(pruned, [3, 8], [3, 4], 1, [new UpdatePruningStep()]);
    }
    expect((await getSparsity(blocks))[0].sparsity).toBe(0.5);
    await expect(isPrunedMByN(stripPruning(mByN).layers[0].getWeights()[0], [2, 4])).resolves.toBe(true);
  });

  it('name the layer a Bidirectional or TimeDistributed wraps when it cannot be pruned', () => {
    const model = tfl.sequential({
      layers: [tfl.layers.timeDistributed({layer: new ChannelScale({name: 'cs'}), inputShape: [3, 2], name: 'td'})],
    });
    expect(() => pruneLowMagnitude(model)).toThrow(
        'pruneLowMagnitude: layer "td" (class TimeDistributed) cannot be pruned because the layer it wraps cannot: ' +
        'layer "cs" (class ChannelScaleForTests) cannot be pruned: ChannelScaleForTests is not one of the built-in ' +
        'prunable classes');
  });
});
