/**
 * The benchmark suite: what pruning and quantization cost, each figure a
 * ratio against a baseline measured in the same run, on the wasm and cpu
 * backends (with registerTrainingKernels).
 *
 *   npm run bench [-- --quick | --smoke] [--out FILE] [--backends wasm,cpu] [--only GROUP,...] [--wasm-threads N]
 *   npx tsx bench/index.ts --quick
 *
 * Groups: training, mask-update, quantization, sizes, inference, channels
 * (channel pruning: shrunk models against the original and against the same
 * architecture built at the smaller widths, at batch 1 and 32), sparse-kernels
 * (registerSparseKernels against the stock kernels). `--quick`
 * (smaller sizes, fewer rounds) proves the suite works in a few minutes;
 * `--smoke` is smaller still. Prints a table and writes every figure, with
 * its median, spread, target and the measurements behind it, plus the
 * machine and the tfjs versions, to bench/results.json (or FILE).
 * `--wasm-threads N` starts the wasm backend with tfjs-backend-wasm's
 * threaded build and N threads (useWasmThreads); the targets were set for 1.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {fileURLToPath} from 'node:url';

import {version_cpu} from '@tensorflow/tfjs-backend-cpu';
import {version_wasm} from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {registerTrainingKernels} from '../src';
import {useWasmThreads} from '../src/node';
import {measureChannels} from './suite/channels';
import {Backend, Figure, Mode, Settings, settingsFor} from './suite/figures';
import {measureInference} from './suite/inference';
import {measureMaskUpdate} from './suite/mask_update';
import {measureQuantization} from './suite/quantization';
import {measureSizes} from './suite/sizes';
import {measureSparseKernels} from './suite/sparse_kernels';
import {measureTraining} from './suite/training';
import {measureTrainingBatchNorm} from './suite/training_bn';
import {measureClustering} from './clustering';
import {cpuModel} from './machine';

type Group = (backend: Backend, settings: Settings) => Promise<Figure[]>;

const GROUPS: Record<string, Group> = {
  'training': measureTraining,
  'training-bn': measureTrainingBatchNorm,
  'mask-update': measureMaskUpdate,
  'inference': measureInference,
  'sizes': (backend) => measureSizes(backend),
  'quantization': measureQuantization,
  'channels': measureChannels,
  'sparse-kernels': measureSparseKernels,
  'clustering': measureClustering,
};

interface Options {
  mode: Mode;
  /** Threads of the wasm backend (useWasmThreads); 1: tfjs's usual single-threaded build. */
  wasmThreads: number;
  out: string;
  backends: Backend[];
  groups: string[];
}

function parseArgs(argv: readonly string[]): Options {
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    if (i === -1) return undefined;
    if (i + 1 >= argv.length) throw new Error(`bench: ${flag} needs a value.`);
    return argv[i + 1];
  };
  const valued = ['--out', '--backends', '--only', '--wasm-threads'];
  const known = new Set(['--quick', '--smoke', ...valued]);
  argv.forEach((arg, i) => {
    if (arg.startsWith('--') && !known.has(arg)) throw new Error(`bench: unknown option ${arg}.`);
    if (!arg.startsWith('--') && !valued.includes(argv[i - 1])) {
      throw new Error(`bench: unexpected argument ${arg}.`);
    }
  });
  const mode: Mode = argv.includes('--smoke') ? 'smoke' : argv.includes('--quick') ? 'quick' : 'full';
  const backends = (value('--backends') ?? 'wasm,cpu').split(',') as Backend[];
  for (const backend of backends) {
    if (backend !== 'wasm' && backend !== 'cpu') throw new Error(`bench: unknown backend ${backend}.`);
  }
  const groups = (value('--only') ?? Object.keys(GROUPS).join(',')).split(',');
  for (const group of groups) {
    if (!(group in GROUPS)) throw new Error(`bench: unknown group ${group}; the groups are ${Object.keys(GROUPS).join(', ')}.`);
  }
  const wasmThreads = Number(value('--wasm-threads') ?? 1);
  if (!Number.isInteger(wasmThreads) || wasmThreads < 1) throw new Error(`bench: --wasm-threads must be a positive integer.`);
  const here = path.dirname(fileURLToPath(import.meta.url));
  return {mode, wasmThreads, out: path.resolve(value('--out') ?? path.join(here, 'results.json')), backends, groups};
}


