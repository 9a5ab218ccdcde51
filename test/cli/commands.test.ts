// inspect, quantize and prune on a converter-produced graph model (liveness, see
// test/artifacts/fixtures.ts) and on a layers model saved by this package: what they print, what
// they write, and that the written models load and compute.
import * as fs from 'node:fs';
import * as path from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {loadQuantizedGraphModel, loadQuantizedLayersModel, quantizeArtifacts} from '../../src';
import {fileSystem} from '../../src/io/file_system';
import {
  decodedWeights,
  graphRunner,
  humanModelPath,
  inputShape,
  loadHumanModel,
  outputsOn,
  randomInput,
  relativeError,
  tfconv,
} from '../artifacts/fixtures';
import {cli, layersModelDir, listing, tempDir} from './cli_helpers';

const LIVENESS = humanModelPath('liveness');

describe('inspect', () => {
  it('describes a graph model: weights, storage, sparsity, gzipped size and what quantization gives (--json)', async () => {
    const run = await cli('inspect', LIVENESS, '--json');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.out);
    expect(report.format).toBe('graph');
    expect(report.weights).toHaveLength(23);
    expect(report.weights[0]).toEqual({
      name: 'StatefulPartitionedCall/sequential_1/conv2d_1/Conv2D/ReadVariableOp', shape: [3, 3, 3, 16],
      dtype: 'float32', storage: 'none', usedBy: '_FusedConv2D kernel', sparsity: 0, bytes: 1728,
    });
    expect(report.weights[1].usedBy).toBe('_FusedConv2D bias');
    expect(report.quantized.map((q: {label: string}) => q.label)).toEqual(
        ['int8 per tensor', 'int8 per channel', 'uint8 per tensor', 'float16']);
    expect(report.quantized[0].ratio).toBeGreaterThanOrEqual(3.5);
  });

  it('describes a layers model and a quantized model as text', async () => {
    const dir = await layersModelDir();
    const run = await cli('inspect', dir);
    expect(run.code).toBe(0);
    expect(run.out.split('\n')[0]).toBe(`${path.join(dir, 'model.json')}: layers model, 10 weights (0 quantized), ` +
        '311.9 KiB of weight data');
    expect(run.out).toMatch(/dense_Dense\d+\/kernel +\[1152, 64\] +float32 +none +Dense kernel +0\.0% +288\.0 KiB/);
    const out = path.join(tempDir(), 'int8');
    await fileSystem(out).save(await quantizeArtifacts(await fileSystem(dir).load(), {perChannel: true}));
    const quantized = await cli('inspect', path.join(out, 'model.json'));
    expect(quantized.out).toMatch(/conv2d_Conv2D\d+\/kernel +\[3, 3, 16, 32\] +float32 +int8 per channel \(axis 3\)/);
  });
});

