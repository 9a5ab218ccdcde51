/**
 * A manual check of the wasm mask update (src/kernels/kernels/TfmotMagnitudeCut.ts)
 * on a big heap, too big for jest: it needs about 3.5 GB of memory and a
 * minute.
 *
 *   npx tsx bench/wasm_heap_above_2gib.ts [--case above-2gib|heap-full]
 *
 * Each case runs in a Node process of its own (a wasm heap never shrinks),
 * both by default:
 *
 * - above-2gib: 2.25 GiB of other tensors first, then a pruned Dense layer of
 *   5000 x 4000 = 20M weights, so that its kernel, the kernel's outputs and its
 *   scratch all lie above 2^31, where Emscripten's `_malloc` returns a negative
 *   int32. `PruneLowMagnitude.updateMasks(0.7)` must resolve with the portable
 *   path's result, and `wasmMagnitudeCut` must equal `cutAtThreshold` bit for bit.
 * - heap-full: a pruned Dense layer of 10000 x 10000 = 100M weights, then
 *   blocks of 64 MiB (standing in for other tensors) until the heap, which
 *   cannot grow past 4 GiB, has room for the kernel's two outputs (400 MB
 *   each) but not for its scratch (800 MB): `_malloc` returns 0 for it. `updateMasks` must still
 *   resolve with the portable path's result, leave the heap intact (the first
 *   KiB, below Emscripten's static data, is what a write at address 0 would
 *   change first) and leave tfjs working.
 *
 * "The portable path's result" is computed in JavaScript from the values the
 * kernel was given: the threshold of `kthLargestMagnitude`, `mask = |w| >=
 * threshold`, `masked = mask ? w : +0`.
 */
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {spawnSync} from 'node:child_process';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';

import {ConstantSparsity, PruneLowMagnitude, pruneLowMagnitude} from '../src';
import {cutAtThreshold, keepCount, kthLargestMagnitude} from '../src/sparsity/pruning_impl';
import {wasmMagnitudeCut} from '../src/kernels/kernels/TfmotMagnitudeCut';

const CASES = ['above-2gib', 'heap-full'] as const;
type Case = (typeof CASES)[number];
const SPARSITY = 0.7;
const MIB = 2 ** 20;
const ABS = 0x7fffffff;

interface Heap {
  wasm: {HEAPU8: Uint8Array; _malloc(bytes: number): number; _free(pointer: number): void};
  dataIdMap: {get(dataId: object): {memoryOffset: number}};
}

const heap = () => tf.backend() as unknown as Heap;
const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;
const bitsOf = (values: Float32Array) => new Uint32Array(values.buffer, values.byteOffset, values.length);

function check(condition: boolean, what: string): void {
  console.log(`  ${condition ? 'ok  ' : 'FAIL'} ${what}`);
  if (!condition) process.exitCode = 1;
}

/** Uniform weights in (-1, 1) with a fixed seed (xorshift32; Math.random would not repeat). */
function weights(n: number): Float32Array {
  const values = new Float32Array(n);
  let state = 0x2545f491;
  for (let i = 0; i < n; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    values[i] = (state | 0) / 2 ** 31;
  }
  return values;
}

/** A pruned `rows x units` Dense layer (no bias) whose kernel holds `values`. */
function prunedDense(rows: number, units: number, values: Float32Array) {
  const source = tfl.sequential({layers: [tfl.layers.dense({units, inputShape: [rows], useBias: false, kernelInitializer: 'zeros'})]});
  const model = pruneLowMagnitude(source, {pruningSchedule: new ConstantSparsity({targetSparsity: SPARSITY, beginStep: 0})});
  source.dispose();
  const wrapper = model.layers[0] as PruneLowMagnitude;
  const pruned = wrapper.getPrunedWeights()[0];
  const kernel = tf.tensor(values, [rows, units], 'float32');
  pruned.weight.write(kernel);
  kernel.dispose();
  return {model, wrapper, ...pruned};
}

