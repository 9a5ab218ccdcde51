// Numerical and structural edge cases, each with one defined outcome (listed in docs/reliability.md).
import * as tf from '@tensorflow/tfjs-core';
import * as tfd from '@tensorflow/tfjs-data';
import * as tfl from '@tensorflow/tfjs-layers';

import {
  ConstantSparsity,
  PolynomialDecay,
  PruneLowMagnitude,
  PruningError,
  UpdatePruningStep,
  getGzippedModelSize,
  getSparsity,
  loadQuantizedLayersModel,
  pruneLowMagnitude,
  quantizeDynamicRange,
  stripPruning,
} from '../../src';
import {saveToMemory} from '../../src/io/gzipped_size';
import {keepCount, magnitudeMask} from '../../src/sparsity/pruning_impl';
import {fitBatches} from '../helpers/models';

const every = (targetSparsity: number) => new ConstantSparsity({targetSparsity, beginStep: 0, frequency: 1});

/** A one-layer Dense model whose kernel is `kernel` ([inputs, units]) and bias zero. */
function denseWith(kernel: number[][], name = 'd'): tfl.Sequential {
  const model = tfl.sequential({layers: [tfl.layers.dense({name, units: kernel[0].length, inputShape: [kernel.length]})]});
  tf.tidy(() => model.setWeights([tf.tensor2d(kernel), tf.zeros([kernel[0].length])]));
  return model;
}

/** Writes a saved step into a wrapper's pruning_step weight, as a loaded model would hold it. */
function setStep(variable: tfl.LayerVariable, step: number): void {
  const value = tf.scalar(step, 'int32');
  variable.write(value);
  value.dispose();
}

function wrapperOf(model: tfl.LayersModel, index = 0): PruneLowMagnitude {
  return model.layers[index] as PruneLowMagnitude;
}

function kernelValues(model: tfl.LayersModel, index = 0): number[] {
  const wrapper = wrapperOf(model, index);
  return Array.from((wrapper instanceof PruneLowMagnitude ? wrapper.layer : wrapper).getWeights()[0].dataSync());
}

function maskValues(model: tfl.LayersModel, index = 0): number[] {
  return Array.from(wrapperOf(model, index).getPrunedWeights()[0].mask.read().dataSync());
}

async function compiledPruned(model: tfl.LayersModel, schedule = every(0.5)): Promise<tfl.LayersModel> {
  const pruned = pruneLowMagnitude(model, {pruningSchedule: schedule});
  pruned.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
  return pruned;
}

