import {execFileSync} from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {fileSystem} from '../../src/io/file_system';
import {loadQuantizedLayersModel} from '../../src/quantization/load';
import {quantizeDynamicRange} from '../../src/quantization/quantize';
import {
  countZeros,
  decodeStock,
  gaussians,
  pruneKernels,
  seedCnn,
  setGaussianWeights,
  weightValues,
} from './fixtures';

type Spec = tf.io.WeightsManifestEntry;
const root = path.resolve(__dirname, '../..');

function specOf(artifacts: tf.io.ModelArtifacts, name: string): Spec {
  const spec = artifacts.weightSpecs!.find((s) => s.name === name);
  if (spec === undefined) throw new Error(`no weight ${name} in ${artifacts.weightSpecs!.map((s) => s.name)}`);
  return spec;
}

/** The bytes of one weight inside the artifacts' weight data. */
function bytesOf(artifacts: tf.io.ModelArtifacts, name: string): Uint8Array {
  let offset = 0;
  for (const spec of artifacts.weightSpecs!) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const size = n * (spec.quantization ? (spec.quantization.dtype === 'uint8' ? 1 : 2) : 4);
    if (spec.name === name) return new Uint8Array(artifacts.weightData as ArrayBuffer, offset, size);
    offset += size;
  }
  throw new Error(`no weight ${name}`);
}

function dense(inputs: number, units: number, seed = 1): tfl.Sequential {
  const model = tfl.sequential({layers: [tfl.layers.dense({units, inputShape: [inputs]})]});
  setGaussianWeights(model, seed);
  return model;
}

