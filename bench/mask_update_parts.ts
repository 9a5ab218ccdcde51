/**
 * Where the time of one mask update goes on wasm: the seed CNN's Dense kernel
 * (1600 x 256 = 409,600 weights) at 70% sparsity, the calls cycling through
 * eight sets of Gaussian weights, every part interleaved with one `tf.abs`.
 *
 *   npx tsx bench/mask_update_parts.ts [--rounds N]
 *
 * Parts: the two passes of src/kernels/wasm/magnitude.wat alone (the
 * bracket pass with a bracket of 8.6% of the weights around the 70% rank, what
 * the first sample of 1,024 gives; the cut pass writing mask and masked
 * weight), the whole kernel (`wasmMagnitudeCut`: sample, passes, selection
 * inside the bracket, three outputs) and `PruneLowMagnitude.updateMasks`
 * (the kernel, plus storing the mask, the threshold and the weight).
 */
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as os from 'node:os';
import {parseArgs} from 'node:util';

import {ConstantSparsity, PruneLowMagnitude, pruneLowMagnitude} from '../src';
import {keepCount} from '../src/sparsity/pruning_impl';
import {type MagnitudeExports as Passes, wasmMagnitudeCut} from '../src/kernels/kernels/TfmotMagnitudeCut';
import {MAGNITUDE_WASM} from '../src/kernels/wasm/magnitude_module';
import {cpuModel} from './machine';
import {Contender, interleave} from './suite/harness';

const ROWS = 1600;
const UNITS = 256;
const N = ROWS * UNITS;
const SPARSITY = 0.7;
const SETS = 8;


interface Heap {
  wasm: {HEAPU8: Uint8Array; _malloc(bytes: number): number; _free(pointer: number): void; asm: {memory: WebAssembly.Memory}};
  dataIdMap: {get(dataId: object): {memoryOffset: number}};
}

async function main(): Promise<void> {
  const {values} = parseArgs({options: {rounds: {type: 'string', default: '40'}}});
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer, but got ${values.rounds}.`);
  await tf.setBackend('wasm');
  await tf.ready();
  const heap = tf.backend() as unknown as Heap;
  const passes = new WebAssembly.Instance(new WebAssembly.Module(MAGNITUDE_WASM), {env: {memory: heap.wasm.asm.memory}})
      .exports as unknown as Passes;
  const weights = Array.from({length: SETS}, (_, i) => tf.randomNormal([ROWS, UNITS], 0, 0.05, 'float32', 11 + i));
  const k = keepCount(N, SPARSITY);
  const brackets = weights.map((w) => {
    const sorted = (w.dataSync() as Float32Array).map(Math.abs).sort();
    const bits = (v: number) => new Uint32Array(new Float32Array([v]).buffer)[0];
    return {lo: bits(sorted[Math.floor(N * (SPARSITY - 0.043))]), hi: bits(sorted[Math.floor(N * (SPARSITY + 0.043))]), threshold: bits(sorted[N - k])};
  });
  const table = heap.wasm._malloc(256);
  heap.wasm.HEAPU8.fill(0, table, table + 256);
  passes.initTable(table);
  const out = heap.wasm._malloc((N + 4) * 4);
  const mask = heap.wasm._malloc(N * 4);
  const masked = heap.wasm._malloc(N * 4);

  const source = tfl.sequential({layers: [tfl.layers.dense({units: UNITS, inputShape: [ROWS]})]});
  const model = pruneLowMagnitude(source, {pruningSchedule: new ConstantSparsity({targetSparsity: SPARSITY, beginStep: 0})});
  source.dispose();
  const wrapper = model.layers[0] as PruneLowMagnitude;
  const target = wrapper.getPrunedWeights()[0].weight;

  let next = 0;
  let current = 0;
  const rotate = () => {
    current = next++ % SETS;
  };
  const offset = () => heap.dataIdMap.get(weights[current].dataId).memoryOffset;
  const parts: Contender[] = [
    {name: 'tf.abs', beforeEach: rotate, fn: () => tf.abs(weights[current]).dispose()},
    {name: 'bracket pass', beforeEach: rotate, fn: () => {
      const {lo, hi} = brackets[current];
      passes.bracket(offset(), N, lo, hi, out, table);
    }},
    {name: 'cut pass', beforeEach: rotate, fn: () => passes.cut(offset(), N, brackets[current].threshold, mask, masked)},
    {name: 'wasmMagnitudeCut', beforeEach: rotate, fn: () => {
      const cut = wasmMagnitudeCut(weights[current], k, 'kernel')!;
      tf.dispose([cut.mask, cut.masked, cut.threshold]);
    }},
    {name: 'updateMasks', beforeEach: () => {
      rotate();
      const copy = weights[current].clone();
      target.write(copy);
      copy.dispose();
    }, fn: () => wrapper.updateMasks(SPARSITY)},
  ];
  const measured = await interleave(parts, {warmup: 50, rounds, perRound: 25});
  const abs = measured.times['tf.abs'].median;
  console.log(`${os.cpus().length} x ${cpuModel()}, Node ${process.version}, tfjs ${tf.version_core}, load average ` +
      `${os.loadavg()[0].toFixed(2)}; ${rounds} rounds of 25 calls each, medians`);
  console.log('part                 ms       x tf.abs');
  for (const part of parts) {
    const ms = measured.times[part.name].median;
    console.log(`${part.name.padEnd(20)} ${ms.toFixed(4).padStart(7)}  ${(ms / abs).toFixed(2).padStart(6)}`);
  }
  heap.wasm._free(out);
  heap.wasm._free(mask);
  heap.wasm._free(masked);
  tf.dispose(weights);
  model.dispose();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