describe('NaN and infinities in a weight', () => {
  it.each([
    ['NaN', NaN, 'NaN'],
    ['+Infinity', Infinity, 'an infinite value'],
    ['-Infinity', -Infinity, 'an infinite value'],
  ])('a %s fails the mask update with a PruningError naming the weight and the index, never a mask', async (_what, bad, said) => {
    const pruned = await compiledPruned(denseWith([[1, 2], [3, bad]]));
    const before = maskValues(pruned);
    await expect(fitBatches(pruned, [2], [2], 1, [new UpdatePruningStep()])).rejects.toThrow(new PruningError(
        `Cannot prune weight "prune_low_magnitude_d/kernel": it holds ${said} (at flat index 3). Pruning needs finite ` +
        'weights; check the training for divergence.'));
    expect(maskValues(pruned)).toEqual(before); // the masks are left as they were
  });

  it('a failed fit does not leave training enabled: a later fit without the callback still fails', async () => {
    const pruned = await compiledPruned(denseWith([[1, 2], [3, NaN]]));
    await expect(fitBatches(pruned, [2], [2], 1, [new UpdatePruningStep()])).rejects.toThrow(PruningError);
    await expect(fitBatches(pruned, [2], [2], 1, [])).rejects.toThrow(
        'PruneLowMagnitude requires the UpdatePruningStep callback during training.');
  });

  it('so does a fit that another callback aborts', async () => {
    const pruned = await compiledPruned(denseWith([[1, 2], [3, 4]]));
    const abort = new tfl.CustomCallback({onBatchEnd: async () => {
      throw new Error('aborted by the user');
    }});
    await expect(fitBatches(pruned, [2], [2], 2, [new UpdatePruningStep(), abort as unknown as tfl.Callback]))
        .rejects.toThrow('aborted by the user');
    await expect(fitBatches(pruned, [2], [2], 1, [])).rejects.toThrow(PruningError);
    // With the callback, training goes on from the step reached.
    await fitBatches(pruned, [2], [2], 1, [new UpdatePruningStep()]);
    expect(wrapperOf(pruned).pruningStep).toBe(2);
  });

  it('quantizing rejects it with a RangeError naming the weight; float16 also rejects values beyond 65504', async () => {
    const model = denseWith([[1, NaN]]);
    await expect(quantizeDynamicRange(model, {minElements: 0})).rejects.toThrow(new RangeError(
        "quantizeDynamicRange: weight 'd/kernel' holds NaN or an infinite value; only finite weights can be quantized."));
    await expect(quantizeDynamicRange(denseWith([[1, 70000]]), {minElements: 0, dtype: 'float16'})).rejects.toThrow(
        "quantizeDynamicRange: weight 'd/kernel' holds 70000 at index 1, which does not fit in float16");
  });

  it('stripping writes +0 under a 0 mask for finite weights; a non-finite weight gives NaN there, as in the forward pass', async () => {
    const pruned = await compiledPruned(denseWith([[1, -2], [3, -4]]));
    await fitBatches(pruned, [2], [2], 1, [new UpdatePruningStep()], 4, 3);
    const wrapper = wrapperOf(pruned);
    const mask = maskValues(pruned);
    expect(mask.filter((m) => m === 0)).toHaveLength(2);
    // One pruned raw weight turned infinite, one negative; one kept weight NaN (as a diverged training leaves them).
    const pruned0 = mask.indexOf(0);
    const pruned1 = mask.lastIndexOf(0);
    const kept = mask.indexOf(1);
    const raw = kernelValues(pruned);
    raw[pruned0] = -Infinity;
    raw[pruned1] = -3;
    raw[kept] = NaN;
    tf.tidy(() => wrapper.layer.setWeights([tf.tensor2d(raw, [2, 2]), wrapper.layer.getWeights()[1]]));
    const stripped = kernelValues(stripPruning(pruned));
    expect(Number.isNaN(stripped[pruned0])).toBe(true);
    expect(Object.is(stripped[pruned1], 0)).toBe(true);
    expect(Number.isNaN(stripped[kept])).toBe(true);
    // The next mask update names the first non-finite value.
    await expect(wrapper.updateMasks(0.5)).rejects.toThrow(PruningError);
  });

  it('getSparsity counts NaN as a non-zero', async () => {
    expect((await getSparsity(denseWith([[0, NaN], [0, 1]]))).map((s) => s.zeros)).toEqual([2]);
  });
});

describe('all-zero, all-equal and one-element weights', () => {
  it('an all-zero weight keeps every entry (threshold 0), strips to zeros and quantizes to exact zeros', async () => {
    const pruned = await compiledPruned(denseWith([[0, 0], [0, 0]]), every(0.9));
    await wrapperOf(pruned).updateMasks(0.9);
    expect(maskValues(pruned)).toEqual([1, 1, 1, 1]);
    expect(wrapperOf(pruned).getPrunedWeights()[0].threshold.read().dataSync()[0]).toBe(0);
    const stripped = stripPruning(pruned);
    expect(kernelValues(stripped)).toEqual([0, 0, 0, 0]);
    expect((await getSparsity(stripped))[0].sparsity).toBe(1);
    const artifacts = await quantizeDynamicRange(stripped, {minElements: 0});
    expect(artifacts.weightSpecs![0].quantization).toEqual({dtype: 'uint8', scale: 1, min: -128});
    expect(kernelValues(await tfl.loadLayersModel(tf.io.fromMemory(artifacts)))).toEqual([0, 0, 0, 0]);
  });

  it('an all-equal weight (equal magnitudes, any signs) keeps every entry at any sparsity: ties are kept', async () => {
    for (const s of [0.5, 0.9, 0.999]) {
      expect(Array.from(magnitudeMask(Float32Array.from([0.25, -0.25, 0.25, -0.25, 0.25]), s).mask)).toEqual([1, 1, 1, 1, 1]);
    }
    // Quantized, such a weight comes back exactly.
    const artifacts = await quantizeDynamicRange(denseWith([[0.3, -0.3], [0.3, 0.3]]), {minElements: 0});
    expect(kernelValues(await tfl.loadLayersModel(tf.io.fromMemory(artifacts)))).toEqual([0.3, -0.3, 0.3, 0.3].map(Math.fround));
  });

  it('a one-element weight is always kept, even at 0.999', async () => {
    const pruned = await compiledPruned(denseWith([[0.7]]), every(0.999));
    await fitBatches(pruned, [1], [1], 3, [new UpdatePruningStep()]);
    expect(maskValues(pruned)).toEqual([1]);
    expect(kernelValues(pruned)[0]).not.toBe(0);
  });
});