describe('quantize', () => {
  it('writes an int8 graph model that stock loadGraphModel loads, and refuses to overwrite it without --force', async () => {
    const out = path.join(tempDir(), 'int8');
    const run = await cli('quantize', LIVENESS, out);
    expect(run.code).toBe(0);
    expect(run.out).toMatch(new RegExp(`^${out}/model.json: 4 of 23 weights quantized \\(int8 per tensor\\); gzipped ` +
        '\\S+ KiB -> \\S+ KiB \\(3\\.\\d\\dx smaller\\)$'));
    expect(listing(out)).toEqual(['model.json', expect.stringMatching(/^weights\.[0-9a-f]{16}\.bin$/)]);
    const written = await fileSystem(out).load();
    const expected = await quantizeArtifacts(loadHumanModel('liveness'));
    expect(written.weightSpecs).toEqual(expected.weightSpecs);
    const model = await tfconv.loadGraphModel(fileSystem(out));
    const reference = await tfconv.loadGraphModel(tf.io.fromMemory(loadHumanModel('liveness')));
    const x = randomInput(inputShape(reference, 8));
    expect(relativeError(outputsOn(graphRunner(reference), x), outputsOn(graphRunner(model), x))).toBeLessThan(0.02);
    for (const m of [model, reference]) m.dispose();
    x.dispose();

    const before = fs.readFileSync(path.join(out, 'model.json'));
    const again = await cli('quantize', LIVENESS, out, '--dtype', 'uint8');
    expect(again).toEqual({code: 1, out: '', err: `tfjs-model-optimization: ${out}/model.json already exists; pass ` +
        '--force to replace it'});
    expect(fs.readFileSync(path.join(out, 'model.json'))).toEqual(before);
    const forced = await cli('quantize', LIVENESS, out, '--dtype', 'uint8', '--force');
    expect(forced.code).toBe(0);
    expect((await fileSystem(out).load()).convertedBy).toBe('tfjs-model-optimization quantizeArtifacts (uint8, per tensor)');
    expect(listing(out)).toHaveLength(2);
  });

  it('writes a per-channel graph model for loadQuantizedGraphModel, with excludes', async () => {
    const out = path.join(tempDir(), 'pc');
    const run = await cli('quantize', LIVENESS, out, '--per-channel', '--exclude', '/dense_2/', '--min-elements', '0');
    expect(run.out.split('\n')[1]).toBe('load it with loadQuantizedGraphModel from tfjs-model-optimization (stock ' +
        'tfjs loaders reject per-channel weights)');
    const specs = (await fileSystem(out).load()).weightSpecs!;
    expect(specs.filter((s) => (s.quantization?.dtype as string) === 'uint8-per-channel').length).toBe(5);
    const model = await loadQuantizedGraphModel(fileSystem(out));
    expect(model.outputs).toHaveLength(1);
    model.dispose();
  });

  it('quantizes a layers model per channel for loadQuantizedLayersModel', async () => {
    const dir = await layersModelDir();
    const out = path.join(tempDir(), 'cnn-pc');
    expect((await cli('quantize', path.join(dir, 'model.json'), out, '--per-channel')).code).toBe(0);
    const model = await loadQuantizedLayersModel(fileSystem(out));
    const reference = await tfl.loadLayersModel(fileSystem(dir));
    const x = randomInput([4, 12, 12, 3]);
    const run = (m: tfl.LayersModel) => outputsOn((t) => [m.predict(t) as tf.Tensor], x);
    expect(relativeError(run(reference), run(model))).toBeLessThan(0.01);
    for (const m of [model, reference]) m.dispose();
    x.dispose();
  });

  it('calibrates on seeded random inputs: the outputs move less than without', async () => {
    const dir = await layersModelDir();
    const plain = path.join(tempDir(), 'cnn-plain');
    const calibrated = path.join(tempDir(), 'cnn-calibrated');
    expect((await cli('quantize', dir, plain, '--per-channel', '--min-elements', '0')).code).toBe(0);
    const run = await cli('quantize', dir, calibrated, '--per-channel', '--min-elements', '0', '--calibrate', '4',
        '--calibrate-range', '0,1');
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/^.+model\.json: 5 of 10 weights quantized \(int8 per channel, calibrated on 4 random batches\); /);
    const reference = await tfl.loadLayersModel(fileSystem(dir));
    const x = randomInput([16, 12, 12, 3], 77);
    const errors: number[] = [];
    for (const out of [plain, calibrated]) {
      const model = await loadQuantizedLayersModel(fileSystem(out));
      errors.push(relativeError(outputsOn((t) => [reference.predict(t) as tf.Tensor], x),
          outputsOn((t) => [model.predict(t) as tf.Tensor], x)));
      model.dispose();
    }
    expect(errors[1]).toBeLessThan(0.8 * errors[0]);
    reference.dispose();
    x.dispose();
  });
});

