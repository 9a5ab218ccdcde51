// Every field of every quantization entry is checked against what a codec writes, with one module
// (src/quantization/manifest_check.ts) for loadQuantizedLayersModel, fileSystem.save and
// fileSystem.load: a scale that is a finite float32 > 0 whose highest code's step is not 0 in
// float32, a finite min, and codes that decode to finite values.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {fileSystem} from '../../src/io/file_system';
import {loadQuantizedLayersModel} from '../../src/quantization/load';
import {checkWeights} from '../../src/quantization/manifest_check';
import {quantizeDynamicRange} from '../../src/quantization/quantize';
import {setGaussianWeights} from './fixtures';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tfmo-manifest-'));
});
afterAll(() => fs.rmSync(tmp, {recursive: true, force: true}));

/** A Dense layer named "d", 30 x 40, with seeded weights (or `kernel` when given). */
function dense(kernel?: Float32Array): tfl.Sequential {
  const model = tfl.sequential({layers: [tfl.layers.dense({name: 'd', units: 40, inputShape: [30]})]});
  setGaussianWeights(model, 7);
  if (kernel !== undefined) {
    const values = [tf.tensor2d(kernel, [30, 40]), tf.zeros([40])];
    model.setWeights(values);
    tf.dispose(values);
  }
  return model;
}

let perTensor: tf.io.ModelArtifacts;
let perChannel: tf.io.ModelArtifacts;
beforeAll(async () => {
  const model = dense();
  perTensor = await quantizeDynamicRange(model); // d/kernel: {dtype: 'uint8', scale, min: -128 * scale}
  perChannel = await quantizeDynamicRange(model, {perChannel: true});
  model.dispose();
});

/** The artifacts with d/kernel's quantization entry replaced by `edit(entry)`. */
function withKernelQuantization(artifacts: tf.io.ModelArtifacts, edit: (q: Record<string, unknown>) => Record<string, unknown>):
    tf.io.ModelArtifacts {
  return {
    ...artifacts,
    weightSpecs: artifacts.weightSpecs!.map((s) => (s.name === 'd/kernel' ? {...s, quantization: edit({...s.quantization!}) as never} : s)),
  };
}

/** The artifacts with the kernel's codes replaced by `codes` (one per element, in order). */
function withKernelCodes(artifacts: tf.io.ModelArtifacts, codes: (i: number) => number): tf.io.ModelArtifacts {
  const data = new Uint8Array((artifacts.weightData as ArrayBuffer).slice(0));
  for (let i = 0; i < 30 * 40; i++) data[i] = codes(i);
  return {...artifacts, weightData: data.buffer};
}

const SCALE = 'quantization.scale must be a finite float32 > 0, but got';
const TOO_SMALL = (v: string) => `quantization.scale must be large enough that 255 * scale is not 0 in float32 (every ` +
    `code would decode to min), but got ${v}.`;

// [value, what the message says after "weight 'd/kernel': "]
const BAD_SCALES: Array<[unknown, string]> = [
  [NaN, `${SCALE} NaN.`],
  [Infinity, `${SCALE} Infinity.`],
  [-Infinity, `${SCALE} -Infinity.`],
  [0, `${SCALE} 0.`],
  [-0.01, `${SCALE} -0.01.`],
  [1e300, `${SCALE} 1e+300.`], // Infinity in float32
  [3.5e38, `${SCALE} 3.5e+38.`], // above float32's 3.4028234663852886e+38
  ['0.01', `${SCALE} "0.01".`],
  [null, `${SCALE} null.`],
  [undefined, `${SCALE} undefined.`],
  [5e-324, TOO_SMALL('5e-324')], // the smallest double: 255 * scale is 0 in float32, every weight decodes to min
  [1e-320, TOO_SMALL('1e-320')],
  [1e-50, TOO_SMALL('1e-50')],
];

const BAD_MINS: Array<[unknown, string]> = [
  [NaN, 'NaN'], [Infinity, 'Infinity'], [-Infinity, '-Infinity'], [null, 'null'], ['0', '"0"'], [undefined, 'undefined'],
];