describe('sparsity 0 and 0.999', () => {
  it('sparsity 0 keeps every entry, zeros included', () => {
    expect(Array.from(magnitudeMask(Float32Array.from([0, -0, 3, 0, -1]), 0).mask)).toEqual([1, 1, 1, 1, 1]);
  });

  it.each([[10, 1], [1000, 1], [1500, 1], [2500, 2], [5000, 5]])('sparsity 0.999 keeps max(round(n * fround(1 - fround(0.999))), 1), in float32 as tfmot: n = %d keeps %d', (n, k) => {
    expect(keepCount(n, 0.999)).toBe(k);
    const values = Float32Array.from({length: n}, (_, i) => (i % 2 ? -1 : 1) * (i + 1));
    expect(magnitudeMask(values, 0.999).mask.reduce((a, b) => a + b, 0)).toBe(k);
  });

  it('a sparsity that rounds to 1 in float32 is rejected; the largest float32 below 1 keeps one weight', () => {
    expect(() => new ConstantSparsity({targetSparsity: 0.99999999})).toThrow(new RangeError(
        "ConstantSparsity: 'targetSparsity' must be in the range [0, 1) in float32 too (at most 0.9999999403953552; " +
        'larger values round to 1), but got 0.99999999.'));
    const largest = 1 - 2 ** -24;
    expect(new ConstantSparsity({targetSparsity: largest}).call(0).sparsity).toBe(largest);
    expect(keepCount(1e6, largest)).toBe(1);
  });

  it('PolynomialDecay never returns 1, even where its float32 sum rounds up to it (tfmot returns 1 there)', () => {
    const schedule = new PolynomialDecay({
      initialSparsity: 1 - 2 ** -24, finalSparsity: 0.36729893043122264, beginStep: 0, endStep: 1000,
    });
    expect(schedule.call(0).sparsity).toBe(1 - 2 ** -24);
  });
});

describe('steps: huge, at the int32 limit, and endStep == beginStep', () => {
  it('schedules answer at step 1e9 by the same rules', () => {
    expect(new ConstantSparsity({targetSparsity: 0.5, frequency: 10}).call(1e9)).toEqual({shouldPrune: true, sparsity: 0.5});
    expect(new ConstantSparsity({targetSparsity: 0.5, frequency: 7}).call(1e9).shouldPrune).toBe(1e9 % 7 === 0);
    const decay = new PolynomialDecay({initialSparsity: 0.2, finalSparsity: 0.8, beginStep: 0, endStep: 2e9, frequency: 1});
    expect(decay.call(1e9)).toEqual({shouldPrune: true, sparsity: Math.fround(Math.fround(0.2 - 0.8) * 0.125 + Math.fround(0.8))});
  });

  it('a model restored at step 1e9 trains on from there and saves step 1e9 + 1', async () => {
    const pruned = await compiledPruned(denseWith([[1, 2], [3, 4]]), every(0.5));
    const wrapper = wrapperOf(pruned);
    const stepVariable = wrapper.nonTrainableWeights.find((w) => w.originalName.endsWith('pruning_step'))!;
    setStep(stepVariable, 1e9);
    await fitBatches(pruned, [2], [2], 1, [new UpdatePruningStep()]);
    expect(wrapper.pruningStep).toBe(1e9 + 1);
    expect(maskValues(pruned).reduce((a, b) => a + b, 0)).toBe(2);
  });

  it('at step 2^31 - 1, the largest the int32 pruning_step holds, the next batch fails with a PruningError', async () => {
    const pruned = await compiledPruned(denseWith([[1, 2], [3, 4]]));
    const stepVariable = wrapperOf(pruned).nonTrainableWeights.find((w) => w.originalName.endsWith('pruning_step'))!;
    setStep(stepVariable, 2 ** 31 - 1);
    await expect(fitBatches(pruned, [2], [2], 1, [new UpdatePruningStep()])).rejects.toThrow(new PruningError(
        'PruneLowMagnitude: layer "prune_low_magnitude_d" is at pruning step 2147483647, the largest its int32 ' +
        'pruning_step weight can hold; it cannot be trained further.'));
  });

  it('endStep == beginStep: ConstantSparsity prunes at that step only; PolynomialDecay is final from it on', () => {
    const constant = new ConstantSparsity({targetSparsity: 0.5, beginStep: 5, endStep: 5, frequency: 10});
    expect([4, 5, 6, 15].map((s) => constant.call(s).shouldPrune)).toEqual([false, true, false, false]);
    const decay = new PolynomialDecay({initialSparsity: 0.2, finalSparsity: 0.8, beginStep: 5, endStep: 5, frequency: 1});
    expect([4, 5, 6].map((s) => decay.call(s))).toEqual([
      {shouldPrune: false, sparsity: Math.fround(Math.fround(Math.fround(0.2 - 0.8) + Math.fround(0.8)))},
      {shouldPrune: true, sparsity: Math.fround(0.8)},
      {shouldPrune: false, sparsity: Math.fround(0.8)},
    ]);
  });
});

