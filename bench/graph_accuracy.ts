/**
 * Size and accuracy of quantizeArtifacts on real converter-produced graph
 * models (the test fixtures: @vladmandic/human 3.3.6's emotion, iris, liveness,
 * antispoof and blazeface), with the default options, int8 per tensor (loaded
 * by stock `tf.loadGraphModel`) and int8 per channel (loaded by
 * `loadQuantizedGraphModel`). The figures of docs/command-line.md.
 *
 *   npx tsx bench/graph_accuracy.ts [--seeds N] [--models a,b,...] [--calibrate N]
 *
 * Error: the largest |output - float32 output| over a seeded batch of uniform
 * random inputs in [0, 1), as a fraction of the range of that float32 output
 * (test/artifacts/fixtures.ts, relativeError); the median and the largest over
 * N seeds (default 6). Size: model.json + weights gzipped (zlib level 9), the
 * original over the quantized. Runs on the cpu backend, as the tests do.
 *
 * `--calibrate N` adds the same errors with `calibration` (GPTQ rounding) on N
 * batches of random inputs of other seeds (1000 and up), and the seconds
 * quantizeArtifacts took with it.
 */
import * as os from 'node:os';

import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';

import {loadQuantizedGraphModel} from '../src/artifacts/load_graph_model';
import {quantizeArtifacts} from '../src/artifacts/quantize_artifacts';
import {gzippedModelSize} from '../src/cli/gzip_size';
import {
  FIXTURE_BATCH,
  HumanModel,
  graphRunner,
  inputShape,
  loadHumanModel,
  outputsOn,
  randomInput,
  relativeError,
  tfconv,
} from '../test/artifacts/fixtures';
import {cpuModel} from './machine';

const MODELS: HumanModel[] = ['emotion', 'iris', 'liveness', 'antispoof', 'blazeface'];

function argument(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const percent = (x: number) => `${(100 * x).toFixed(2)}%`;

async function measure(name: HumanModel, seeds: number, calibrate: number): Promise<string> {
  const original = loadHumanModel(name);
  const fallbacks: string[] = [];
  const perTensor = await quantizeArtifacts(original, {onFloat16Fallback: (w) => fallbacks.push(w.name)});
  const perChannel = await quantizeArtifacts(original, {perChannel: true});
  const before = await gzippedModelSize(original);
  const ratio = before / await gzippedModelSize(perTensor);
  const ratioPerChannel = before / await gzippedModelSize(perChannel);
  const reference = await tfconv.loadGraphModel(tf.io.fromMemory(original));
  const int8 = await tfconv.loadGraphModel(tf.io.fromMemory(perTensor));
  const int8PerChannel = await loadQuantizedGraphModel(perChannel);
  const errors: number[] = [];
  const errorsPerChannel: number[] = [];
  for (let seed = 1; seed <= seeds; seed++) {
    const x = randomInput(inputShape(reference, FIXTURE_BATCH[name]), seed);
    const expected = outputsOn(graphRunner(reference), x);
    errors.push(relativeError(expected, outputsOn(graphRunner(int8), x)));
    errorsPerChannel.push(relativeError(expected, outputsOn(graphRunner(int8PerChannel), x)));
    x.dispose();
  }
  const float16 = fallbacks.length === 0 ? '-' : `${fallbacks.length} (${fallbacks.join(', ')})`;
  let row = `| ${name} | ${(before / 1024).toFixed(1)} KiB | ${ratio.toFixed(2)}x | ${ratioPerChannel.toFixed(2)}x | ` +
      `${percent(median(errors))} (${percent(Math.max(...errors))}) | ` +
      `${percent(median(errorsPerChannel))} (${percent(Math.max(...errorsPerChannel))}) | ${float16} |`;
  if (calibrate > 0) {
    const inputs = Array.from({length: calibrate}, (_, b) => randomInput(inputShape(reference, FIXTURE_BATCH[name]), 1000 + b));
    for (const perChannel of [false, true]) {
      const start = Date.now();
      const calibrated = await quantizeArtifacts(original, {perChannel, calibration: {inputs}});
      const seconds = (Date.now() - start) / 1000;
      const model = await loadQuantizedGraphModel(calibrated);
      const calibratedErrors: number[] = [];
      for (let seed = 1; seed <= seeds; seed++) {
        const x = randomInput(inputShape(reference, FIXTURE_BATCH[name]), seed);
        calibratedErrors.push(relativeError(outputsOn(graphRunner(reference), x), outputsOn(graphRunner(model), x)));
        x.dispose();
      }
      model.dispose();
      row += ` ${percent(median(calibratedErrors))} (${percent(Math.max(...calibratedErrors))}), ${seconds.toFixed(1)} s |`;
    }
    tf.dispose(inputs);
  }
  for (const model of [reference, int8, int8PerChannel]) model.dispose();
  return row;
}

async function run(): Promise<void> {
  await tf.setBackend('cpu');
  const seeds = Number(argument('--seeds') ?? 6);
  const models = (argument('--models')?.split(',') ?? MODELS) as HumanModel[];
  const calibrate = Number(argument('--calibrate') ?? 0);
  console.log(`quantizeArtifacts, default options; ${seeds} seeds; ${cpuModel()}, ${os.cpus().length} cores, ` +
      `Node ${process.version}, tfjs cpu backend`);
  console.log('| model | gzipped | int8 per tensor, gzipped | per channel, gzipped | int8 per tensor, error ' +
      'median (max) | per channel, error median (max) | kept float16 |' +
      (calibrate > 0 ? ` calibrated (${calibrate} batches) per tensor | calibrated per channel |` : ''));
  console.log('| --- | --- | --- | --- | --- | --- | --- |' + (calibrate > 0 ? ' --- | --- |' : ''));
  for (const name of models) console.log(await measure(name, seeds, calibrate));
}

run().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