/** Bit-for-bit equality (jest's toEqual walks large typed arrays element by element, far slower). */
function sameBytes(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Expects every decoded value within half a step (plus float32 rounding) of the original. */
function expectWithinHalfStep(original: Float32Array, decoded: Float32Array, step: number): void {
  let worst = 0;
  for (let i = 0; i < original.length; i++) {
    const excess = Math.abs(decoded[i] - original[i]) - (step / 2 + Math.abs(original[i]) * 2 ** -23);
    worst = Math.max(worst, excess);
  }
  expect(worst).toBeLessThanOrEqual(1e-12);
}

/** A layer with weights whose role is not given by a standard layer class. */
class OddWeights extends tfl.layers.Layer {
  static className = 'QuantizeTestOddWeights';
  override build(): void {
    const float = (name: string) => this.addWeight(name, [2048], 'float32', tfl.initializers.ones());
    // A bias by role (the layer's `bias` variable), not by name.
    (this as unknown as {bias: tfl.LayerVariable}).bias = float('offset');
    // A bias by name only.
    float('bias');
    float('gain');
    this.addWeight('counter', [2048], 'int32', tfl.initializers.zeros(), undefined, false);
    this.built = true;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return Array.isArray(inputs) ? inputs[0] : inputs;
  }
}
tf.serialization.registerClass(OddWeights);

/** A layer with a trainable 3-element bool weight: the weights after it start at an odd byte offset. */
class OddBytes extends tfl.layers.Layer {
  static className = 'QuantizeTestOddBytes';
  override build(): void {
    this.addWeight('flags', [3], 'bool', tfl.initializers.zeros(), undefined, true);
    this.built = true;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return Array.isArray(inputs) ? inputs[0] : inputs;
  }
}
tf.serialization.registerClass(OddBytes);

describe('quantizeDynamicRange, default int8 mode (TFLite\'s scheme)', () => {
  it('stores a 1024-element kernel as uint8 codes with scale max|w|/127, zero point 128', async () => {
    const model = dense(64, 16);
    const kernel = weightValues(model).get(model.weights[0].originalName)!;
    const artifacts = await quantizeDynamicRange(model);
    const spec = specOf(artifacts, model.weights[0].originalName);
    const maxAbs = kernel.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(spec.dtype).toBe('float32');
    expect(spec.quantization).toEqual({dtype: 'uint8', scale: maxAbs / 127, min: -128 * (maxAbs / 127)});
    const codes = bytesOf(artifacts, spec.name);
    expect(Array.from(codes.subarray(0, 8))).toEqual(
        Array.from(kernel.subarray(0, 8), (v) => Math.sign(v) * Math.round(Math.abs(v) / (maxAbs / 127)) + 128));
    expect(Math.min(...codes)).toBeGreaterThanOrEqual(1); // narrow range [-127, 127]
    model.dispose();
  });

  it('keeps a 1023-element kernel bit-identical as float32 (exactly 1024 is quantized)', async () => {
    const model = dense(1023, 1);
    const name = model.weights[0].originalName;
    const artifacts = await quantizeDynamicRange(model);
    expect(specOf(artifacts, name).quantization).toBeUndefined();
    const original = new Uint8Array(weightValues(model).get(name)!.buffer);
    expect(bytesOf(artifacts, name)).toEqual(original);
    model.dispose();
  });

  it('keeps biases float32 even with 1024 elements or more', async () => {
    const model = dense(1, 2048);
    const artifacts = await quantizeDynamicRange(model);
    expect(specOf(artifacts, model.weights[0].originalName).quantization?.dtype).toBe('uint8');
    expect(specOf(artifacts, model.weights[1].originalName).quantization).toBeUndefined();
    model.dispose();
  });

  it('recognizes a bias by the layer\'s bias variable or by a name ending in /bias, and leaves int32 weights alone', async () => {
    const model = tfl.sequential({layers: [tfl.layers.dense({units: 4, inputShape: [4]}), new OddWeights({name: 'odd'})]});
    const counter = tf.tensor(Int32Array.from({length: 2048}, (_, i) => i * 7919), [2048], 'int32');
    const floats = [1, 2, 3].map((seed) => tf.tensor(gaussians(2048, seed)));
    model.layers[1].setWeights([...floats, counter]);
    const artifacts = await quantizeDynamicRange(model);
    expect(specOf(artifacts, 'odd/offset').quantization).toBeUndefined();
    expect(specOf(artifacts, 'odd/bias').quantization).toBeUndefined();
    expect(specOf(artifacts, 'odd/gain').quantization?.dtype).toBe('uint8');
    expect(specOf(artifacts, 'odd/counter')).toEqual({name: 'odd/counter', shape: [2048], dtype: 'int32'});
    expect(new Int32Array(bytesOf(artifacts, 'odd/counter').slice().buffer)).toEqual(counter.dataSync());
    tf.dispose([counter, ...floats]);
    model.dispose();
  });

  it('keeps every element within half a quantization step and exact zeros exactly zero (a pruned CNN)', async () => {
    const model = seedCnn(3);
    pruneKernels(model, 0.7);
    const original = weightValues(model);
    const artifacts = await quantizeDynamicRange(model);
    const decoded = decodeStock(artifacts);
    for (const spec of artifacts.weightSpecs!) {
      const before = original.get(spec.name)!;
      const after = decoded.get(spec.name)!;
      if (spec.quantization === undefined) {
        expect(after).toEqual(before);
        continue;
      }
      expectWithinHalfStep(before, after, spec.quantization.scale!);
      // Sparsity survives: the zeros are exactly the same elements.
      expect(countZeros(after)).toBe(countZeros(before));
      expect(before.every((v, i) => (v === 0) === (after[i] === 0))).toBe(true);
    }
    expect(countZeros(decoded.get(model.weights[4].originalName)!)).toBe(Math.round(1600 * 256 * 0.7)); // Dense 256
    model.dispose();
  });

  it('does not modify the input model (weights and configuration)', async () => {
    const model = seedCnn(4);
    const weights = weightValues(model);
    const json = JSON.stringify(model.toJSON(null, false));
    await quantizeDynamicRange(model, {perChannel: true});
    const after = weightValues(model);
    expect([...after.keys()]).toEqual([...weights.keys()]);
    for (const [name, values] of weights) expect(sameBytes(after.get(name)!, values)).toBe(true);
    expect(JSON.stringify(model.toJSON(null, false))).toBe(json);
    model.dispose();
  });

  it('leaks no tensors', async () => {
    const model = seedCnn(5);
    const before = tf.memory().numTensors;
    await quantizeDynamicRange(model);
    await quantizeDynamicRange(model, {dtype: 'uint16', perChannel: true});
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('writes the topology model.save writes, with no training configuration', async () => {
    const model = dense(32, 32);
    model.compile({optimizer: 'adam', loss: 'meanSquaredError'});
    model.setUserDefinedMetadata({note: 'kept'});
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => {
      saved = a;
      return {modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a)};
    }), {includeOptimizer: true});
    const artifacts = await quantizeDynamicRange(model);
    expect(artifacts.modelTopology).toEqual(saved!.modelTopology);
    expect(artifacts.weightSpecs!.map((s) => s.name)).toEqual(
        saved!.weightSpecs!.filter((s) => s.group !== 'optimizer').map((s) => s.name));
    expect(artifacts.trainingConfig).toBeUndefined();
    expect(artifacts.userDefinedMetadata).toEqual({note: 'kept'});
    expect(artifacts.format).toBe('layers-model');
    expect(artifacts.convertedBy).toBe('tfjs-model-optimization quantizeDynamicRange (int8, per tensor)');
    model.dispose();
  });

  it('loads with stock tfjs in a process that never imported this package', async () => {
    const model = seedCnn(6);
    pruneKernels(model, 0.7);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tfmot-stock-'));
    try {
      await fileSystem(dir).save(await quantizeDynamicRange(model));
      const script = `
        require('@tensorflow/tfjs-backend-cpu');
        const tf = require('@tensorflow/tfjs-core');
        const tfl = require('@tensorflow/tfjs-layers');
        const fs = require('fs');
        (async () => {
          await tf.setBackend('cpu');
          const dir = process.argv[1];
          const json = JSON.parse(fs.readFileSync(dir + '/model.json', 'utf8'));
          const bin = fs.readFileSync(dir + '/' + json.weightsManifest[0].paths[0]);
          const weightData = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength);
          const model = await tfl.loadLayersModel(tf.io.fromMemory(
              {modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData}));
          const parts = model.weights.map((w) => Buffer.from(w.read().dataSync().buffer));
          fs.writeFileSync(dir + '/decoded.bin', Buffer.concat(parts));
          const y = model.predict(tf.ones([1, 28, 28, 1]));
          console.log(JSON.stringify({names: model.weights.map((w) => w.originalName), y: Array.from(y.dataSync())}));
        })().catch((e) => { console.error(e); process.exit(1); });`;
      const out = JSON.parse(execFileSync(process.execPath, ['-e', script, dir], {cwd: root, encoding: 'utf8'}));
      const original = weightValues(model);
      expect(out.names).toEqual([...original.keys()]);
      const decoded = new Float32Array(fs.readFileSync(path.join(dir, 'decoded.bin')).buffer.slice(0));
      const expected = decodeStock(await fileSystem(dir).load());
      let offset = 0;
      for (const name of out.names as string[]) {
        const values = decoded.subarray(offset, offset + original.get(name)!.length);
        expect(sameBytes(values, expected.get(name)!)).toBe(true);
        expect(countZeros(values)).toBe(countZeros(original.get(name)!));
        offset += values.length;
      }
      const y = model.predict(tf.ones([1, 28, 28, 1])) as tf.Tensor;
      const reference = Array.from(y.dataSync());
      y.dispose();
      out.y.forEach((v: number, i: number) => expect(v).toBeCloseTo(reference[i], 2));
    } finally {
      fs.rmSync(dir, {recursive: true, force: true});
      model.dispose();
    }
  });
});