describe('empty models and layers without prunable weights', () => {
  it('an empty Sequential prunes, strips, measures and quantizes to an empty model; training it has nothing to prune', async () => {
    const empty = tfl.sequential({name: 'empty'});
    const pruned = pruneLowMagnitude(empty);
    expect(pruned).toBeInstanceOf(tfl.Sequential);
    expect(pruned.layers).toEqual([]);
    expect(stripPruning(pruned).layers).toEqual([]);
    expect(await getSparsity(pruned)).toEqual([]);
    expect(await getGzippedModelSize(pruned)).toBeGreaterThan(0);
    const artifacts = await quantizeDynamicRange(pruned);
    expect(artifacts.weightSpecs).toEqual([]);
    expect((await loadQuantizedLayersModel(artifacts)).layers).toEqual([]);
    const callback = new UpdatePruningStep();
    callback.setModel(pruned);
    await expect(callback.onTrainBegin()).rejects.toThrow(
        'UpdatePruningStep: model "empty" has no PruneLowMagnitude layers, so there is nothing to prune.');
  });

  it('layers without prunable weights get a wrapper with only a pruning_step, and no sparsity entry', async () => {
    const model = tfl.sequential({layers: [
      tfl.layers.flatten({inputShape: [2, 2]}), tfl.layers.dropout({rate: 0.5, seed: 1}),
      tfl.layers.dense({units: 3}), tfl.layers.activation({activation: 'relu'}),
    ]});
    const pruned = pruneLowMagnitude(model, {pruningSchedule: every(0.5)});
    expect(pruned.layers.map((l) => l.nonTrainableWeights.map((w) => w.originalName.split('/')[1]))).toEqual([
      ['pruning_step'], ['pruning_step'], ['mask', 'threshold', 'pruning_step'], ['pruning_step'],
    ]);
    pruned.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
    await fitBatches(pruned, [2, 2], [3], 2, [new UpdatePruningStep()]);
    expect((await getSparsity(pruned)).map((s) => [s.layer, s.zeros, s.size])).toEqual([[model.layers[2].name, 6, 12]]);
    expect(stripPruning(pruned).toJSON(null, false)).toEqual(model.toJSON(null, false));
  });
});

