/**
 * How long quantizeArtifacts and the `quantize` command take on a 25 MB
 * float32 graph model (target: under 5 s for the command, read to write).
 *
 *   npx tsx bench/quantize_artifacts.ts [--runs N]
 *
 * The model is a graph model as tfjs-converter writes one: five MatMul layers
 * (1024 x 1024) and two Conv2D (3 x 3 x 256 x 256) filters, 6.4 M float32
 * weights (25.7 MB) with seeded Gaussian values, so that the figures
 * are the same on every run. Prints the median of N runs (default 5) of each
 * scheme, and one timed run of the command line, read to atomic write.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import type * as tf from '@tensorflow/tfjs-core';

import {quantizeArtifacts} from '../src/artifacts/quantize_artifacts';
import type {QuantizeArtifactsOptions} from '../src/artifacts/quantize_artifacts';
import {main} from '../src/cli/main';
import {fileSystem} from '../src/io/file_system';
import {gaussians} from '../test/quantization/fixtures';
import {cpuModel} from './machine';

/** A graph model of MatMul and Conv2D layers whose weights total about 25 MB. */
function syntheticGraphModel(): tf.io.ModelArtifacts {
  const nodes: object[] = [
    {name: 'x', op: 'Placeholder', attr: {dtype: {type: 'DT_FLOAT'}}},
    {name: 'image', op: 'Placeholder', attr: {dtype: {type: 'DT_FLOAT'}}},
  ];
  const specs: tf.io.WeightsManifestEntry[] = [];
  const values: Float32Array[] = [];
  const add = (name: string, shape: number[], seed: number) => {
    const n = shape.reduce((a, b) => a * b, 1);
    nodes.push({name, op: 'Const', attr: {dtype: {type: 'DT_FLOAT'}, value: {tensor: {dtype: 'DT_FLOAT'}}}});
    specs.push({name, shape, dtype: 'float32'});
    values.push(gaussians(n, seed, Math.sqrt(2 / (n / shape[shape.length - 1] + shape[shape.length - 1]))));
  };
  let input = 'x';
  for (let i = 0; i < 5; i++) {
    add(`dense_${i}/kernel`, [1024, 1024], i);
    add(`dense_${i}/bias`, [1024], 100 + i);
    nodes.push({name: `dense_${i}/MatMul`, op: '_FusedMatMul', input: [input, `dense_${i}/kernel`, `dense_${i}/bias`],
      attr: {transpose_a: {b: false}, transpose_b: {b: false}, num_args: {i: '1'}}});
    input = `dense_${i}/MatMul`;
  }
  input = 'image';
  for (let i = 0; i < 2; i++) {
    add(`conv_${i}/filter`, [3, 3, 256, 256], 200 + i);
    add(`conv_${i}/bias`, [256], 300 + i);
    nodes.push({name: `conv_${i}/Conv2D`, op: '_FusedConv2D', input: [input, `conv_${i}/filter`, `conv_${i}/bias`],
      attr: {num_args: {i: '1'}}});
    input = `conv_${i}/Conv2D`;
  }
  const total = values.reduce((sum, v) => sum + v.byteLength, 0);
  const data = new Uint8Array(total);
  let at = 0;
  for (const v of values) {
    data.set(new Uint8Array(v.buffer), at);
    at += v.byteLength;
  }
  return {format: 'graph-model', modelTopology: {node: nodes}, weightSpecs: specs, weightData: data.buffer};
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function run(): Promise<void> {
  const runsAt = process.argv.indexOf('--runs');
  const runs = runsAt > 0 ? Number(process.argv[runsAt + 1]) : 5;
  const artifacts = syntheticGraphModel();
  const mb = (artifacts.weightData as ArrayBuffer).byteLength / 1e6;
  console.log(`quantizeArtifacts on a ${mb.toFixed(1)} MB float32 graph model (${artifacts.weightSpecs!.length} ` +
      `weights), median of ${runs} runs; ${cpuModel()}, ${os.cpus().length} cores, Node ${process.version}`);
  const schemes: Array<[string, QuantizeArtifactsOptions]> = [
    ['int8 per tensor', {}], ['int8 per channel', {perChannel: true}], ['uint8 per tensor', {dtype: 'uint8'}],
    ['float16', {dtype: 'float16'}],
  ];
  for (const [label, options] of schemes) {
    const times: number[] = [];
    for (let r = 0; r < runs; r++) {
      const start = performance.now();
      await quantizeArtifacts(artifacts, options);
      times.push(performance.now() - start);
    }
    console.log(`  ${label.padEnd(18)} ${median(times).toFixed(0).padStart(6)} ms`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tfmo-bench-'));
  try {
    await fileSystem(path.join(dir, 'in')).save(artifacts);
    const start = performance.now();
    const code = await main(['quantize', path.join(dir, 'in', 'model.json'), path.join(dir, 'out')],
        {out: () => {}, err: (t) => console.error(t), errIsTTY: false});
    const ms = performance.now() - start;
    console.log(`  command line: tfjs-model-optimization quantize (read, int8, atomic write, gzip report) ` +
        `${ms.toFixed(0)} ms, exit code ${code} (target < 5000 ms)`);
  } finally {
    fs.rmSync(dir, {recursive: true, force: true});
  }
}

run().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