describe('quantizeDynamicRange options', () => {
  it('excludes weights by weight name, by layer name and by RegExp, without touching the caller\'s RegExp', async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({units: 64, inputShape: [32], name: 'first'}),
        tfl.layers.dense({units: 64, name: 'second'}),
        tfl.layers.dense({units: 64, name: 'third'}),
      ],
    });
    setGaussianWeights(model, 7);
    const pattern = /^th/g;
    pattern.lastIndex = 1;
    const artifacts = await quantizeDynamicRange(model, {exclude: ['first/kernel', 'second', pattern]});
    for (const name of ['first/kernel', 'second/kernel', 'third/kernel']) {
      expect(specOf(artifacts, name).quantization).toBeUndefined();
    }
    expect(pattern.lastIndex).toBe(1);
    const none = await quantizeDynamicRange(model, {exclude: ['firs', /^fourth/]});
    expect(none.weightSpecs!.filter((s) => s.quantization).length).toBe(3);
    model.dispose();
  });

  it('finds layers inside nested models and RNN cells', async () => {
    const inner = tfl.sequential({
      name: 'inner', layers: [tfl.layers.dense({units: 1024, inputShape: [2], name: 'wide'})],
    });
    const input = tfl.input({shape: [3, 2]});
    const rnn = tfl.layers.lstm({units: 256, name: 'lstm', recurrentInitializer: 'zeros'}).apply(input) as tfl.SymbolicTensor;
    const flat = tfl.layers.flatten().apply(input) as tfl.SymbolicTensor;
    const wide = inner.apply(tfl.layers.dense({units: 2}).apply(flat)) as tfl.SymbolicTensor;
    const model = tfl.model({inputs: input, outputs: [rnn, wide]});
    setGaussianWeights(model, 8);
    const artifacts = await quantizeDynamicRange(model, {exclude: ['inner']});
    const quantized = artifacts.weightSpecs!.filter((s) => s.quantization).map((s) => s.name).sort();
    // The LSTM bias (4 * 256 = 1024 elements) stays float32; the nested model's weights are excluded by its name.
    expect(quantized).toEqual(['lstm/kernel', 'lstm/recurrent_kernel']);
    model.dispose();
  });

  it('quantizes everything but biases with minElements 0', async () => {
    const model = seedCnn(9);
    const artifacts = await quantizeDynamicRange(model, {minElements: 0});
    expect(artifacts.weightSpecs!.map((s) => s.quantization !== undefined)).toEqual(
        [true, false, true, false, true, false, true, false]);
    model.dispose();
  });

  it('stores uint8 affine codes with an integer zero point (tfjs-converter\'s scheme)', async () => {
    const model = seedCnn(10);
    pruneKernels(model, 0.5);
    const artifacts = await quantizeDynamicRange(model, {dtype: 'uint8'});
    const original = weightValues(model);
    const decoded = decodeStock(artifacts);
    for (const spec of artifacts.weightSpecs!.filter((s) => s.quantization)) {
      const {dtype, scale, min} = spec.quantization!;
      expect(dtype).toBe('uint8');
      const zeroPoint = -min! / scale!;
      expect(Math.abs(zeroPoint - Math.round(zeroPoint))).toBeLessThan(1e-9);
      const before = original.get(spec.name)!;
      expectWithinHalfStep(before, decoded.get(spec.name)!, scale!);
      expect(countZeros(decoded.get(spec.name)!)).toBe(countZeros(before));
      // The full range is used: the span is 255 steps.
      const span = before.reduce((m, v) => Math.max(m, v), 0) - before.reduce((m, v) => Math.min(m, v), 0);
      expect(span / scale!).toBeCloseTo(255, 6);
    }
    model.dispose();
  });

  it('stores uint16 codes, two bytes per weight, within half a step', async () => {
    const model = dense(64, 64, 11);
    const artifacts = await quantizeDynamicRange(model, {dtype: 'uint16'});
    const spec = specOf(artifacts, model.weights[0].originalName);
    expect(spec.quantization?.dtype).toBe('uint16');
    expect((artifacts.weightData as ArrayBuffer).byteLength).toBe(64 * 64 * 2 + 64 * 4);
    expectWithinHalfStep(weightValues(model).get(spec.name)!, decodeStock(artifacts).get(spec.name)!,
        spec.quantization!.scale!);
    model.dispose();
  });

  it('writes 2-byte codes correctly at an odd byte offset (after a 3-element bool weight)', async () => {
    const model = tfl.sequential({
      layers: [new OddBytes({name: 'odd', inputShape: [64]} as never), tfl.layers.dense({units: 64})],
    });
    const values = [tf.tensor(gaussians(64 * 64, 13), [64, 64]), tf.tensor(gaussians(64, 14))];
    model.layers[1].setWeights(values);
    tf.dispose(values);
    const name = model.weights[1].originalName;
    const original = weightValues(model).get(name)!;
    for (const options of [{dtype: 'uint16'}, {dtype: 'uint16', perChannel: true}, {dtype: 'float16'}] as const) {
      const artifacts = await quantizeDynamicRange(model, options);
      expect(artifacts.weightSpecs!.map((s) => s.name)).toEqual(['odd/flags', name, model.weights[2].originalName]);
      const restored = await loadQuantizedLayersModel(artifacts);
      const decoded = weightValues(restored).get(name)!;
      restored.dispose();
      const q = specOf(artifacts, name).quantization as {scale?: number | number[]};
      let worst = -Infinity;
      original.forEach((v, i) => {
        const step = q.scale === undefined ? 0 : Array.isArray(q.scale) ? q.scale[i % 64] : q.scale;
        const allowed = Math.max(step / 2, options.dtype === 'float16' ? Math.abs(v) * 2 ** -11 : 0);
        worst = Math.max(worst, Math.abs(decoded[i] - v) - allowed - Math.abs(v) * 2 ** -23);
      });
      expect(worst).toBeLessThanOrEqual(1e-12);
    }
    model.dispose();
  });

  it('stores float16 values rounded to nearest, and rejects values beyond 65504', async () => {
    const model = dense(64, 64, 12);
    const artifacts = await quantizeDynamicRange(model, {dtype: 'float16'});
    const name = model.weights[0].originalName;
    expect(specOf(artifacts, name).quantization).toEqual({dtype: 'float16'});
    const before = weightValues(model).get(name)!;
    const after = decodeStock(artifacts).get(name)!;
    before.forEach((v, i) => expect(Math.abs(after[i] - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11 + 2 ** -25));
    const big = tf.fill([64, 64], 70000);
    model.layers[0].setWeights([big, tf.zeros([64])]);
    await expect(quantizeDynamicRange(model, {dtype: 'float16'})).rejects.toThrow(
        `quantizeDynamicRange: weight '${name}' holds 70000 at index 0, which does not fit in float16 ` +
        "(finite values up to 65504); exclude it or use dtype 'int8', 'uint8' or 'uint16'.");
    big.dispose();
    model.dispose();
  });

  it('rejects a weight that holds NaN, naming it', async () => {
    const model = dense(64, 16);
    const values = gaussians(1024, 1);
    values[5] = NaN;
    const kernel = tf.tensor(values, [64, 16]);
    model.layers[0].setWeights([kernel, tf.zeros([16])]);
    await expect(quantizeDynamicRange(model)).rejects.toThrow(new RangeError(
        `quantizeDynamicRange: weight '${model.weights[0].originalName}' holds NaN or an infinite value; ` +
        'only finite weights can be quantized.'));
    kernel.dispose();
    model.dispose();
  });
});