describe('int32 weights', () => {
  class Counter extends tfl.layers.Layer {
    static className = 'ReliabilityCounter';
    counter!: tfl.LayerVariable;
    kernel!: tfl.LayerVariable;
    constructor(args: {pruneCounter?: boolean; inputShape?: number[]; name?: string}) {
      super(args);
      this.pruneCounter = args.pruneCounter ?? false;
    }
    private readonly pruneCounter: boolean;
    override build(): void {
      this.kernel = this.addWeight('kernel', [4], 'float32', tfl.initializers.ones());
      this.counter = this.addWeight('counter', [4], 'int32', tfl.initializers.zeros(), undefined, false);
      this.built = true;
    }
    override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
      return tf.mul(Array.isArray(inputs) ? inputs[0] : inputs, this.kernel.read());
    }
    override getConfig(): tf.serialization.ConfigDict {
      return {...super.getConfig(), pruneCounter: this.pruneCounter};
    }
    getPrunableWeights(): tfl.LayerVariable[] {
      return this.pruneCounter ? [this.counter] : [this.kernel];
    }
  }
  tf.serialization.registerClass(Counter);

  it('an int32 weight offered for pruning fails the build with a PruningError naming it', () => {
    expect(() => pruneLowMagnitude(tfl.sequential({layers: [new Counter({pruneCounter: true, inputShape: [4], name: 'c'})]})))
        .toThrow(new PruningError(
            'PruneLowMagnitude: weight "prune_low_magnitude_c/counter" of layer "c" has dtype int32; only float32 ' +
            'weights can be pruned.'));
  });

  it('int32 weights that are not pruned pass through pruning, stripping and quantization bit for bit', async () => {
    const model = tfl.sequential({layers: [new Counter({inputShape: [4], name: 'c'})]});
    tf.tidy(() => model.layers[0].setWeights([tf.tensor1d([1, -2, 3, -4]), tf.tensor1d([7, -1, 2 ** 31 - 1, -(2 ** 31)], 'int32')]));
    const pruned = pruneLowMagnitude(model, {pruningSchedule: every(0.5)});
    await wrapperOf(pruned).updateMasks(0.5);
    const stripped = stripPruning(pruned);
    expect(Array.from(stripped.layers[0].getWeights()[1].dataSync())).toEqual([7, -1, 2 ** 31 - 1, -(2 ** 31)]);
    const artifacts = await quantizeDynamicRange(pruned, {minElements: 0});
    expect(artifacts.weightSpecs!.map((s) => [s.name, s.dtype, s.quantization?.dtype])).toEqual([
      ['c/kernel', 'float32', 'uint8'], ['c/counter', 'int32', undefined],
    ]);
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
    expect(Array.from(loaded.layers[0].getWeights()[1].dataSync())).toEqual([7, -1, 2 ** 31 - 1, -(2 ** 31)]);
  });
});

describe('already stripped models, stripping and quantizing twice', () => {
  let pruned: tfl.LayersModel;
  beforeAll(async () => {
    const model = tfl.sequential({layers: [tfl.layers.dense({units: 40, inputShape: [30], kernelInitializer: tfl.initializers.glorotUniform({seed: 3})})]});
    pruned = await compiledPruned(model, every(0.7));
    await fitBatches(pruned, [30], [40], 2, [new UpdatePruningStep()]);
  });

  it('stripping a stripped model gives an equal copy (stripping twice changes nothing)', () => {
    const once = stripPruning(pruned);
    const twice = stripPruning(once);
    expect(twice).not.toBe(once);
    expect(twice.toJSON(null, false)).toEqual(once.toJSON(null, false));
    expect(kernelValues(twice)).toEqual(kernelValues(once));
  });

  it('quantizing a pruned model writes the same bytes as quantizing its stripped copy', async () => {
    const direct = await quantizeDynamicRange(pruned);
    const viaStrip = await quantizeDynamicRange(stripPruning(pruned));
    expect(JSON.stringify(direct.modelTopology)).toBe(JSON.stringify(viaStrip.modelTopology));
    expect(Buffer.from(direct.weightData as ArrayBuffer).equals(Buffer.from(viaStrip.weightData as ArrayBuffer))).toBe(true);
  });

  it('quantizing twice gives identical artifacts; quantizing the loaded result again gives the same int8 codes', async () => {
    const a = await quantizeDynamicRange(pruned);
    const b = await quantizeDynamicRange(pruned);
    expect(b.weightSpecs).toEqual(a.weightSpecs);
    expect(Buffer.from(b.weightData as ArrayBuffer).equals(Buffer.from(a.weightData as ArrayBuffer))).toBe(true);
    const again = await quantizeDynamicRange(await tfl.loadLayersModel(tf.io.fromMemory(a)));
    expect(Buffer.from(again.weightData as ArrayBuffer).equals(Buffer.from(a.weightData as ArrayBuffer))).toBe(true);
  });

  it('a stripped model holds no -0: pruned entries are +0 (a mix of -0 and +0 gzips worse)', async () => {
    const stripped = stripPruning(pruned);
    const kernel = kernelValues(stripped);
    expect(kernel.filter((v) => v === 0)).toHaveLength(840);
    expect(kernel.some((v) => Object.is(v, -0))).toBe(false);
    const saved = await saveToMemory(stripped);
    const bits = new Uint32Array(saved.weightData as ArrayBuffer, 0, 1200);
    expect(bits.filter((b) => b === 0x80000000)).toHaveLength(0);
  });
});