/** Every `_malloc` while `run` runs: the size asked for and what `_malloc` returned, as it returned it. */
async function recordMallocs<T>(run: () => Promise<T> | T): Promise<{result: T; calls: Array<[number, number]>}> {
  const {wasm} = heap();
  const malloc = wasm._malloc;
  const calls: Array<[number, number]> = [];
  wasm._malloc = (bytes: number) => {
    const pointer = malloc(bytes);
    calls.push([bytes, pointer]);
    return pointer;
  };
  try {
    return {result: await run(), calls};
  } finally {
    wasm._malloc = malloc;
  }
}

/** The first index where the mask, the masked weight or the threshold differs from the portable rule, or 'none'. */
function differenceFromPortable(values: Float32Array, k: number, mask: Float32Array, masked: Float32Array, threshold: number): string {
  const expected = kthLargestMagnitude(values, k, 'kernel').bits;
  const got = bitsOf(new Float32Array([threshold]))[0];
  if (got !== expected) return `threshold ${got} vs ${expected}`;
  const w = bitsOf(values);
  const maskBits = bitsOf(mask);
  const maskedBits = bitsOf(masked);
  for (let i = 0; i < values.length; i++) {
    const keep = (w[i] & ABS) >= expected;
    if (maskBits[i] !== (keep ? 0x3f800000 : 0)) return `mask[${i}]`;
    if (maskedBits[i] !== (keep ? w[i] : 0)) return `masked[${i}]`;
  }
  return 'none';
}

/** Runs `updateMasks` and checks the mask, the weight and the threshold against the portable rule. */
async function updateAndCompare(layer: ReturnType<typeof prunedDense>, values: Float32Array): Promise<void> {
  const k = keepCount(values.length, SPARSITY);
  const start = performance.now();
  const {calls} = await recordMallocs(() => layer.wrapper.updateMasks(SPARSITY));
  console.log(`  updateMasks(${SPARSITY}) resolved in ${((performance.now() - start) / 1000).toFixed(1)} s; its _malloc calls ` +
      `(bytes -> as returned): ${calls.map(([bytes, pointer]) => `${bytes} -> ${pointer}`).join(', ')}`);
  const difference = differenceFromPortable(values, k, layer.mask.read().dataSync() as Float32Array,
      layer.weight.read().dataSync() as Float32Array, layer.threshold.read().dataSync()[0]);
  check(difference === 'none', `mask, masked weight and threshold are the portable path's (first difference: ${difference})`);
}

/**
 * tfjs still works: a new tensor and an op on it, and reductions over the new
 * mask (min and max: a float32 sum of 100M ones would stop at 2^24).
 */
function checkTfjsWorks(mask: tf.Tensor): void {
  const results = tf.tidy(() => [tf.add(tf.tensor([1, -2]), 2), tf.min(mask), tf.max(mask)].map((t) => Array.from(t.dataSync())));
  check(JSON.stringify(results) === '[[3,0],[0],[1]]', `later tfjs ops work ([1, -2] + 2, min and max of the mask: ${JSON.stringify(results)})`);
}