const load = () => os.loadavg().map((l) => Number(l.toFixed(2)));

/** A figure's number with the digits its size deserves (`1.03`, `32.9`, `652`; sizes relative to a bound: `1.211`). */
function digits(value: number, unit: string): string {
  if (unit === 'of bound') return value.toFixed(3);
  return value.toFixed(value >= 100 ? 0 : value >= 10 ? 1 : 2);
}

/** `1.03x`, `32.9x faster`, `652 MB/s`, `1.211 of bound`. */
function format(value: number, unit: string): string {
  return `${digits(value, unit)}${unit.startsWith('x') ? '' : ' '}${unit}`;
}

/** `0.98 - 1.07x`, `31.5 - 34.3x`, `600 - 700 MB/s`. */
function formatRange(low: number, high: number, unit: string): string {
  const suffix = unit.startsWith('x') ? 'x' : ` ${unit}`;
  return `${digits(low, unit)} - ${digits(high, unit)}${suffix}`;
}

function printTable(figures: readonly Figure[]): void {
  const rows = figures.map((f) => [
    f.backend, f.id, format(f.median, f.unit),
    formatRange(f.spread.p25, f.spread.p75, f.unit), String(f.spread.samples),
    f.target?.text ?? '(reported)', f.met === null ? '' : f.met ? 'met' : 'MISSED',
  ]);
  const header = ['backend', 'figure', 'median', 'p25 - p75', 'n', 'target', ''];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (row: string[]) => row.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd();
  console.log([line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n'));
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const machine = {
    cpus: os.cpus().length, cpuModel: cpuModel(), memoryGB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    platform: `${os.platform()} ${os.arch()}`, node: process.version, loadAverageAtStart: load(),
    wasmThreads: options.wasmThreads,
  };
  registerTrainingKernels();
  if (options.wasmThreads > 1 && options.backends.includes('wasm')) await useWasmThreads({threads: options.wasmThreads});
  const figures: Figure[] = [];
  for (const backend of options.backends) {
    await tf.setBackend(backend);
    const settings = settingsFor(options.mode, backend);
    for (const name of options.groups) {
      const groupStart = performance.now();
      const tensorsBefore = tf.memory().numTensors;
      figures.push(...await GROUPS[name](backend, settings));
      const leaked = tf.memory().numTensors - tensorsBefore;
      console.error(`[bench] ${backend} ${name}: ${((performance.now() - groupStart) / 1000).toFixed(1)} s` +
          (leaked === 0 ? '' : ` (${leaked} tensors left behind)`));
    }
  }
  const results = {
    mode: options.mode,
    command: ['npx tsx bench/index.ts', ...process.argv.slice(2)].join(' '),
    date: new Date().toISOString(),
    machine: {...machine, loadAverageAtEnd: load()},
    tfjs: {core: tf.version_core, layers: tfl.version_layers, backendWasm: version_wasm, backendCpu: version_cpu},
    backends: options.backends,
    seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
    figures,
  };
  fs.mkdirSync(path.dirname(options.out), {recursive: true});
  fs.writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`${machine.cpus} x ${machine.cpuModel}, Node ${machine.node}, tfjs ${tf.version_core}, ` +
      (options.wasmThreads > 1 ? `wasm with ${options.wasmThreads} threads, ` : '') +
      `${options.mode} run, ${results.seconds} s, load average ${machine.loadAverageAtStart[0]} -> ${results.machine.loadAverageAtEnd[0]}`);
  printTable(figures);
  console.log(`(written to ${path.relative(process.cwd(), options.out)})`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