describe('a per-tensor entry ({dtype, scale, min})', () => {
  it.each(BAD_SCALES)('with scale %p is refused by loadQuantizedLayersModel, naming the weight and the field', async (scale, rule) => {
    const artifacts = withKernelQuantization(perTensor, (q) => ({...q, scale}));
    await expect(loadQuantizedLayersModel(artifacts)).rejects.toThrow(
        new RangeError(`loadQuantizedLayersModel: weight 'd/kernel': ${rule}`));
  });

  it.each(BAD_MINS)('with min %p is refused by loadQuantizedLayersModel', async (min, shown) => {
    const artifacts = withKernelQuantization(perTensor, (q) => ({...q, min}));
    await expect(loadQuantizedLayersModel(artifacts)).rejects.toThrow(new RangeError(
        `loadQuantizedLayersModel: weight 'd/kernel': quantization.min must be a finite number, but got ${shown}.`));
  });

  it('whose highest code decodes beyond float32 is refused, naming the code', async () => {
    const artifacts = withKernelCodes(withKernelQuantization(perTensor, (q) => ({...q, scale: 3e36, min: 0})), (i) => i % 256);
    await expect(loadQuantizedLayersModel(artifacts)).rejects.toThrow(new RangeError(
        "loadQuantizedLayersModel: weight 'd/kernel': code 255 decodes to 255 * 3e+36 + 0 = Infinity in float32; every " +
        'code must decode to a finite float32 value.'));
  });

  it('with a scale float32 holds only as a subnormal, written for a weight of subnormal values, loads', async () => {
    // max|w| = 1e-40 (a float32 subnormal): int8 writes scale 1e-40 / 127 and uint16 (1e-40 + 1e-40) / 65535.
    const model = dense(Float32Array.from({length: 1200}, (_, i) => (i % 2 === 0 ? 1e-40 : -1e-40)));
    for (const dtype of ['int8', 'uint16'] as const) {
      const artifacts = await quantizeDynamicRange(model, {dtype});
      const loaded = await loadQuantizedLayersModel(artifacts);
      const values = loaded.getWeights()[0].dataSync();
      // Within one float32 subnormal step (2^-149) of the weights: not zeros, not min.
      expect(Math.abs(values[0] - Math.fround(1e-40))).toBeLessThanOrEqual(2 ** -149);
      expect(Math.abs(values[1] - Math.fround(-1e-40))).toBeLessThanOrEqual(2 ** -149);
      loaded.dispose();
    }
    model.dispose();
  });

  it('of int8 codes next to ±3.4e38 loads: min = -128 * scale lies beyond float32, but code 0 is never written', async () => {
    const model = dense(Float32Array.from({length: 1200}, (_, i) => (i === 0 ? 3.4e38 : i === 1 ? -3.4e38 : i)));
    const artifacts = await quantizeDynamicRange(model);
    expect(Number.isFinite(Math.fround((artifacts.weightSpecs![0].quantization as {min: number}).min))).toBe(false);
    const loaded = await loadQuantizedLayersModel(artifacts);
    expect(Array.from(loaded.getWeights()[0].dataSync().slice(0, 2))).toEqual([Math.fround(3.4e38), Math.fround(-3.4e38)]);
    loaded.dispose();
    model.dispose();
  });

  it('of float16 codes that decode to an infinity or NaN is refused', async () => {
    const model = dense();
    const artifacts = await quantizeDynamicRange(model, {dtype: 'float16'});
    const data = new Uint16Array((artifacts.weightData as ArrayBuffer).slice(0));
    data[5] = 0x7c00;
    await expect(loadQuantizedLayersModel({...artifacts, weightData: data.buffer})).rejects.toThrow(new RangeError(
        "loadQuantizedLayersModel: weight 'd/kernel': the float16 code 0x7c00 of element 5 decodes to an infinity; " +
        'every code must decode to a finite value.'));
    model.dispose();
  });
});

describe('a per-channel entry ({dtype, axis, scale[], zeroPoint[]})', () => {
  it.each([
    [1e300, `quantization.scale[3] must be a finite float32 > 0, but got 1e+300.`],
    [3.5e38, `quantization.scale[3] must be a finite float32 > 0, but got 3.5e+38.`],
    [1e-320, 'quantization.scale[3] must be large enough that 255 * scale is not 0 in float32 (every code of the ' +
        'channel would decode to 0), but got 1e-320.'],
    [1e-50, 'quantization.scale[3] must be large enough that 255 * scale is not 0 in float32 (every code of the ' +
        'channel would decode to 0), but got 1e-50.'],
  ])('with a channel scale of %p (positive and finite as a double) is refused', async (bad, rule) => {
    const artifacts = withKernelQuantization(perChannel, (q) => ({...q, scale: (q.scale as number[]).map((s, c) => (c === 3 ? bad : s))}));
    await expect(loadQuantizedLayersModel(artifacts)).rejects.toThrow(
        new RangeError(`loadQuantizedLayersModel: weight 'd/kernel': ${rule}`));
  });

  it('whose codes decode beyond float32 in one channel is refused, naming the channel and the code', async () => {
    const artifacts = withKernelCodes(withKernelQuantization(perChannel, (q) => ({
      ...q, scale: (q.scale as number[]).map((s, c) => (c === 7 ? 3e36 : s)),
    })), (i) => (i === 7 ? 0 : 128));
    await expect(loadQuantizedLayersModel(artifacts)).rejects.toThrow(new RangeError(
        "loadQuantizedLayersModel: weight 'd/kernel': code 0 of channel 7 decodes to (0 - 128) * 3e+36 = -Infinity in " +
        'float32; every code must decode to a finite float32 value.'));
  });
});