async function above2GiB(): Promise<void> {
  const others = Array.from({length: 9}, () => tf.zeros([64 * MIB], 'float32'));
  const values = weights(5000 * 4000);
  const layer = prunedDense(5000, 4000, values);
  const offset = heap().dataIdMap.get(layer.weight.read().dataId).memoryOffset;
  console.log(`  heap ${gib(heap().wasm.HEAPU8.length)}; the kernel is at byte ${offset} (${gib(offset)})`);
  check(offset >= 2 ** 31, 'the kernel lies above 2 GiB');
  await updateAndCompare(layer, values);
  checkTfjsWorks(layer.mask.read());

  // The kernel against the portable path on the same backend, bit for bit.
  const weight = layer.weight.read();
  const k = keepCount(weight.size, 0.5);
  const {result: fast, calls} = await recordMallocs(() => wasmMagnitudeCut(weight, k, 'kernel'));
  const portable = cutAtThreshold(weight, kthLargestMagnitude(weight.dataSync() as Float32Array, k, 'kernel'));
  const scratch = calls.find(([bytes]) => bytes > 4 * weight.size);
  check(scratch !== undefined && scratch[1] < 0, `the scratch's _malloc returned a negative int32 (${scratch?.[1]})`);
  const same = (a: tf.Tensor, b: tf.Tensor) => {
    const x = bitsOf(a.dataSync() as Float32Array);
    const y = bitsOf(b.dataSync() as Float32Array);
    return x.length === y.length && x.every((v, i) => v === y[i]);
  };
  check(fast !== null && same(fast.mask, portable.mask) && same(fast.masked, portable.masked),
      'wasmMagnitudeCut at sparsity 0.5 equals cutAtThreshold bit for bit');
  if (fast !== null) tf.dispose([fast.mask, fast.masked, fast.threshold]);
  tf.dispose([portable.mask, portable.masked, ...others]);
  layer.model.dispose();
}

async function heapFull(): Promise<void> {
  const n = 10000 * 10000;
  const values = weights(n);
  const layer = prunedDense(10000, 10000, values);
  const {wasm} = heap();
  const fits = (...sizes: number[]) => {
    const pointers = sizes.map((bytes) => wasm._malloc(bytes) >>> 0);
    for (const pointer of pointers) if (pointer !== 0) wasm._free(pointer);
    return pointers.every((pointer) => pointer !== 0);
  };
  // The kernel allocates its outputs (4n, 4n and 4 bytes), then its scratch of 8n + 512 bytes.
  const outputs = [4 * n, 4 * n, 4];
  const filler: number[] = [];
  while (fits(...outputs, 8 * n + 512)) {
    const block = wasm._malloc(64 * MIB) >>> 0;
    if (block === 0) break;
    filler.push(block);
  }
  while (!fits(...outputs) && filler.length > 0) wasm._free(filler.pop()!);
  console.log(`  heap ${gib(wasm.HEAPU8.length)} with ${filler.length} blocks of 64 MiB: room for the outputs ` +
      `${fits(...outputs)}, for the outputs and the scratch ${fits(...outputs, 8 * n + 512)}`);
  check(fits(...outputs) && !fits(...outputs, 8 * n + 512), 'the heap has room for the outputs but not for the scratch');
  const lowBytes = wasm.HEAPU8.slice(0, 1024);
  await updateAndCompare(layer, values);
  const now = heap().wasm.HEAPU8;
  check(lowBytes.every((byte, i) => now[i] === byte), 'the first KiB of the heap is unchanged (nothing was written at address 0)');
  checkTfjsWorks(layer.mask.read());
  for (const block of filler) wasm._free(block);
  layer.model.dispose();
}

async function runCase(name: Case): Promise<void> {
  await tf.setBackend('wasm');
  await tf.ready();
  console.log(`${name} (Node ${process.version}, tfjs ${tf.version_core}):`);
  await (name === 'above-2gib' ? above2GiB() : heapFull());
  console.log(`  rss ${gib(process.memoryUsage().rss)}`);
}

async function main(): Promise<void> {
  const {values} = parseArgs({options: {case: {type: 'string'}}});
  if (values.case !== undefined) {
    if (!(CASES as readonly string[]).includes(values.case)) {
      throw new RangeError(`--case must be one of ${CASES.join(', ')}, but got "${values.case}".`);
    }
    await runCase(values.case as Case);
    return;
  }
  for (const name of CASES) {
    const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--case', name], {stdio: 'inherit'});
    if (child.status !== 0) {
      console.log(`  FAIL ${name} exited with ${child.status ?? child.signal}`);
      process.exitCode = 1;
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
