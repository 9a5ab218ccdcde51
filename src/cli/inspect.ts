/// <reference types="node" />
// (The build type-checks with no ambient types; the command line needs Node's.)
/**
 * `tfjs-model-optimization inspect <model.json>`: the format, every weight
 * (shape, dtype, storage, sparsity, size), the gzipped size, and what each
 * quantization would give.
 */
import type * as tf from '@tensorflow/tfjs-core';

import {quantizeArtifacts} from '../artifacts/quantize_artifacts';
import type {QuantizeArtifactsOptions} from '../artifacts/quantize_artifacts';
import {ModelReport, describeModel} from '../artifacts/weight_report';
import {gzippedModelSize} from './gzip_size';
import {CliError, CliIO, Command, PROGRAM, oneLine, parseCommandArgs, positionals} from './command';
import {formatBytes, formatPercent, formatRatio, formatTable} from './format';
import {startProgress} from './progress';
import {readModel} from './read_model';

const NAME = 'inspect';
const SUMMARY = 'describe a model: weights, storage, sparsity, gzipped size, what quantization would give';

/** The quantizations whose sizes inspect estimates. */
const ESTIMATES: ReadonlyArray<{label: string; options: QuantizeArtifactsOptions}> = [
  {label: 'int8 per tensor', options: {dtype: 'int8'}},
  {label: 'int8 per channel', options: {dtype: 'int8', perChannel: true}},
  {label: 'uint8 per tensor', options: {dtype: 'uint8'}},
  {label: 'float16', options: {dtype: 'float16'}},
];

const HELP = `Usage: ${PROGRAM} inspect <model.json> [--json]

Describes a model (layers or graph format): every weight with its shape, dtype,
storage (float32, or how it is quantized), what uses it, its sparsity and size;
the gzipped size of model.json plus weights; and the gzipped size each
quantization (default options) would give.

Arguments:
  <model.json>   the model's JSON file (any name), or a folder holding model.json

Options:
  --json         print the report as JSON
  -h, --help     show this help`;

/** What inspect reports. */
interface Report extends ModelReport {
  file: string;
  gzippedBytes: number;
  quantized: Array<{label: string; gzippedBytes: number; ratio: number}>;
}

async function estimate(artifacts: tf.io.ModelArtifacts, io: CliIO, file: string): Promise<Report['quantized']> {
  const before = await gzippedModelSize(artifacts);
  const bar = startProgress(io, 'estimating');
  try {
    const results: Report['quantized'] = [];
    for (const [i, {label, options}] of ESTIMATES.entries()) {
      let quantized: tf.io.ModelArtifacts;
      try {
        quantized = await quantizeArtifacts(artifacts, options);
      } catch (e) {
        io.err(`${file}: ${label} is not possible: ${oneLine(e)}`);
        continue;
      }
      const size = await gzippedModelSize(quantized);
      results.push({label, gzippedBytes: size, ratio: before / size});
      bar.update(i + 1, ESTIMATES.length);
    }
    return results;
  } finally {
    bar.stop();
  }
}

function printReport(report: Report, io: CliIO): void {
  const quantized = report.weights.filter((w) => w.storage !== 'none').length;
  io.out(`${report.file}: ${report.format} model, ${report.weights.length} weights ` +
      `(${quantized} quantized), ${formatBytes(report.weightBytes)} of weight data`);
  io.out('');
  const rows = [['name', 'shape', 'dtype', 'storage', 'used by', 'sparsity', 'size']];
  for (const w of report.weights) {
    rows.push([w.name, `[${w.shape.join(', ')}]`, w.dtype, w.storage, w.usedBy, formatPercent(w.sparsity), formatBytes(w.bytes)]);
  }
  io.out(formatTable(rows, [5, 6]));
  io.out('');
  io.out(`gzipped size: ${formatBytes(report.gzippedBytes)} (model.json + weights, zlib level 9)`);
  io.out('if quantized (default options: weights of 1024+ elements, biases kept):');
  io.out(formatTable(report.quantized.map((q) => [`  ${q.label}`, formatBytes(q.gzippedBytes),
    `${formatRatio(report.gzippedBytes, q.gzippedBytes)} smaller`]), [1]));
}

async function run(args: string[], io: CliIO): Promise<number> {
  const {values, positionals: given} = parseCommandArgs(NAME, args, {
    json: {type: 'boolean'},
    help: {type: 'boolean', short: 'h'},
  });
  if (values.help) {
    io.out(HELP);
    return 0;
  }
  const [input] = positionals(NAME, given, ['model.json']);
  const {file, artifacts} = await readModel(input);
  let described: ModelReport;
  try {
    described = describeModel(file, artifacts);
  } catch (e) {
    throw new CliError(oneLine(e));
  }
  const report: Report = {
    file, ...described, gzippedBytes: await gzippedModelSize(artifacts),
    quantized: await estimate(artifacts, io, file),
  };
  if (values.json) {
    io.out(JSON.stringify(report, null, 2));
  } else {
    printReport(report, io);
  }
  return 0;
}

/** The `inspect` command. */
export const inspectCommand: Command = {name: NAME, summary: SUMMARY, help: HELP, run};
