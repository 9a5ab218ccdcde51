/// <reference types="node" />
// (The build type-checks with no ambient types; the command line needs Node's.)
/**
 * `tfjs-model-optimization quantize <model.json> <out-dir>`: quantizeArtifacts
 * from the command line, written atomically into `<out-dir>`.
 */
import * as tf from '@tensorflow/tfjs-core';

import {quantizeArtifacts} from '../artifacts/quantize_artifacts';
import type {QuantizeArtifactsOptions} from '../artifacts/quantize_artifacts';
import {gzippedModelSize} from './gzip_size';
import {CODECS, codecNamed} from '../quantization/codecs';
import {
  CliIO,
  Command,
  PROGRAM,
  UsageError,
  excludeValues,
  numberOption,
} from './command';
import {randomCalibrationInputs} from './calibration_inputs';
import {formatBytes, formatRatio} from './format';
import {parseTransformArgs, transformModel} from './transform_model';

const NAME = 'quantize';
const SUMMARY = 'quantize a model\'s weights (int8, uint8, uint16, float16; per tensor or per channel)';
const DTYPES: readonly string[] = CODECS.map((codec) => codec.name);

const HELP = `Usage: ${PROGRAM} quantize <model.json> <out-dir> [options]

Quantizes the weights of a model (layers or graph format, e.g. from
tfjs-converter) and writes model.json and one weights file into <out-dir>.
Weights tfjs-converter already quantized (float16, uint8) are decoded first.
Biases and weights under --min-elements keep their encoding. Activations stay
float32: only the files shrink.

Arguments:
  <model.json>            the model's JSON file (any name), or a folder holding model.json
  <out-dir>               the folder to write (created if missing)

Options:
  --dtype <type>          int8 (default; symmetric, 1 byte), uint8 (affine, 1 byte),
                          uint16 (2 bytes) or float16 (2 bytes)
  --per-channel           one scale per output channel of each kernel (not with float16);
                          load the result with loadQuantizedGraphModel or
                          loadQuantizedLayersModel instead of tf.loadGraphModel
  --min-elements <n>      weights with fewer elements keep their encoding (default 1024)
  --exclude <name>        keep a weight (by name, or a layer's name) as it is; /regex/ for a
                          pattern; repeatable
  --calibrate <n>         int8 only: round each kernel by GPTQ so that its op's outputs on <n>
                          batches of seeded random inputs (8 samples each where the batch size
                          is open) move least; slower (runs the model on the cpu backend)
  --calibrate-range <lo,hi>
                          the range of the random inputs (default 0,1: images scaled to [0, 1])
  --force                 replace a model already in <out-dir>
  -h, --help              show this help`;

function options(command: string, values: Record<string, string | boolean | string[] | undefined>):
    QuantizeArtifactsOptions {
  const dtype = (values['dtype'] ?? 'int8') as string;
  const codec = codecNamed(dtype);
  if (codec === undefined) {
    throw new UsageError(`${command}: --dtype must be one of ${DTYPES.join(', ')}, but got ${JSON.stringify(dtype)}`);
  }
  const perChannel = values['per-channel'] === true;
  if (perChannel && codec.perChannel === null) {
    throw new UsageError(`${command}: --per-channel cannot be used with --dtype ${dtype} (${dtype} has no scale)`);
  }
  const minElements = values['min-elements'] === undefined ? 1024 : numberOption(command, 'min-elements',
      values['min-elements'] as string, (n) => Number.isInteger(n) && n >= 0, 'an integer >= 0');
  return {
    dtype: codec.name, perChannel, minElements,
    exclude: excludeValues(command, values['exclude'] as string[] | undefined),
  };
}