it('says which input --calibrate cannot make, exit code 1, nothing written', async () => {
  const dir = path.join(tempDir(), 'open-length');
  const input = tfl.input({shape: [null, 3] as unknown as number[]});
  const model = tfl.model({inputs: input, outputs: tfl.layers.dense({units: 4}).apply(input) as tfl.SymbolicTensor});
  await model.save(fileSystem(dir));
  model.dispose();
  const out = path.join(tempDir(), 'never');
  const run = await cli('quantize', dir, out, '--calibrate', '2', '--min-elements', '0');
  expect(run.code).toBe(1);
  expect(run.err).toMatch(new RegExp('^tfjs-model-optimization: .+model\\.json: quantize: --calibrate cannot make ' +
      'inputs for \'\\w+\' of shape \\[-1, -1, 3\\]: only the batch size may be unknown\\n?$'));
  expect(listing(out)).toEqual([]);
});

describe('prune', () => {
  it('prunes the kernels of a graph model and of a layers model', async () => {
    const out = path.join(tempDir(), 'pruned');
    const run = await cli('prune', LIVENESS, out, '--sparsity', '0.5');
    expect(run).toEqual({code: 0, err: '', out: `${out}/model.json: 6 kernels pruned; kernel sparsity 50.0% ` +
        '(73880 of 147760 kernel weights are 0)'});
    const dir = await layersModelDir();
    const layersOut = path.join(tempDir(), 'cnn-24');
    const layers = await cli('prune', dir, layersOut, '--m-by-n', '2:4', '--exclude', '/depthwise/');
    expect(layers.code).toBe(0);
    expect(layers.out).toMatch(/: 4 kernels pruned; kernel sparsity 49\.\d%/);
    const weights = decodedWeights(await fileSystem(layersOut).load());
    const dense = Object.keys(weights).find((k) => /dense_Dense\d+\/kernel/.test(k))!;
    expect(weights[dense].filter((v) => v === 0).length).toBe(weights[dense].length / 2);
  });
});

describe('unreadable or corrupt input', () => {
  let broken: string;
  beforeAll(() => {
    broken = tempDir();
    const json = fs.readFileSync(LIVENESS, 'utf8');
    const bin = fs.readFileSync(LIVENESS.replace(/\.json$/, '.bin'));
    fs.writeFileSync(path.join(broken, 'not-json.json'), '{"modelTopology": ');
    fs.writeFileSync(path.join(broken, 'no-topology.json'), '{"format": "graph-model"}');
    fs.writeFileSync(path.join(broken, 'missing-bin.json'), json.replace('liveness.bin', 'gone.bin'));
    fs.writeFileSync(path.join(broken, 'short.json'), json.replace('liveness.bin', 'short.bin'));
    fs.writeFileSync(path.join(broken, 'short.bin'), bin.subarray(0, 5000));
  });

  it.each([
    ['missing.json', (d: string) => `cannot read the model ${d}/missing.json: no such file`],
    ['not-json.json', (d: string) => `${d}/not-json.json is not valid JSON (Unexpected end of JSON input)`],
    ['no-topology.json', (d: string) => `${d}/no-topology.json has no 'modelTopology'; it is not a model.json file`],
    ['missing-bin.json', (d: string) => `cannot read the weights file listed in ${d}/missing-bin.json, ${d}/gone.bin: ` +
      'no such file'],
    ['short.json', (d: string) => `${d}/short.json: the weight data ends before weight 'StatefulPartitionedCall/` +
      "sequential_1/conv2d_2/Conv2D/ReadVariableOp' (5000 bytes, the manifest needs at least 11008)."],
  ])('answers %s with one line naming the file, exit code 1, and writes nothing', async (file, message) => {
    for (const argv of [['inspect'], ['quantize'], ['prune']]) {
      const out = path.join(tempDir(), 'out');
      const extra = argv[0] === 'inspect' ? [] : argv[0] === 'prune' ? [out, '--sparsity', '0.5'] : [out];
      const run = await cli(argv[0], path.join(broken, file), ...extra);
      expect(run).toEqual({code: 1, out: '', err: `tfjs-model-optimization: ${message(broken)}`});
      expect(listing(out)).toEqual([]);
    }
  });
});
