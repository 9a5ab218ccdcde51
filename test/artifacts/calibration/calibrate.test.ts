// quantizeArtifacts with `calibration` (src/artifacts/calibration/): GPTQ rounding on calibration inputs,
// for layers and graph models, against round-to-nearest on held-out inputs; same grid and format; zeros
// kept; the option's checks.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {loadQuantizedGraphModel, loadQuantizedLayersModel, pruneArtifacts, quantizeArtifacts} from '../../../src';
import {MAX_CALIBRATED_INPUTS} from '../../../src/artifacts/calibration/calibrate';
import {decodeFloat32, readWeightEntries} from '../../../src/artifacts/weight_values';
import {decodedWeights, graphRunner, inputShape, layersRunner, loadHumanModel, outputsOn, randomInput, relativeError,
  smallCnnArtifacts, tfconv} from '../fixtures';

const scales = (a: tf.io.ModelArtifacts) => a.weightSpecs!.map((s) => JSON.stringify(s.quantization ?? null));

describe('a layers model (convolutions, a depthwise convolution, Dense)', () => {
  let original: tf.io.ModelArtifacts;
  let inputs: tf.Tensor[];
  beforeAll(async () => {
    original = await smallCnnArtifacts();
    inputs = [1, 2, 3, 4].map((seed) => randomInput([16, 12, 12, 3], 100 + seed));
  });
  afterAll(() => tf.dispose(inputs));

  it('moves the outputs on held-out inputs less than rounding to nearest, with the same scales', async () => {
    const before = tf.memory().numTensors;
    const rtn = await quantizeArtifacts(original, {perChannel: true, minElements: 0});
    const calibrated = await quantizeArtifacts(original, {perChannel: true, minElements: 0, calibration: {inputs}});
    expect(tf.memory().numTensors).toBe(before);
    expect(inputs.every((t) => !t.isDisposed)).toBe(true);
    expect(scales(calibrated)).toEqual(scales(rtn));
    expect(calibrated.convertedBy).toBe('tfjs-model-optimization quantizeArtifacts (int8, per channel, GPTQ-calibrated)');
    const reference = await loadQuantizedLayersModel(original);
    const a = await loadQuantizedLayersModel(rtn);
    const b = await loadQuantizedLayersModel(calibrated);
    const errors = [7, 8].map((seed) => {
      const x = randomInput([16, 12, 12, 3], seed);
      const expected = outputsOn(layersRunner(reference), x);
      const result = [relativeError(expected, outputsOn(layersRunner(a), x)),
        relativeError(expected, outputsOn(layersRunner(b), x))];
      x.dispose();
      return result;
    });
    for (const [nearest, gptq] of errors) expect(gptq).toBeLessThan(0.8 * nearest);
    // Every quantized kernel changed rounding somewhere, and only the rounding: each value is within one
    // step of the original.
    const values = (a: tf.io.ModelArtifacts) => readWeightEntries('test', a).map(decodeFloat32);
    const [w0, w1, w2] = [original, rtn, calibrated].map(values);
    const kernels = original.weightSpecs!.map((s, i) => [s.name, i] as const).filter(([name]) => name.endsWith('kernel'));
    expect(kernels.length).toBe(5);
    for (const [name, i] of kernels) {
      expect([name, Array.from(w2[i])]).not.toEqual([name, Array.from(w1[i])]);
      // On the same grid as round-to-nearest, at most a few steps from the original values.
      const step = Math.max(...Array.from(w1[i], Math.abs)) / 127;
      w2[i].forEach((v, k) => expect(Math.abs(v - w0[i][k])).toBeLessThan(8 * step));
    }
    for (const m of [reference, a, b]) m.dispose();
  });

  it('calibrates the kernels of a nested model too', async () => {
    const inner = tfl.sequential({name: 'base', layers: [
      tfl.layers.conv2d({inputShape: [12, 12, 3], filters: 8, kernelSize: 3, activation: 'relu'}),
      tfl.layers.depthwiseConv2d({kernelSize: 3, activation: 'relu'}),
    ]});
    const outer = tfl.sequential({layers: [inner, tfl.layers.flatten(), tfl.layers.dense({units: 5})]});
    let saved!: tf.io.ModelArtifacts;
    await outer.save(tf.io.withSaveHandler(async (a) => {
      saved = a;
      return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
    }));
    outer.dispose();
    const rtn = await quantizeArtifacts(saved, {perChannel: true, minElements: 0});
    const calibrated = await quantizeArtifacts(saved, {perChannel: true, minElements: 0, calibration: {inputs}});
    const values = (a: tf.io.ModelArtifacts) => readWeightEntries('test', a).map(decodeFloat32);
    const [w1, w2] = [rtn, calibrated].map(values);
    const kernels = saved.weightSpecs!.map((s, i) => [s.name, i] as const).filter(([name]) => name.endsWith('kernel'));
    expect(kernels.length).toBe(3);
    for (const [name, i] of kernels) expect([name, Array.from(w2[i])]).not.toEqual([name, Array.from(w1[i])]);
  });

  it('per tensor, writes what the stock loader reads, on the same grid', async () => {
    const rtn = await quantizeArtifacts(original, {minElements: 0});
    const calibrated = await quantizeArtifacts(original, {minElements: 0, calibration: {inputs: inputs.slice(0, 2)}});
    expect(scales(calibrated)).toEqual(scales(rtn));
    const model = await tfl.loadLayersModel(tf.io.fromMemory(calibrated));
    const x = randomInput([2, 12, 12, 3], 9);
    const y = model.predict(x) as tf.Tensor;
    expect(y.shape).toEqual([2, 10]);
    expect(Array.from(y.dataSync()).every(Number.isFinite)).toBe(true);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('keeps the zeros of a pruned model', async () => {
    const pruned = await pruneArtifacts(original, {sparsity: 0.6});
    const calibrated = await quantizeArtifacts(pruned, {minElements: 0, calibration: {inputs: inputs.slice(0, 1)}});
    const before = decodedWeights(pruned);
    const after = decodedWeights(calibrated);
    let zeros = 0;
    for (const [name, values] of Object.entries(before)) {
      values.forEach((v, i) => {
        if (v === 0) {
          zeros++;
          expect(after[name][i]).toBe(0);
        }
      });
    }
    expect(zeros).toBeGreaterThan(1000);
  });
});

it('calibrates a converter-produced graph model per channel: outputs move less than rounding to nearest', async () => {
  const original = loadHumanModel('liveness');
  const reference = await tfconv.loadGraphModel(tf.io.fromMemory(original));
  const shape = inputShape(reference, 8);
  const inputs = [1, 2, 3, 4].map((seed) => randomInput(shape, 1000 + seed));
  const steps: number[] = [];
  const rtn = await quantizeArtifacts(original, {perChannel: true});
  const calibrated = await quantizeArtifacts(original, {perChannel: true, calibration: {inputs},
    onProgress: (done, total) => steps.push(done, total)});
  expect(scales(calibrated)).toEqual(scales(rtn));
  // One step per weight, per batch and per calibrated kernel, ending at the total.
  expect(steps[steps.length - 2]).toBe(steps[steps.length - 1]);
  expect(steps[steps.length - 1]).toBe(original.weightSpecs!.length + 4 + 4);
  const a = await loadQuantizedGraphModel(rtn);
  const b = await loadQuantizedGraphModel(calibrated);
  // The summed square of the output errors over held-out batches (the largest error of a batch
  // hangs on its one sample nearest the decision boundary: a noisier measure).
  const squares = [0, 0];
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const x = randomInput(shape, seed);
    const [expected] = outputsOn(graphRunner(reference), x);
    [a, b].forEach((model, k) => {
      const [actual] = outputsOn(graphRunner(model), x);
      expected.forEach((v, i) => squares[k] += (v - actual[i]) ** 2);
    });
    x.dispose();
  }
  expect(squares[1]).toBeLessThan(0.5 * squares[0]);
  tf.dispose(inputs);
  for (const m of [reference, a, b]) m.dispose();
}, 120000);

describe('the calibration option', () => {
  let original: tf.io.ModelArtifacts;
  beforeAll(async () => {
    original = await smallCnnArtifacts();
  });
  const x = () => tf.zeros([1, 12, 12, 3]);

  it('names what is wrong with it', async () => {
    const t = x();
    await expect(quantizeArtifacts(original, {dtype: 'uint8', calibration: {inputs: [t]}})).rejects.toThrow(
        'quantizeArtifacts: \'calibration\' chooses how int8 codes round; it needs dtype \'int8\', but got "uint8".');
    await expect(quantizeArtifacts(original, {calibration: {inputs: []}})).rejects.toThrow(
        'quantizeArtifacts: \'calibration.inputs\' must hold at least one batch, but got none.');
    await expect(quantizeArtifacts(original, {calibration: {inputs: t} as never})).rejects.toThrow(
        'quantizeArtifacts: \'calibration.inputs\' must be an array of batches, but got an instance of Tensor.');
    await expect(quantizeArtifacts(original, {calibration: {inputs: [t], batches: 3} as never})).rejects.toThrow(
        'quantizeArtifacts: unknown calibration key \'batches\' (received 3); the calibration keys are inputs.');
    await expect(quantizeArtifacts(original, {calibration: {inputs: [t, 'cat']} as never})).rejects.toThrow(
        'quantizeArtifacts: \'calibration.inputs[1]\' must be a tensor, an array of tensors or a map from input name ' +
        'to tensor, but got "cat".');
    await expect(quantizeArtifacts(original, {calibration: {inputs: [[t, 5]]} as never})).rejects.toThrow(
        'quantizeArtifacts: \'calibration.inputs[0][1]\' must be a tensor, but got 5.');
    const gone = x();
    gone.dispose();
    await expect(quantizeArtifacts(original, {calibration: {inputs: [t, gone]}})).rejects.toThrow(
        'quantizeArtifacts: \'calibration.inputs[1]\' is a disposed tensor.');
    t.dispose();
  });

  it('rounds to nearest where the inputs hold NaN or infinities', async () => {
    const rtn = await quantizeArtifacts(original);
    for (const bad of [NaN, Infinity]) {
      const input = tf.fill([2, 12, 12, 3], bad);
      const calibrated = await quantizeArtifacts(original, {calibration: {inputs: [input]}});
      expect(calibrated.weightSpecs).toEqual(rtn.weightSpecs);
      expect(new Uint8Array(calibrated.weightData as ArrayBuffer)).toEqual(new Uint8Array(rtn.weightData as ArrayBuffer));
      input.dispose();
    }
  });

  it('rounds to nearest a kernel of more inputs than MAX_CALIBRATED_INPUTS', async () => {
    const wide = tfl.sequential({layers: [tfl.layers.dense({inputShape: [MAX_CALIBRATED_INPUTS + 1], units: 3})]});
    let saved!: tf.io.ModelArtifacts;
    await wide.save(tf.io.withSaveHandler(async (a) => {
      saved = a;
      return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
    }));
    wide.dispose();
    const input = tf.randomUniform([4, MAX_CALIBRATED_INPUTS + 1], 0, 1, 'float32', 5);
    const calibrated = await quantizeArtifacts(saved, {calibration: {inputs: [input]}});
    const rtn = await quantizeArtifacts(saved);
    expect(new Uint8Array(calibrated.weightData as ArrayBuffer)).toEqual(new Uint8Array(rtn.weightData as ArrayBuffer));
    input.dispose();
  });

  it('says which batch the model cannot run on, and leaks nothing', async () => {
    const good = x();
    const bad = tf.zeros([1, 12, 12, 4]);
    const before = tf.memory().numTensors;
    await expect(quantizeArtifacts(original, {calibration: {inputs: [good, bad]}})).rejects.toThrow(
        /^quantizeArtifacts: the model cannot run on calibration.inputs\[1\]: /);
    expect(tf.memory().numTensors).toBe(before);
    expect(good.isDisposed || bad.isDisposed).toBe(false);
    tf.dispose([good, bad]);
  });
});