/** `--calibrate` and `--calibrate-range`: the number of batches (0: none) and the range. */
function calibrationFlags(command: string, dtype: string, values: Record<string, unknown>):
    {batches: number; range: [number, number]} {
  const given = values['calibrate'] as string | undefined;
  const rangeText = values['calibrate-range'] as string | undefined;
  if (given === undefined) {
    if (rangeText !== undefined) throw new UsageError(`${command}: --calibrate-range needs --calibrate <n>`);
    return {batches: 0, range: [0, 1]};
  }
  if (dtype !== 'int8') throw new UsageError(`${command}: --calibrate rounds int8 codes; it cannot be used with --dtype ${dtype}`);
  const batches = numberOption(command, 'calibrate', given, (n) => Number.isInteger(n) && n >= 1 && n <= 10000,
      'an integer from 1 to 10000');
  const parts = (rangeText ?? '0,1').split(',').map((p) => (p.trim() === '' ? NaN : Number(p)));
  if (parts.length !== 2 || !parts.every(Number.isFinite) || !(parts[0] < parts[1])) {
    throw new UsageError(`${command}: --calibrate-range must be two numbers lo,hi with lo < hi, but got ` +
        `${JSON.stringify(rangeText)}`);
  }
  return {batches, range: [parts[0], parts[1]]};
}

async function run(args: string[], io: CliIO): Promise<number> {
  const parsed = parseTransformArgs(NAME, HELP, args, io, {
    'dtype': {type: 'string'},
    'per-channel': {type: 'boolean'},
    'min-elements': {type: 'string'},
    'calibrate': {type: 'string'},
    'calibrate-range': {type: 'string'},
  });
  if (parsed === null) return 0;
  const resolved = options(NAME, parsed.values);
  const calibration = calibrationFlags(NAME, resolved.dtype!, parsed.values);
  const fallbacks: Array<{name: string; int8Error: number}> = [];
  const {artifacts, result: quantized, written} = await transformModel(io, parsed.input, parsed.outDir, parsed.force,
      'quantizing', 'quantizeArtifacts', async (model, onProgress) => {
        const inputs = calibration.batches === 0 ? undefined :
          await randomCalibrationInputs(NAME, model, calibration.batches, calibration.range);
        try {
          return await quantizeArtifacts(model, {...resolved, onProgress, onFloat16Fallback: (w) => fallbacks.push(w),
            ...(inputs === undefined ? {} : {calibration: {inputs}})});
        } finally {
          if (inputs !== undefined) tf.dispose(inputs as tf.TensorContainer);
        }
      });
  const changed = quantized.weightSpecs!.filter((spec, i) =>
    JSON.stringify(spec.quantization) !== JSON.stringify(artifacts.weightSpecs![i].quantization)).length;
  const before = await gzippedModelSize(artifacts);
  const after = await gzippedModelSize(quantized);
  // A codec without a per-channel form (float16) has nothing to say per tensor either.
  const layout = resolved.perChannel ? ' per channel' : codecNamed(resolved.dtype)?.perChannel === null ? '' : ' per tensor';
  const calibrated = calibration.batches === 0 ? '' :
    `, calibrated on ${calibration.batches} random batch${calibration.batches === 1 ? '' : 'es'}`;
  io.out(`${written}: ${changed} of ${quantized.weightSpecs!.length} weights quantized ` +
      `(${resolved.dtype}${layout}${calibrated}); ` +
      `gzipped ${formatBytes(before)} -> ${formatBytes(after)} (${formatRatio(before, after)} smaller)`);
  for (const w of fallbacks) {
    io.out(`kept in float16: ${w.name} (int8 would lose ${(100 * w.int8Error).toFixed(1)}% of its median channel)`);
  }
  if (resolved.perChannel) {
    const loader = quantized.format === 'graph-model' ? 'loadQuantizedGraphModel' : 'loadQuantizedLayersModel';
    io.out(`load it with ${loader} from ${PROGRAM} (stock tfjs loaders reject per-channel weights)`);
  }
  return 0;
}

/** The `quantize` command. */
export const quantizeCommand: Command = {name: NAME, summary: SUMMARY, help: HELP, run};