describe('values next to the float32 limits', () => {
  it('affine uint8 codes that would decode beyond float32 are rejected; int8 stores them', async () => {
    const model = denseWith([[1.8e38, -3.4028e38]]);
    await expect(quantizeDynamicRange(model, {minElements: 0, dtype: 'uint8'})).rejects.toThrow(
        /^quantizeDynamicRange: weight 'd\/kernel' cannot be stored as 'uint8' codes: its range, widened to hold 0 exactly, decodes to \[-3\.40\d+e\+38, 1\.\d+e\+38\], beyond float32's ±3\.4028234663852886e\+38; use dtype 'int8' or exclude the weight\.$/);
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(await quantizeDynamicRange(model, {minElements: 0})));
    expect(kernelValues(loaded).every(Number.isFinite)).toBe(true);
  });
});

describe('corrupt pruning state in a saved model', () => {
  async function savedWith(edit: (values: Map<string, tf.TypedArray>) => void): Promise<tfl.LayersModel> {
    const pruned = pruneLowMagnitude(denseWith([[1, 2], [3, 4]]), {pruningSchedule: every(0.5)});
    const artifacts = await saveToMemory(pruned);
    const tensors = tf.io.decodeWeights(artifacts.weightData!, artifacts.weightSpecs!);
    const values = new Map(Object.entries(tensors).map(([name, t]) => [name, t.dataSync().slice()]));
    edit(values);
    const encoded = await tf.io.encodeWeights(Object.fromEntries(
        artifacts.weightSpecs!.map((s) => [s.name, tf.tensor(values.get(s.name)!, s.shape, s.dtype)])));
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory({...artifacts, weightData: encoded.data}));
    loaded.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
    return loaded;
  }

  it('a pruning step below -1 fails the next fit with a PruningError', async () => {
    const loaded = await savedWith((v) => v.set('prune_low_magnitude_d/pruning_step', Int32Array.of(-7)));
    await expect(fitBatches(loaded, [2], [2], 1, [new UpdatePruningStep()])).rejects.toThrow(new PruningError(
        'PruneLowMagnitude: layer "prune_low_magnitude_d" holds the pruning step -7, but a step is -1 (never ' +
        'trained) or >= 0; the saved model is corrupt.'));
  });

  it('a mask value other than 0 and 1 fails the next fit with a PruningError', async () => {
    const loaded = await savedWith((v) => v.set('prune_low_magnitude_d/mask', Float32Array.of(1, 0.5, 1, 1)));
    await expect(fitBatches(loaded, [2], [2], 1, [new UpdatePruningStep()])).rejects.toThrow(new PruningError(
        'PruneLowMagnitude: the mask of weight "prune_low_magnitude_d/kernel" holds 0.5 at flat index 1, but a mask ' +
        'holds only 0 and 1; the saved model is corrupt.'));
  });
});

describe('training sessions', () => {
  it('fitDataset trains with the callback and fails without it, like fit', async () => {
    const pruned = await compiledPruned(denseWith([[1, 2], [3, 4]]));
    const data = () => tfd.array([0, 1, 2, 3].map((i) => ({xs: tf.tensor1d([i, 1]), ys: tf.tensor1d([1, i])}))).batch(2);
    await pruned.fitDataset(data(), {epochs: 1, verbose: 0, callbacks: [new UpdatePruningStep()]});
    expect(wrapperOf(pruned).pruningStep).toBe(2);
    await expect(pruned.fitDataset(data(), {epochs: 1, verbose: 0})).rejects.toThrow(PruningError);
  });

  it('a custom loop that ended with onTrainEnd can start again; one that did not is refused', async () => {
    const pruned = await compiledPruned(denseWith([[1, 2], [3, 4]]));
    const first = new UpdatePruningStep();
    first.setModel(pruned);
    await first.onTrainBegin();
    await first.onBatchBegin(0);
    const second = new UpdatePruningStep();
    second.setModel(pruned);
    await expect(second.onTrainBegin()).rejects.toThrow('custom training loop did not call onTrainEnd()');
    await first.onTrainEnd();
    await second.onTrainBegin();
    await second.onBatchBegin(0);
    await second.onTrainEnd();
    expect(wrapperOf(pruned).pruningStep).toBe(2);
  });
});
