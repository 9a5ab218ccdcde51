import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {gzip} from 'pako';

import {fileSystem} from '../../src/io/file_system';
import {getGzippedModelSize, saveToMemory} from '../../src/io/gzipped_size';
import {quantizeDynamicRange} from '../../src/quantization/quantize';
import {pruneKernels, seedCnn} from '../quantization/fixtures';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tfmot-gz-'));
});
afterAll(() => fs.rmSync(tmp, {recursive: true, force: true}));

/**
 * Writes `artifacts` with fileSystem and returns the bytes of model.json and of the weights file,
 * in the tfjs-node layout that getGzippedModelSize measures: fileSystem names the weights file
 * weights.<16 hex digits>.bin (new for every save), tfjs-node names it weights.bin.
 */
async function writeFiles(artifacts: tf.io.ModelArtifacts, name: string): Promise<Uint8Array[]> {
  const dir = path.join(tmp, name);
  await fileSystem(dir).save(artifacts);
  const json = fs.readFileSync(path.join(dir, 'model.json'), 'utf8');
  const weightsFile = JSON.parse(json).weightsManifest[0].paths[0] as string;
  expect(weightsFile).toMatch(/^weights\.[0-9a-f]{16}\.bin$/);
  return [Buffer.from(json.replace(`"${weightsFile}"`, '"weights.bin"')), fs.readFileSync(path.join(dir, weightsFile))];
}

/** Writes `artifacts` with fileSystem and returns the sum of the compressed sizes of the two files. */
async function filesCompressedWith(
    artifacts: tf.io.ModelArtifacts, name: string, compress: (data: Uint8Array) => number): Promise<number> {
  const files = await writeFiles(artifacts, name);
  return files.reduce((sum, data) => sum + compress(data), 0);
}

describe('getGzippedModelSize', () => {
  let baseline: tfl.Sequential;
  let pruned: tfl.Sequential;
  beforeAll(() => {
    baseline = seedCnn(1);
    pruned = seedCnn(1);
    pruneKernels(pruned, 0.7); // the seed's final sparsity, on every kernel
  });
  afterAll(() => {
    baseline.dispose();
    pruned.dispose();
  });

  it('is gzip(model.json) + gzip(weights.bin) of the files fileSystem writes, as Node\'s zlib at level 9', async () => {
    const artifacts = await quantizeDynamicRange(pruned);
    const onDisk = await filesCompressedWith(artifacts, 'measure', (d) => zlib.gzipSync(d, {level: 9}).length);
    expect(await getGzippedModelSize(artifacts)).toBe(onDisk);
  });

  // Node bundles Chromium's zlib (process.versions.zlib is like '1.3.1-e00f703'), whose string hash
  // pako 3 reproduces by default. A Node built against the system's canonical zlib would differ.
  it('compresses each file to the same bytes as Node\'s zlib.gzipSync at level 9 (mtime 0, no file name)', async () => {
    const variants: Array<[string, tf.io.ModelArtifacts]> = [
      ['baseline', await saveToMemory(baseline)],
      ['pruned', await saveToMemory(pruned)],
      ['int8', await quantizeDynamicRange(pruned)],
    ];
    for (const [name, artifacts] of variants) {
      for (const data of await writeFiles(artifacts, `bytes-${name}`)) {
        const ours = gzip(data, {level: 9});
        expect(Buffer.from(ours).equals(zlib.gzipSync(data, {level: 9}))).toBe(true);
        expect([...ours.subarray(3, 8)]).toEqual([0, 0, 0, 0, 0]); // FLG (no name) and MTIME
      }
    }
  });

  it('measures a model as model.save writes it', async () => {
    expect(await getGzippedModelSize(baseline)).toBe(await getGzippedModelSize(await saveToMemory(baseline)));
  });

  it('leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    await getGzippedModelSize(baseline);
    expect(tf.memory().numTensors).toBe(before);
  });

  // The seed article: 1,601,609 B -> 679,958 B pruned (2.35x) -> 186,745 B pruned + quantized (8.58x).
  // Its weights are trained; these are seeded Gaussian (the hardest case for the codes' entropy).
  // Measured here (zlib level 9 through pako): 1,602,416 B -> 584,748 B -> 183,000 B.
  it('beats the seed\'s 2.35x from pruning on the seed\'s CNN at 70% sparsity: 2.74x', async () => {
    const ratio = await getGzippedModelSize(baseline) / await getGzippedModelSize(pruned);
    expect(ratio).toBeGreaterThan(2.35);
    expect(ratio).toBeCloseTo(2.74, 2); // measured: 2.7404x
  });

  it('beats the seed\'s 8.58x from pruning + int8 on the seed\'s CNN: 8.76x', async () => {
    const ratio = await getGzippedModelSize(baseline) / await getGzippedModelSize(await quantizeDynamicRange(pruned));
    expect(ratio).toBeGreaterThan(8.58);
    expect(ratio).toBeCloseTo(8.76, 2); // measured: 8.7564x
  });

  // The seed's own compressor: Python's zipfile, that is canonical zlib at level 6. pako reproduces canonical
  // zlib with legacyHash; Python 3's zlib module (zlib 1.2.13) gave the same bytes for all six files:
  //   zlib.compressobj(6, zlib.DEFLATED, 31) -> 1,603,720 B, 593,943 B and 190,732 B (both files).
  it('stays below the seed\'s 8.58x when compressed as the seed did (canonical zlib level 6): 2.70x and 8.41x', async () => {
    const canonical6 = (d: Uint8Array) => gzip(d, {level: 6, legacyHash: true}).length;
    const base = await filesCompressedWith(await saveToMemory(baseline), 'base', canonical6);
    const prunedSize = await filesCompressedWith(await saveToMemory(pruned), 'pruned', canonical6);
    const quantized = await filesCompressedWith(await quantizeDynamicRange(pruned), 'quantized', canonical6);
    expect(base / prunedSize).toBeCloseTo(2.70, 2); // measured: 2.7001x
    expect(base / quantized).toBeCloseTo(8.41, 2); // measured: 8.4082x
  });

  it('rejects anything but a model or artifacts', async () => {
    for (const bad of [null, 3, {}, {modelTopology: new ArrayBuffer(4)}]) {
      await expect(getGzippedModelSize(bad as never)).rejects.toThrow(TypeError);
    }
    await expect(getGzippedModelSize({} as never)).rejects.toThrow(
        "getGzippedModelSize: 'modelOrArtifacts' must be a tf.LayersModel or model artifacts with a JSON " +
        'modelTopology, but got an object.');
  });
});
