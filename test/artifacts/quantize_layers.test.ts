// quantizeArtifacts on a layers model's artifacts (what model.save writes), and on bad input.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {loadQuantizedLayersModel, quantizeArtifacts, quantizeDynamicRange} from '../../src';
import {saveToMemory} from '../../src/io/gzipped_size';
import {layersRunner, loadHumanModel, outputsOn, randomInput, relativeError, smallCnn} from './fixtures';

describe('layers models', () => {
  it('writes the same weights as quantizeDynamicRange writes from the model itself', async () => {
    const model = smallCnn();
    const saved = await saveToMemory(model);
    for (const options of [{}, {perChannel: true}, {dtype: 'uint8' as const}, {dtype: 'float16' as const}]) {
      const fromModel = await quantizeDynamicRange(model, options);
      const fromArtifacts = await quantizeArtifacts(saved, options);
      expect(fromArtifacts.weightSpecs).toEqual(fromModel.weightSpecs);
      expect(new Uint8Array(fromArtifacts.weightData as ArrayBuffer))
          .toEqual(new Uint8Array(fromModel.weightData as ArrayBuffer));
    }
    model.dispose();
  });

  it('loads int8 per tensor with stock tf.loadLayersModel (within 2%) and per channel with loadQuantizedLayersModel (1%)',
      async () => {
        const model = smallCnn();
        const saved = await saveToMemory(model);
        const x = randomInput([4, 12, 12, 3]);
        const expected = outputsOn(layersRunner(model), x);
        const perTensor = await tfl.loadLayersModel(tf.io.fromMemory(await quantizeArtifacts(saved)));
        const perChannel = await loadQuantizedLayersModel(await quantizeArtifacts(saved, {perChannel: true}));
        expect(relativeError(expected, outputsOn(layersRunner(perTensor), x))).toBeLessThan(0.02);
        expect(relativeError(expected, outputsOn(layersRunner(perChannel), x))).toBeLessThan(0.01);
        for (const m of [model, perTensor, perChannel]) m.dispose();
        x.dispose();
      });
});

describe('bad input', () => {
  it('rejects artifacts that are neither format', async () => {
    await expect(quantizeArtifacts({modelTopology: {foo: 1}})).rejects.toThrow(
        "quantizeArtifacts: the artifacts' modelTopology is neither a layers model's topology (with 'class_name' or " +
        "'model_config') nor a graph model's GraphDef (with a 'node' array).");
    await expect(quantizeArtifacts(null as unknown as tf.io.ModelArtifacts)).rejects.toThrow(
        "quantizeArtifacts: 'artifacts' must be tf.io.ModelArtifacts, but got null.");
    await expect(quantizeArtifacts({modelTopology: new ArrayBuffer(8)})).rejects.toThrow(
        "quantizeArtifacts: the artifacts' modelTopology must be a JSON object (a layers model's topology or a graph " +
        "model's GraphDef), but got an instance of ArrayBuffer.");
  });

  it('rejects weight data shorter than the manifest, naming the weight', async () => {
    const original = loadHumanModel('liveness');
    const truncated = {...original, weightData: (original.weightData as ArrayBuffer).slice(0, 1000)};
    await expect(quantizeArtifacts(truncated)).rejects.toThrow(
        "quantizeArtifacts: the weight data ends before weight 'StatefulPartitionedCall/sequential_1/conv2d_1/Conv2D/" +
        "ReadVariableOp' (1000 bytes, the manifest needs at least 1728).");
  });

  it('rejects unknown options and options out of range', async () => {
    const original = loadHumanModel('liveness');
    await expect(quantizeArtifacts(original, {bits: 8} as never)).rejects.toThrow(
        "quantizeArtifacts: unknown option 'bits' (received 8); the options are dtype, perChannel, minElements, " +
        'exclude, calibration, onProgress, onFloat16Fallback.');
    await expect(quantizeArtifacts(original, {dtype: 'int4' as never})).rejects.toThrow(
        "quantizeArtifacts: 'dtype' must be one of 'int8', 'uint8', 'uint16', 'float16', but got \"int4\".");
    await expect(quantizeArtifacts(original, {dtype: 'float16', perChannel: true})).rejects.toThrow(
        "quantizeArtifacts: 'perChannel' cannot be true with dtype 'float16' (float16 has no scale to choose per " +
        'channel), but got perChannel true.');
    await expect(quantizeArtifacts(original, {minElements: -1})).rejects.toThrow(
        "quantizeArtifacts: 'minElements' must be >= 0, but got -1.");
  });

  it('rejects a weight to quantize that holds NaN, naming it', async () => {
    const original = loadHumanModel('liveness');
    const data = new Float32Array((original.weightData as ArrayBuffer).slice(0));
    // conv2d_2's filter starts after conv2d_1's filter (432 floats) and bias (16).
    data[432 + 16 + 5] = NaN;
    await expect(quantizeArtifacts({...original, weightData: data.buffer})).rejects.toThrow(
        "quantizeArtifacts: weight 'StatefulPartitionedCall/sequential_1/conv2d_2/Conv2D/ReadVariableOp' holds NaN " +
        'or an infinite value; only finite weights can be quantized.');
  });
});
