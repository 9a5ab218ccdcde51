import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {saveToMemory} from '../../src/io/gzipped_size';
import {loadQuantizedLayersModel} from '../../src/quantization/load';
import {quantizeDynamicRange} from '../../src/quantization/quantize';
import {setGaussianWeights, weightValues} from './fixtures';

function mlp(seed: number): tfl.Sequential {
  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({units: 64, inputShape: [32], activation: 'relu'}),
      tfl.layers.dense({units: 32}),
    ],
  });
  setGaussianWeights(model, seed);
  return model;
}

function predict(model: tfl.LayersModel): Float32Array {
  return tf.tidy(() => (model.predict(tf.reshape(tf.linspace(-1, 1, 64), [2, 32])) as tf.Tensor).dataSync() as Float32Array);
}

describe('loadQuantizedLayersModel', () => {
  it('loads per-channel artifacts from an IOHandler or from the artifacts themselves, predicting like the original', async () => {
    const model = mlp(31);
    const artifacts = await quantizeDynamicRange(model, {perChannel: true});
    const fromHandler = await loadQuantizedLayersModel(tf.io.fromMemory(artifacts));
    const fromArtifacts = await loadQuantizedLayersModel(artifacts);
    expect(weightValues(fromArtifacts)).toEqual(weightValues(fromHandler));
    const expected = predict(model);
    predict(fromHandler).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 1));
    for (const m of [model, fromHandler, fromArtifacts]) m.dispose();
  });

  it('loads ordinary float32 and per-tensor artifacts exactly as tf.loadLayersModel does', async () => {
    const model = mlp(32);
    for (const artifacts of [await saveToMemory(model), await quantizeDynamicRange(model, {dtype: 'float16'})]) {
      const ours = await loadQuantizedLayersModel(tf.io.fromMemory(artifacts));
      const stock = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
      expect(weightValues(ours)).toEqual(weightValues(stock));
      ours.dispose();
      stock.dispose();
    }
    model.dispose();
  });

  it('accepts sharded weight data', async () => {
    const model = mlp(33);
    const artifacts = await quantizeDynamicRange(model, {perChannel: true});
    const data = artifacts.weightData as ArrayBuffer;
    const sharded = {...artifacts, weightData: [data.slice(0, 1001), data.slice(1001)]};
    const restored = await loadQuantizedLayersModel(sharded);
    expect(weightValues(restored)).toEqual(weightValues(await loadQuantizedLayersModel(artifacts)));
    restored.dispose();
    model.dispose();
  });

  it('rejects a malformed per-channel entry, naming the weight', async () => {
    const model = mlp(34);
    const artifacts = await quantizeDynamicRange(model, {perChannel: true});
    const specs = structuredClone(artifacts.weightSpecs!);
    (specs[0].quantization as unknown as {scale: number[]}).scale.pop();
    await expect(loadQuantizedLayersModel({...artifacts, weightSpecs: specs})).rejects.toThrow(
        `loadQuantizedLayersModel: weight '${specs[0].name}' has a malformed per-channel quantization ` +
        '(axis 1 of shape [32, 64] needs one scale and one zero point per channel).');
    model.dispose();
  });

  it('rejects truncated weight data', async () => {
    const model = mlp(35);
    const artifacts = await quantizeDynamicRange(model, {perChannel: true});
    const data = (artifacts.weightData as ArrayBuffer).slice(0, 100);
    await expect(loadQuantizedLayersModel({...artifacts, weightData: data})).rejects.toThrow(
        `loadQuantizedLayersModel: the weight data ends before weight '${artifacts.weightSpecs![0].name}' ` +
        '(100 bytes, the manifest needs at least 2048).');
    model.dispose();
  });

  describe('with a string weight before per-channel weights (4-byte length and bytes per string)', () => {
    let model: tfl.Sequential;
    let artifacts: tf.io.ModelArtifacts;
    let strings: tf.io.ModelArtifacts;
    beforeAll(async () => {
      model = mlp(36);
      artifacts = await quantizeDynamicRange(model, {perChannel: true});
      const vocabulary = tf.tensor(['a', 'bé', 'cdef']);
      const encoded = await tf.io.encodeWeights([{name: 'vocabulary', tensor: vocabulary}]);
      vocabulary.dispose();
      strings = {weightSpecs: encoded.specs, weightData: encoded.data};
    });
    afterAll(() => model.dispose());

    /** The string weight (20 bytes) first, then the model's weights (4480 bytes), then `extra` zero bytes. */
    function withStrings(shape: number[], extra = 0): tf.io.ModelArtifacts {
      return {
        ...artifacts,
        weightSpecs: [{...strings.weightSpecs![0], shape}, ...artifacts.weightSpecs!],
        weightData: tf.io.concatenateArrayBuffers(
            [strings.weightData as ArrayBuffer, artifacts.weightData as ArrayBuffer, new ArrayBuffer(extra)]),
      };
    }

    it('loads the per-channel weights at the offsets after the strings', async () => {
      const restored = await loadQuantizedLayersModel(withStrings([3]), {strict: false});
      const expected = await loadQuantizedLayersModel(artifacts);
      expect(weightValues(restored)).toEqual(weightValues(expected));
      restored.dispose();
      expected.dispose();
    });

    it('rejects strings that run past the data with a clear error, not a DataView RangeError', async () => {
      // Four strings declared, three stored: the fourth length prefix is read from the per-channel codes.
      await expect(loadQuantizedLayersModel({...withStrings([4]), weightData: strings.weightData})).rejects.toThrow(
          new Error("loadQuantizedLayersModel: the weight data ends before weight 'vocabulary' (20 bytes, the manifest " +
          'needs at least 24).'));
    });

    it('rejects weight data longer than the strings and the weights it lists', async () => {
      await expect(loadQuantizedLayersModel(withStrings([3], 8))).rejects.toThrow(
          'loadQuantizedLayersModel: the weight data holds 4508 bytes, but the manifest lists 4500; the weights do not ' +
          'belong to this model.');
    });
  });

  it('rejects a source that is neither a URL, an IOHandler nor artifacts', async () => {
    await expect(loadQuantizedLayersModel(42 as never)).rejects.toThrow(new TypeError(
        "loadQuantizedLayersModel: 'source' must be a URL, an IOHandler with a load() method, or model artifacts, " +
        'but got 42.'));
    await expect(loadQuantizedLayersModel('nowhere://model.json')).rejects.toThrow(
        'loadQuantizedLayersModel: found 0 load handlers for URL "nowhere://model.json" (need exactly one); ' +
        'pass an IOHandler instead.');
  });
});