describe('quantizeDynamicRange argument checks', () => {
  const model = dense(4, 4);
  afterAll(() => model.dispose());

  it.each<[string, unknown, unknown, ErrorConstructor, string]>([
    ['a non-model', {}, undefined, TypeError,
      "quantizeDynamicRange: 'model' must be a tf.LayersModel (a tf.Sequential or a functional model), but got an object."],
    ['a layer', tfl.layers.dense({units: 1}), undefined, TypeError,
      "quantizeDynamicRange: 'model' must be a tf.LayersModel (a tf.Sequential or a functional model), but got an instance of Dense."],
    ['non-object options', 'model', 'int8', TypeError,
      "quantizeDynamicRange: 'options' must be an object, but got \"int8\"."],
    ['an unknown dtype', 'model', {dtype: 'int4'}, TypeError,
      "quantizeDynamicRange: 'dtype' must be one of 'int8', 'uint8', 'uint16', 'float16', but got \"int4\"."],
    ['a non-boolean perChannel', 'model', {perChannel: 'yes'}, TypeError,
      "quantizeDynamicRange: 'perChannel' must be a boolean, but got \"yes\"."],
    ['perChannel with float16', 'model', {perChannel: true, dtype: 'float16'}, RangeError,
      "quantizeDynamicRange: 'perChannel' cannot be true with dtype 'float16' (float16 has no scale to choose " +
      'per channel), but got perChannel true.'],
    ['a negative minElements', 'model', {minElements: -1}, RangeError,
      "quantizeDynamicRange: 'minElements' must be >= 0, but got -1."],
    ['a fractional minElements', 'model', {minElements: 1.5}, TypeError,
      "quantizeDynamicRange: 'minElements' must be an integer, but got 1.5."],
    ['a non-array exclude', 'model', {exclude: 'dense'}, TypeError,
      "quantizeDynamicRange: 'exclude' must be an array of strings and RegExps, but got \"dense\"."],
    ['a bad exclude entry', 'model', {exclude: ['a', 3]}, TypeError,
      "quantizeDynamicRange: 'exclude[1]' must be a string or a RegExp, but got 3."],
    ['an unknown option', 'model', {perchannel: true}, TypeError,
      "quantizeDynamicRange: unknown option 'perchannel' (received true); " +
      'the options are dtype, perChannel, minElements, exclude.'],
  ])('rejects %s', async (_, target, options, type, message) => {
    const call = quantizeDynamicRange((target === 'model' ? model : target) as tfl.LayersModel, options as never);
    await expect(call).rejects.toThrow(type);
    await expect(call).rejects.toThrow(message);
  });
});
