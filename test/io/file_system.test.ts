import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {fileSystem} from '../../src/io/file_system';
import {saveToMemory} from '../../src/io/gzipped_size';
import {loadQuantizedLayersModel} from '../../src/quantization/load';
import {quantizeDynamicRange} from '../../src/quantization/quantize';
import {pruneKernels, seedCnn, setGaussianWeights, weightValues} from '../quantization/fixtures';

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tfmot-fs-'));
});
afterEach(() => fs.rmSync(tmp, {recursive: true, force: true}));

function bytes(data: tf.io.WeightData | undefined): Uint8Array {
  return new Uint8Array(Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data!);
}

/** The weights file the folder's model.json lists (fileSystem names it weights.<16 hex digits>.bin). */
function listedWeights(dir: string): string {
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  return path.join(dir, json.weightsManifest[0].paths[0]);
}

function smallModel(seed = 41): tfl.Sequential {
  const model = tfl.sequential({
    layers: [tfl.layers.dense({units: 48, inputShape: [40], activation: 'relu'}), tfl.layers.dense({units: 3})],
  });
  setGaussianWeights(model, seed);
  return model;
}

describe('fileSystem(dir)', () => {
  it('writes model.json and one weights.<id>.bin it lists, creating missing directories', async () => {
    const model = smallModel();
    const dir = path.join(tmp, 'a', 'b', 'c');
    const result = await model.save(fileSystem(dir));
    const files = fs.readdirSync(dir).sort();
    expect(files).toEqual(['model.json', expect.stringMatching(/^weights\.[0-9a-f]{16}\.bin$/)]);
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
    expect(Object.keys(json)).toEqual(['modelTopology', 'format', 'generatedBy', 'convertedBy', 'weightsManifest']);
    expect(json.format).toBe('layers-model');
    expect(json.convertedBy).toBeNull();
    expect(json.weightsManifest).toEqual([{paths: [files[1]], weights: (await saveToMemory(model)).weightSpecs}]);
    expect(fs.statSync(path.join(dir, files[1])).size).toBe((40 * 48 + 48 + 48 * 3 + 3) * 4);
    expect(result.modelArtifactsInfo.weightDataBytes).toBe((40 * 48 + 48 + 48 * 3 + 3) * 4);
    model.dispose();
  });

  it('round-trips quantized and pruned models exactly (weight bytes and topology)', async () => {
    const model = seedCnn(42);
    pruneKernels(model, 0.7);
    for (const artifacts of [
      await saveToMemory(model),
      await quantizeDynamicRange(model),
      await quantizeDynamicRange(model, {perChannel: true, dtype: 'uint16'}),
      await quantizeDynamicRange(model, {dtype: 'float16'}),
    ]) {
      const handler = fileSystem(tmp);
      await handler.save(artifacts);
      const loaded = await handler.load();
      expect(loaded.modelTopology).toEqual(artifacts.modelTopology);
      expect(loaded.weightSpecs).toEqual(artifacts.weightSpecs);
      // Buffer.equals: jest's toEqual walks large typed arrays element by element (seconds per MB).
      expect(Buffer.from(bytes(loaded.weightData)).equals(bytes(artifacts.weightData))).toBe(true);
      expect(loaded.convertedBy).toEqual(artifacts.convertedBy);
      // The previous model's weights file is gone: only the current one remains.
      expect(fs.readdirSync(tmp).sort()).toEqual(['model.json', path.basename(listedWeights(tmp))]);
    }
    model.dispose();
  });

  it('round-trips a string weight stored before per-channel weights', async () => {
    const model = smallModel(47);
    const artifacts = await quantizeDynamicRange(model, {perChannel: true, minElements: 0});
    const vocabulary = tf.tensor(['a', 'bé', 'cdef']);
    const strings = await tf.io.encodeWeights([{name: 'vocabulary', tensor: vocabulary}]);
    const withStrings = {
      ...artifacts,
      weightSpecs: [...strings.specs, ...artifacts.weightSpecs!],
      weightData: tf.io.concatenateArrayBuffers([strings.data as ArrayBuffer, artifacts.weightData as ArrayBuffer]),
    };
    await fileSystem(tmp).save(withStrings);
    const loaded = await fileSystem(tmp).load();
    expect(loaded.weightSpecs).toEqual(withStrings.weightSpecs);
    expect(Buffer.from(bytes(loaded.weightData)).equals(bytes(withStrings.weightData))).toBe(true);
    const restored = await loadQuantizedLayersModel(fileSystem(tmp), {strict: false});
    expect([...weightValues(restored).keys()]).toEqual([...weightValues(model).keys()]);
    for (const disposable of [vocabulary, model, restored]) disposable.dispose();
  });

  it('works with model.save, tf.loadLayersModel and loadQuantizedLayersModel', async () => {
    const model = smallModel(43);
    await model.save(fileSystem(path.join(tmp, 'float')));
    const restored = await tfl.loadLayersModel(fileSystem(path.join(tmp, 'float')));
    expect(weightValues(restored)).toEqual(weightValues(model));
    await fileSystem(path.join(tmp, 'int8')).save(await quantizeDynamicRange(model, {minElements: 0, perChannel: true}));
    const quantized = await loadQuantizedLayersModel(fileSystem(path.join(tmp, 'int8')));
    expect([...weightValues(quantized).keys()]).toEqual([...weightValues(model).keys()]);
    for (const m of [model, restored, quantized]) m.dispose();
  });

  it('keeps the training configuration and user-defined metadata', async () => {
    const model = smallModel(44);
    model.compile({optimizer: tf.train.adam(0.01), loss: 'meanSquaredError', metrics: ['mse']});
    model.setUserDefinedMetadata({labels: ['a', 'b', 'c']});
    await model.save(fileSystem(tmp), {includeOptimizer: true});
    const json = JSON.parse(fs.readFileSync(path.join(tmp, 'model.json'), 'utf8'));
    expect(Object.keys(json)).toEqual(expect.arrayContaining(['trainingConfig', 'userDefinedMetadata']));
    const restored = await tfl.loadLayersModel(fileSystem(tmp));
    expect(restored.getUserDefinedMetadata()).toEqual({labels: ['a', 'b', 'c']});
    expect(restored.optimizer).toBeDefined();
    model.dispose();
    restored.dispose();
  });

  it('reads weights sharded over several files, as the converter writes them', async () => {
    const model = smallModel(45);
    const artifacts = await saveToMemory(model);
    const data = bytes(artifacts.weightData);
    fs.writeFileSync(path.join(tmp, 'group1-shard1of2.bin'), data.subarray(0, 1000));
    fs.writeFileSync(path.join(tmp, 'group1-shard2of2.bin'), data.subarray(1000));
    fs.writeFileSync(path.join(tmp, 'model.json'), JSON.stringify({
      modelTopology: artifacts.modelTopology, format: 'layers-model',
      weightsManifest: [{paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: artifacts.weightSpecs}],
    }));
    const loaded = await fileSystem(tmp).load();
    expect(bytes(loaded.weightData)).toEqual(data);
    model.dispose();
  });

  describe('errors name the path', () => {
    let model: tfl.Sequential;
    beforeAll(() => {
      model = smallModel(46);
    });
    afterAll(() => model.dispose());

    it('for a missing model.json', async () => {
      await expect(fileSystem(tmp).load()).rejects.toThrow(`fileSystem: no model.json at ${path.join(tmp, 'model.json')}.`);
    });

    it('for a model.json that is not JSON', async () => {
      fs.writeFileSync(path.join(tmp, 'model.json'), '{"modelTopology": ');
      await expect(fileSystem(tmp).load()).rejects.toThrow(
          new RegExp(`^fileSystem: ${escape(path.join(tmp, 'model.json'))} is not valid JSON \\(.+\\)\\.$`));
    });

    it('for a JSON file that is not a model', async () => {
      fs.writeFileSync(path.join(tmp, 'model.json'), '{"weights": []}');
      await expect(fileSystem(tmp).load()).rejects.toThrow(
          `fileSystem: ${path.join(tmp, 'model.json')} has no 'modelTopology'; it is not a model.json file.`);
    });

    it('for a missing weights file', async () => {
      await model.save(fileSystem(tmp));
      const weights = listedWeights(tmp);
      fs.rmSync(weights);
      await expect(fileSystem(tmp).load()).rejects.toThrow(`fileSystem: the weights file ${weights} ` +
          `listed in ${path.join(tmp, 'model.json')} is missing.`);
    });

    it('for a truncated weights file', async () => {
      await model.save(fileSystem(tmp));
      const weights = listedWeights(tmp);
      fs.truncateSync(weights, 100);
      await expect(fileSystem(tmp).load()).rejects.toThrow(`fileSystem: ${weights} is corrupt: ` +
          `${path.join(tmp, 'model.json')} lists ${(40 * 48 + 48 + 48 * 3 + 3) * 4} bytes of weights, but the file holds 100.`);
    });

    it('for a weight path outside the directory', async () => {
      fs.writeFileSync(path.join(tmp, 'model.json'), JSON.stringify({
        modelTopology: {}, weightsManifest: [{paths: ['../secret.bin'], weights: []}],
      }));
      await expect(fileSystem(tmp).load()).rejects.toThrow(`fileSystem: ${path.join(tmp, 'model.json')} has a malformed ` +
          `'weightsManifest' (weight path "../secret.bin" points outside ${tmp}).`);
    });

    it('for a directory that cannot be created', async () => {
      fs.writeFileSync(path.join(tmp, 'file'), '');
      await expect(model.save(fileSystem(path.join(tmp, 'file', 'sub')))).rejects.toThrow(
          `fileSystem: cannot save the model to ${path.join(tmp, 'file', 'sub')}: `);
    });

    it('for a bad directory argument', () => {
      expect(() => fileSystem('')).toThrow(new TypeError("fileSystem: 'dir' must be a non-empty string, but got \"\"."));
      expect(() => fileSystem(3 as never)).toThrow(new TypeError("fileSystem: 'dir' must be a non-empty string, but got 3."));
    });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