describe('fileSystem(dir) applies the same checks', () => {
  it('save refuses a NaN scale (which JSON would write as null) and writes nothing', async () => {
    const dir = path.join(tmp, 'nan');
    const artifacts = withKernelQuantization(perTensor, (q) => ({...q, scale: NaN}));
    await expect(fileSystem(dir).save(artifacts)).rejects.toThrow(new RangeError(
        `fileSystem: cannot save to ${dir}: weight 'd/kernel': quantization.scale must be a finite float32 > 0, but got NaN.`));
    expect(fs.existsSync(dir)).toBe(false);
  });

  it.each([
    ['a per-channel scale of 1e300', (a: tf.io.ModelArtifacts) =>
      withKernelQuantization(a, (q) => ({...q, scale: (q.scale as number[]).map((s, c) => (c === 0 ? 1e300 : s))})),
    "weight 'd/kernel': quantization.scale[0] must be a finite float32 > 0, but got 1e+300.", RangeError],
    ['a quantization dtype no codec writes', (a: tf.io.ModelArtifacts) => withKernelQuantization(a, (q) => ({...q, dtype: 'int4'})),
      "weight 'd/kernel': quantization.dtype must be one of uint8, uint16, uint8-per-channel, uint16-per-channel, float16, " +
      'but got "int4".', TypeError],
    ['weight data longer than the specs declare', (a: tf.io.ModelArtifacts) => ({...a, weightData: new ArrayBuffer(1200 + 160 + 4)}),
      'the weight data holds 1364 bytes, but the manifest lists 1360; the weights do not belong to this model.', Error],
    ['weight data shorter than the specs declare', (a: tf.io.ModelArtifacts) => ({...a, weightData: new ArrayBuffer(1000)}),
      "the weight data ends before weight 'd/kernel' (1000 bytes, the manifest needs at least 1200).", Error],
  ])('save refuses %s, naming the weight and the field, and writes nothing', async (_what, edit, rule, errorClass) => {
    const dir = path.join(tmp, 'refused');
    fs.mkdirSync(dir, {recursive: true});
    const artifacts = edit(perChannel);
    const error = await fileSystem(dir).save(artifacts).then(() => undefined, (e: Error) => e);
    expect(error).toBeInstanceOf(errorClass);
    expect(error!.message).toBe(`fileSystem: cannot save to ${dir}: ${rule}`);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('load refuses a scale of null (a NaN written by an older save) in model.json', async () => {
    const dir = path.join(tmp, 'null-scale');
    await fileSystem(dir).save(perTensor);
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
    json.weightsManifest[0].weights[0].quantization.scale = null;
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
    await expect(tfl.loadLayersModel(fileSystem(dir))).rejects.toThrow(new RangeError(
        `fileSystem: ${path.join(dir, 'model.json')}: weight 'd/kernel': quantization.scale must be a finite float32 > 0, ` +
        'but got null.'));
  });
});

describe('checkWeights', () => {
  it('places string weights by their length prefixes and checks the total', () => {
    const text = new TextEncoder();
    const strings = ['ab', 'cdé'].map((s) => text.encode(s));
    const data = new Uint8Array(4 + 2 + 4 + 4 + 8);
    const view = new DataView(data.buffer);
    view.setUint32(0, strings[0].length, true);
    data.set(strings[0], 4);
    view.setUint32(6, strings[1].length, true);
    data.set(strings[1], 10);
    const specs = [{name: 's', shape: [2], dtype: 'string' as const}, {name: 'w', shape: [2], dtype: 'float32' as const}];
    expect(checkWeights('t', specs, data, true).slots.map((s) => [s.spec.name, s.offset, s.byteLength])).toEqual([
      ['s', 0, 14], ['w', 14, 8],
    ]);
    expect(() => checkWeights('t', specs, data.subarray(0, 12), true)).toThrow(
        "t: the weight data ends before weight 's' (12 bytes, the manifest needs at least 14).");
    // Three strings declared, two stored: the third length prefix lies beyond the data.
    expect(() => checkWeights('t', [{...specs[0], shape: [3]}], data.subarray(0, 14), true)).toThrow(
        "t: the weight data ends before weight 's' (14 bytes, the manifest needs at least 18).");
  });

  it('refuses entries without a name, with a bad shape, or with a dtype from Object.prototype', () => {
    expect(() => checkWeights('t', [{shape: [1], dtype: 'float32'}], new Uint8Array(4), true)).toThrow(
        new TypeError('t: weight spec 0: name must be a string, but got undefined.'));
    expect(() => checkWeights('t', [{name: 'w', shape: [2, -1], dtype: 'float32'}], new Uint8Array(4), true)).toThrow(
        new TypeError("t: weight 'w': shape must be an array of integers >= 0, but got [2, -1]."));
    expect(() => checkWeights('t', [{name: 'w', shape: [1], dtype: 'constructor'}], new Uint8Array(4), true)).toThrow(
        new TypeError("t: weight 'w': dtype must be one of float32, int32, bool, string, complex64, but got \"constructor\"."));
    // A reader leaves an unknown dtype to tfjs, and cannot place the entries after it.
    expect(checkWeights('t', [{name: 'w', shape: [1], dtype: 'constructor'}], new Uint8Array(4), false).complete).toBe(false);
  });
});
