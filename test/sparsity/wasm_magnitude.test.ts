// The mask update on tfjs-backend-wasm (src/kernels/wasm, kernels/TfmotMagnitudeCut.ts): the passes of magnitude.wat on their own
// memory, and the kernel against the portable path (radix selection + device cut) on many kinds of
// weights. Every result must be bit for bit the portable one.
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {execFileSync} from 'node:child_process';
import * as path from 'node:path';
import fc from 'fast-check';

import {ConstantSparsity, PruneLowMagnitude, PruningError, pruneLowMagnitude} from '../../src';
import {cutAtThreshold, keepCount, kthLargestMagnitude} from '../../src/sparsity/pruning_impl';
import {heapAllocate, type MagnitudeExports as Passes, MAGNITUDE_CUT, wasmMagnitudeCut} from '../../src/kernels/kernels/TfmotMagnitudeCut';
import {MAGNITUDE_WASM, MAGNITUDE_WASM_SHARED} from '../../src/kernels/wasm/magnitude_module';


const ABS = 0x7fffffff;
const bitsOf = (values: Float32Array) => new Uint32Array(values.buffer, values.byteOffset, values.length);

/** A seeded generator (mulberry32), for weights that are the same on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Math's functions are slow when called through jest's sandbox: aliases are not.
const {sqrt, log, cos, PI} = Math;

function gaussian(n: number, seed: number, scale = 0.05): Float32Array {
  const next = random(seed);
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = scale * sqrt(-2 * log(1 - next())) * cos(2 * PI * next());
  return values;
}

describe('magnitude.wat on its own memory', () => {
  const layout = (n: number) => {
    const w = 1024;
    const out = w + 4 * n + 64;
    const mask = out + 4 * (n + 4) + 64;
    const masked = mask + 4 * n + 64;
    return {w, out, mask, masked, table: masked + 4 * n + 64, end: masked + 4 * n + 64 + 256 + 64};
  };

  const instantiate = (bytes: typeof MAGNITUDE_WASM, memory: WebAssembly.Memory) =>
    new WebAssembly.Instance(new WebAssembly.Module(bytes), {env: {memory}}).exports as unknown as Passes;

  /** Runs bracket and cut on `values` and returns what they wrote, checking that nothing else was touched. */
  function run(passes: Passes, memory: WebAssembly.Memory, values: Float32Array, lo: number, hi: number, threshold: number) {
    const n = values.length;
    const at = layout(n);
    const bytes = new Uint8Array(memory.buffer);
    bytes.fill(0xab);
    new Float32Array(memory.buffer, at.w, n).set(values);
    bytes.fill(0, at.table, at.table + 256);
    passes.initTable(at.table);
    const count = passes.bracket(at.w, n, lo, hi, at.out, at.table);
    passes.cut(at.w, n, threshold, at.mask, at.masked);
    // Outside the four arrays (with the 4 spare slots of `out`) and the table, every byte is as it was.
    const regions = [[at.w, at.w + 4 * n], [at.out, at.out + 4 * (n + 4)], [at.mask, at.mask + 4 * n],
      [at.masked, at.masked + 4 * n], [at.table, at.table + 256]];
    let untouched = true;
    for (let i = 0; i < at.end + 1024; i++) {
      if (!regions.some(([a, b]) => i >= a && i < b) && bytes[i] !== 0xab) untouched = false;
    }
    return {
      count, above: passes.above(), maxBits: passes.maxBits(), untouched,
      listed: Array.from(new Uint32Array(memory.buffer, at.out, count)),
      mask: Array.from(new Uint32Array(memory.buffer, at.mask, n)),
      masked: Array.from(new Uint32Array(memory.buffer, at.masked, n)),
      weights: Array.from(new Float32Array(memory.buffer, at.w, n)),
    };
  }

  function expected(values: Float32Array, lo: number, hi: number, threshold: number) {
    const bits = Array.from(bitsOf(values));
    const abs = bits.map((b) => b & ABS);
    return {
      count: abs.filter((b) => b > lo && b <= hi).length,
      above: abs.filter((b) => b > hi).length,
      maxBits: Math.max(0, ...abs),
      listed: abs.filter((b) => b > lo && b <= hi),
      mask: abs.map((b) => (b >= threshold ? 0x3f800000 : 0)),
      masked: bits.map((b, i) => (abs[i] >= threshold ? b : 0)),
    };
  }

  const memory = new WebAssembly.Memory({initial: 8});
  const passes = instantiate(MAGNITUDE_WASM, memory);

  // Lengths around the eight values of an iteration, values with both signs, -0, subnormals, ties.
  it.each([1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 64, 100, 1003])('bracket and cut %i values like a plain loop', (n) => {
    const next = random(n);
    const pool = [0, -0, 1e-45, -1e-45, 0.5, -0.5, 1, -1, 2, 3.4e38, -3.4e38];
    const values = Float32Array.from({length: n}, () => (next() < 0.3 ? pool[Math.floor(next() * pool.length)] : (next() - 0.5) * 4));
    const sorted = Array.from(bitsOf(values)).map((b) => b & ABS).sort((a, b) => a - b);
    for (const [lo, hi, threshold] of [
      [-1, 0x7f7fffff, sorted[Math.floor(n / 2)]],
      [sorted[Math.floor(n / 4)], sorted[Math.floor((3 * n) / 4)], sorted[n - 1]],
      [0, 0x3f800000, 0],
      [0x3f000000, 0x3f000000, 0x3f000001],
    ]) {
      const got = run(passes, memory, values, lo, hi, threshold);
      expect(got.untouched).toBe(true);
      expect(got.weights).toEqual(Array.from(values));
      expect({...got, untouched: undefined, weights: undefined}).toEqual({...expected(values, lo, hi, threshold)});
    }
  });

  it('reports the pattern of NaN and infinity as maxBits', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const values = gaussian(21, 3);
      values[13] = bad;
      const got = run(passes, memory, values, -1, 0x7f7fffff, 0);
      expect(got.maxBits).toBeGreaterThan(0x7f7fffff);
      // Non-finite values are above any finite `hi`.
      expect(got.above).toBe(1);
    }
  });

  it('runs the same on a shared memory (tfjs-backend-wasm with threads)', () => {
    const shared = new WebAssembly.Memory({initial: 8, maximum: 16, shared: true});
    expect(() => instantiate(MAGNITUDE_WASM, shared)).toThrow();
    const sharedPasses = instantiate(MAGNITUDE_WASM_SHARED, shared);
    const values = gaussian(777, 5);
    const sorted = Array.from(bitsOf(values)).map((b) => b & ABS).sort((a, b) => a - b);
    const got = run(sharedPasses, shared, values, sorted[300], sorted[400], sorted[350]);
    expect({...got, untouched: undefined, weights: undefined}).toEqual({...expected(values, sorted[300], sorted[400], sorted[350])});
  });

  it('addresses arrays above 2 GiB (given as negative i32s) and arrays that end at the top of a 4 GiB memory', () => {
    // 4 GiB of address space; only the pages written below are backed by memory.
    const big = new WebAssembly.Memory({initial: 65536});
    const bigPasses = instantiate(MAGNITUDE_WASM, big);
    const bytes = new Uint8Array(big.buffer);
    const guard = 64;
    for (const n of [1000, 1003]) {
      const next = random(n);
      const values = Float32Array.from({length: n}, () => (next() - 0.5) * 4);
      const sorted = Array.from(bitsOf(values)).map((b) => b & ABS).sort((a, b) => a - b);
      const [lo, hi, threshold] = [sorted[Math.floor(n / 4)], sorted[Math.floor((3 * n) / 4)], sorted[Math.floor(n / 2)]];
      // Every array just above 2^31, ascending; then the weights ending at 2^32 exactly, the others below them.
      const table = 2 ** 31 + guard;
      const masked = table + 256 + guard;
      const mask = masked + 4 * n + guard;
      const out = mask + 4 * n + guard;
      const above2GiB = {table, masked, mask, out, w: out + 4 * (n + 4) + guard};
      const w = 2 ** 32 - 4 * n;
      const top = {w, out: w - guard - 4 * (n + 4), mask: 0, masked: 0, table: 0};
      top.mask = top.out - guard - 4 * n;
      top.masked = top.mask - guard - 4 * n;
      top.table = top.masked - guard - 256;
      for (const {w, out, mask, masked, table} of [above2GiB, top]) {
        const regions: Array<[number, number]> = [[w, 4 * n], [out, 4 * (n + 4)], [mask, 4 * n], [masked, 4 * n], [table, 256]];
        for (const [start, length] of regions) bytes.fill(0xab, start - guard, Math.min(start + length + guard, 2 ** 32));
        new Float32Array(big.buffer, w, n).set(values);
        bytes.fill(0, table, table + 256);
        // The i32 that a pointer above 2 GiB is in JavaScript, as Emscripten's _malloc returns it.
        const i32 = (pointer: number) => pointer | 0;
        bigPasses.initTable(i32(table));
        const count = bigPasses.bracket(i32(w), n, lo, hi, i32(out), i32(table));
        bigPasses.cut(i32(w), n, threshold, i32(mask), i32(masked));
        const want = expected(values, lo, hi, threshold);
        expect({
          count, above: bigPasses.above(), maxBits: bigPasses.maxBits(),
          listed: Array.from(new Uint32Array(big.buffer, out, count)),
          mask: Array.from(new Uint32Array(big.buffer, mask, n)),
          masked: Array.from(new Uint32Array(big.buffer, masked, n)),
        }).toEqual(want);
        // The bytes around every array are untouched.
        for (const [start, length] of regions) {
          expect(bytes.subarray(start - guard, start).every((b) => b === 0xab)).toBe(true);
          expect(bytes.subarray(start + length, Math.min(start + length + guard, 2 ** 32))
              .every((b) => b === 0xab)).toBe(true);
        }
      }
    }
  });

  it('is the compilation of magnitude.wat (npm run build:wasm)', () => {
    const root = path.resolve(__dirname, '../..');
    const output = execFileSync(process.execPath, [path.join(root, 'node_modules/tsx/dist/cli.mjs'), 'scripts/build_wasm.ts', '--check'],
        {cwd: root, encoding: 'utf8'});
    expect(output).toContain('is up to date');
  });
});

describe('wasmMagnitudeCut', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  interface Cut {
    mask: Uint32Array;
    masked: Uint32Array;
    threshold: number;
  }

  /** The kernel's mask, masked weight and threshold, and the portable path's, as bit patterns. */
  function both(values: Float32Array, k: number, shape = [values.length]): {fast: Cut; portable: Cut} {
    const weight = tf.tensor(values, shape, 'float32');
    const fast = wasmMagnitudeCut(weight, k, 'weight "w"');
    if (fast === null) throw new Error('no fast path on wasm');
    const threshold = kthLargestMagnitude(values, k, 'weight "w"');
    const portable = cutAtThreshold(weight, threshold);
    const bits = (t: tf.Tensor) => bitsOf((t.dataSync() as Float32Array).slice());
    const result = {
      fast: {mask: bits(fast.mask), masked: bits(fast.masked), threshold: bits(fast.threshold)[0]},
      portable: {mask: bits(portable.mask), masked: bits(portable.masked), threshold: threshold.bits},
    };
    tf.dispose([weight, fast.mask, fast.masked, fast.threshold, portable.mask, portable.masked]);
    return result;
  }

  /** The first index where two cuts differ (-1: none); toEqual on 400,000-element arrays is slow. */
  function difference({fast, portable}: {fast: Cut; portable: Cut}): string {
    if (fast.threshold !== portable.threshold) return `threshold ${fast.threshold} vs ${portable.threshold}`;
    for (const key of ['mask', 'masked'] as const) {
      const a = fast[key];
      const b = portable[key];
      if (a.length !== b.length) return `${key} length`;
      for (let i = 0; i < a.length; i++) {
        if (a[i] !== b[i]) return `${key}[${i}]: ${a[i]} vs ${b[i]}`;
      }
    }
    return 'none';
  }

  const kept = (cut: Cut) => cut.mask.filter((b) => b !== 0).length;

  const kinds: Array<[string, (n: number) => Float32Array]> = [
    ['gaussian', (n) => gaussian(n, n)],
    ['70% exact zeros (a pruned weight)', (n) => gaussian(n, n + 1).map((v, i) => ((i * 7919) % 10 < 7 ? 0 : v))],
    ['quantized to 41 levels (many ties)', (n) => gaussian(n, n + 2).map((v) => Math.round(v * 400) / 400)],
    ['two values', (n) => Float32Array.from({length: n}, (_, i) => (i % 3 === 0 ? -0.25 : 0.125))],
    ['all equal', (n) => new Float32Array(n).fill(-0.5)],
    ['all zero, both signs', (n) => Float32Array.from({length: n}, (_, i) => (i % 2 ? 0 : -0))],
    ['ascending', (n) => Float32Array.from({length: n}, (_, i) => i / n)],
    ['descending', (n) => Float32Array.from({length: n}, (_, i) => (n - i) / n)],
    ['columns of scales 1e-3 to 1e3', (n) => gaussian(n, n + 3, 1).map((v, i) => v * [1e-3, 1e-2, 0.1, 1, 10, 100, 1e3][i % 7])],
    ['subnormals', (n) => gaussian(n, n + 4).map((v) => v * 1e-40)],
    ['90% zeros', (n) => gaussian(n, n + 5).map((v, i) => (i % 10 === 0 ? v : 0))],
  ];

  // 131,077: brackets inside the bracket, and a tail of 5 after the last eight; 20,003: one bracket;
  // 16,384 is the first size sampled; below it, and for 1,000, the radix selection runs in the kernel.
  describe.each([131077, 20003, 16384, 16383, 1000])('%i weights', (n) => {
    it.each(kinds)('%s: the portable path\'s mask, masked weight and threshold at several sparsities', (_, make) => {
      const values = make(n);
      for (const sparsity of [0, 0.1, 0.5, 0.7, 0.95, 0.999]) {
        expect(difference(both(values, keepCount(n, sparsity)))).toBe('none');
      }
    });
  });

  it('keeps exactly k at the extremes, k = 1 and k = n', () => {
    const values = gaussian(50000, 9);
    for (const k of [1, 2, 49999, 50000]) {
      const cuts = both(values, k, [250, 200]);
      expect(difference(cuts)).toBe('none');
      expect(kept(cuts.fast)).toBe(k);
    }
  });

  it('matches the portable path on arbitrary weights (property)', () => {
    fc.assert(fc.property(
        fc.integer({min: 1, max: 60000}), fc.integer({min: 0, max: 2 ** 31 - 1}), fc.double({min: 0, max: 0.999, noNaN: true}),
        fc.constantFrom(0, 0.5, 0.9), fc.constantFrom(1, 1e-3, 1e30),
        (n, seed, sparsity, zeros, scale) => {
          const next = random(seed);
          const values = gaussian(n, seed, scale).map((v) => (next() < zeros ? 0 : v));
          expect(difference(both(values, keepCount(n, sparsity)))).toBe('none');
        }), {seed: 20261124, numRuns: 40});
  });

  it('throws the portable path\'s PruningError for NaN and infinite weights, and leaks nothing', () => {
    for (const [bad, word] of [[NaN, 'NaN'], [Infinity, 'an infinite value'], [-Infinity, 'an infinite value']] as const) {
      for (const n of [100, 40000]) {
        const values = gaussian(n, 4);
        values[n - 7] = bad;
        const weight = tf.tensor(values);
        const before = tf.memory().numTensors;
        expect(() => wasmMagnitudeCut(weight, keepCount(n, 0.5), 'weight "w"')).toThrow(PruningError);
        expect(() => wasmMagnitudeCut(weight, keepCount(n, 0.5), 'weight "w"')).toThrow(
            `Cannot prune weight "w": it holds ${word} (at flat index ${n - 7}). Pruning needs finite weights; ` +
            'check the training for divergence.');
        expect(tf.memory().numTensors).toBe(before);
        weight.dispose();
      }
    }
    // Many NaNs: some are in the sample too.
    const values = gaussian(40000, 4).map((v, i) => (i % 7 === 3 ? NaN : v));
    const weight = tf.tensor(values);
    expect(() => wasmMagnitudeCut(weight, keepCount(40000, 0.5), 'weight "w"')).toThrow(
        'Cannot prune weight "w": it holds NaN (at flat index 3).');
    weight.dispose();
  });

  it('leaves the weight as it was, and allocates nothing that outlives its three outputs', () => {
    const values = gaussian(100000, 6);
    const weight = tf.tensor(values, [400, 250]);
    const backend = tf.backend() as unknown as {wasm: {HEAPU8: Uint8Array}};
    const cut = () => {
      const result = wasmMagnitudeCut(weight, keepCount(100000, 0.6), 'weight "w"')!;
      tf.dispose([result.mask, result.masked, result.threshold]);
    };
    cut();
    const tensors = tf.memory().numTensors;
    const heap = backend.wasm.HEAPU8.length;
    for (let i = 0; i < 50; i++) cut();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(backend.wasm.HEAPU8.length).toBe(heap);
    expect(Array.from(weight.dataSync())).toEqual(Array.from(values));
    const result = wasmMagnitudeCut(weight, 1, 'weight "w"')!;
    expect(result.mask.shape).toEqual([400, 250]);
    expect(result.masked.shape).toEqual([400, 250]);
    expect(result.threshold.shape).toEqual([]);
    tf.dispose([weight, result.mask, result.masked, result.threshold]);
  });

  it('registers its kernel on wasm only, and is not used on other backends or dtypes', async () => {
    const weight = tf.tensor([1, 2, 3, 4], [4], 'int32');
    expect(wasmMagnitudeCut(weight, 2, 'w')).toBeNull();
    weight.dispose();
    expect(tf.getKernel(MAGNITUDE_CUT, 'wasm')).toBeDefined();
    expect(tf.getKernel(MAGNITUDE_CUT, 'cpu')).toBeUndefined();
    await tf.setBackend('cpu');
    const onCpu = tf.tensor([1, -2, 3, -4]);
    expect(wasmMagnitudeCut(onCpu, 2, 'w')).toBeNull();
    onCpu.dispose();
    await tf.setBackend('wasm');
  });

  describe('on a full heap, and with pointers above 2 GiB (simulated by replacing _malloc)', () => {
    interface Module {
      HEAPU8: Uint8Array;
      _malloc(bytes: number): number;
      _free(pointer: number): void;
    }
    const moduleOf = () => (tf.backend() as unknown as {wasm: Module}).wasm;
    const n = 131077;

    /**
     * Runs `body` with the backend's `_malloc` replaced by `malloc` (given the real one); returns what `body`
     * returned and every pointer given to `_free`.
     */
    function withMalloc<T>(malloc: (bytes: number, real: (bytes: number) => number) => number, body: () => T) {
      const wasm = moduleOf();
      // Emscripten's first _malloc call replaces Module._malloc with the wasm export: have it happen now.
      wasm._free(wasm._malloc(16));
      const {_malloc: real, _free: free} = wasm;
      const freed: number[] = [];
      wasm._malloc = (bytes) => malloc(bytes, real);
      wasm._free = (pointer) => {
        freed.push(pointer);
        free(pointer);
      };
      try {
        return {result: body(), freed};
      } finally {
        wasm._malloc = real;
        wasm._free = free;
      }
    }

    /**
     * The first KiB of the heap, below Emscripten's static data: no correct program writes there, and a
     * _malloc result of 0 used as a pointer writes there first.
     */
    const lowBytes = () => Array.from(moduleOf().HEAPU8.subarray(0, 1024));

    /** tfjs still computes: a fresh op gives the right values. */
    function expectTfjsWorks(): void {
      const x = tf.tensor([1, -2, 3]);
      const y = tf.add(tf.abs(x), 1);
      expect(Array.from(y.dataSync())).toEqual([2, 3, 4]);
      tf.dispose([x, y]);
    }

    it.each([
      ['returns 0', () => 0],
      ['throws (a build that aborts)', () => {
        throw new Error('Aborted(OOM)');
      }],
    ])('finds the same mask with the radix selection when _malloc %s for the scratch', (_, refuse) => {
      const low = lowBytes();
      const tensors = tf.memory().numTensors;
      let refused = 0;
      for (const [, make] of kinds.slice(0, 3)) {
        for (const sparsity of [0.5, 0.9]) {
          const {freed} = withMalloc((bytes, real) => {
            // The scratch is the only request larger than the weight.
            if (bytes <= 4 * n) return real(bytes);
            refused++;
            return refuse();
          }, () => expect(difference(both(make(n), keepCount(n, sparsity)))).toBe('none'));
          expect(freed).not.toContain(0);
        }
      }
      expect(refused).toBe(6);
      expect(lowBytes()).toEqual(low);
      expect(tf.memory().numTensors).toBe(tensors);
      expectTfjsWorks();
    });

    it('lets PruneLowMagnitude.updateMasks resolve with the usual mask when the heap has no room for the scratch', async () => {
      const source = tfl.sequential({layers: [tfl.layers.dense({units: 512, inputShape: [300], kernelInitializer: 'zeros'})]});
      const model = pruneLowMagnitude(source, {pruningSchedule: new ConstantSparsity({targetSparsity: 0.8, beginStep: 0})});
      source.dispose();
      const wrapper = model.layers[0] as PruneLowMagnitude;
      const {weight, mask, threshold} = wrapper.getPrunedWeights()[0];
      const values = gaussian(300 * 512, 12);
      const update = async (malloc: (bytes: number, real: (bytes: number) => number) => number) => {
        const kernel = tf.tensor(values, [300, 512]);
        weight.write(kernel);
        kernel.dispose();
        // withMalloc's body is synchronous; the mask update runs before its first await.
        await withMalloc(malloc, () => wrapper.updateMasks(0.8)).result;
        return [weight, mask, threshold].map((v) => Array.from(bitsOf(v.read().dataSync() as Float32Array)));
      };
      const low = lowBytes();
      const withRoom = await update((bytes, real) => real(bytes));
      const full = await update((bytes, real) => (bytes > 4 * values.length ? 0 : real(bytes)));
      expect(full).toEqual(withRoom);
      expect(full[1].filter((b) => b !== 0)).toHaveLength(keepCount(values.length, 0.8));
      expect(lowBytes()).toEqual(low);
      model.dispose();
      expectTfjsWorks();
    });

    it('throws, writing nothing, when tfjs has no room for the mask and the masked weight', () => {
      const values = gaussian(n, 13);
      const weight = tf.tensor(values);
      const low = lowBytes();
      const tensors = tf.memory().numTensors;
      // tfjs-backend-wasm takes _malloc's 0 as the output's place.
      withMalloc((bytes, real) => (bytes === 4 * n ? 0 : real(bytes)), () => {
        expect(() => wasmMagnitudeCut(weight, keepCount(n, 0.5), 'weight "w"')).toThrow(
            `Cannot update the mask of weight "w": the wasm heap has no room for the mask and the masked weight (2 x ${4 * n} ` +
            'bytes). Dispose of unused tensors or models first.');
      });
      expect(tf.memory().numTensors).toBe(tensors);
      expect(lowBytes()).toEqual(low);
      expect(Array.from(weight.dataSync())).toEqual(Array.from(values));
      weight.dispose();
      expectTfjsWorks();
    });

    it('uses pointers above 2 GiB, which _malloc returns as negative numbers, as unsigned offsets', () => {
      const scratch: number[] = [];
      // p - 2^32 is p as an unsigned 32-bit integer (>>> 0), as a pointer at 2^31 + x is -2^31 + x.
      const {freed} = withMalloc((bytes, real) => {
        const pointer = real(bytes);
        if (bytes > 4 * n) scratch.push(pointer);
        return pointer - 2 ** 32;
      }, () => {
        for (const [, make] of kinds.slice(0, 3)) {
          for (const sparsity of [0.5, 0.9]) expect(difference(both(make(n), keepCount(n, sparsity)))).toBe('none');
        }
      });
      // The scratch of each cut is freed as the unsigned pointer (tfjs frees its tensors the same way).
      expect(scratch).toHaveLength(6);
      expect(freed).toEqual(expect.arrayContaining(scratch));
      expect(freed.every((pointer) => pointer > 0 && pointer < 2 ** 32)).toBe(true);
      expectTfjsWorks();
    });

    it('takes the portable path when a new backend has no room for its shuffle table, and tries again next time', async () => {
      // A new backend (a new heap) without an instance of magnitude.wat yet.
      const factory = tf.findBackendFactory('wasm');
      tf.removeBackend('wasm');
      tf.registerBackend('wasm', factory, 2);
      await tf.setBackend('wasm');
      const values = gaussian(40000, 14);
      const weight = tf.tensor(values);
      const low = lowBytes();
      const noTable = withMalloc((bytes, real) => (bytes === 256 ? 0 : real(bytes)),
          () => wasmMagnitudeCut(weight, keepCount(40000, 0.5), 'weight "w"'));
      expect(noTable.result).toBeNull();
      expect(lowBytes()).toEqual(low);
      // With room, and a table above 2 GiB (simulated): exact.
      const k = keepCount(40000, 0.5);
      const {result: cut} = withMalloc((bytes, real) => real(bytes) - 2 ** 32, () => wasmMagnitudeCut(weight, k, 'weight "w"'));
      expect(cut).not.toBeNull();
      const portable = cutAtThreshold(weight, kthLargestMagnitude(values, k));
      expect(Array.from(cut!.mask.dataSync())).toEqual(Array.from(portable.mask.dataSync()));
      expect(Array.from(cut!.masked.dataSync())).toEqual(Array.from(portable.masked.dataSync()));
      tf.dispose([weight, cut!.mask, cut!.masked, cut!.threshold, portable.mask, portable.masked]);
      expect(lowBytes()).toEqual(low);
      expectTfjsWorks();
    });

    it('converts _malloc\'s int32 to the unsigned offset, and refuses 0 and exceptions', () => {
      const returning = (value: number) => ({_malloc: () => value});
      expect(heapAllocate(returning(-1736571264), 8)).toBe(2558396032);
      expect(heapAllocate(returning(-2147483648), 8)).toBe(2147483648);
      expect(heapAllocate(returning(-16), 8)).toBe(4294967280);
      expect(heapAllocate(returning(5242880), 8)).toBe(5242880);
      expect(heapAllocate(returning(0), 8)).toBeNull();
      expect(heapAllocate({_malloc: () => {
        throw new WebAssembly.RuntimeError('Aborted(OOM)');
      }}, 8)).toBeNull();
    });
  });

  it('is what PruneLowMagnitude.updateMasks uses on wasm: the same masks and weights as on cpu', async () => {
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      const source = tfl.sequential({layers: [tfl.layers.dense({units: 256, inputShape: [300], kernelInitializer: 'zeros'})]});
      const model = pruneLowMagnitude(source, {pruningSchedule: new ConstantSparsity({targetSparsity: 0.8, beginStep: 0})});
      source.dispose();
      const wrapper = model.layers[0] as PruneLowMagnitude;
      const {weight, mask, threshold} = wrapper.getPrunedWeights()[0];
      const values = tf.tensor(gaussian(300 * 256, 8), [300, 256]);
      weight.write(values);
      values.dispose();
      await wrapper.updateMasks(0.8);
      const out = {
        weight: Array.from(bitsOf(weight.read().dataSync() as Float32Array)),
        mask: Array.from(bitsOf(mask.read().dataSync() as Float32Array)),
        threshold: threshold.read().dataSync()[0],
      };
      model.dispose();
      return out;
    };
    const onWasm = await run('wasm');
    const onCpu = await run('cpu');
    await tf.setBackend('wasm');
    expect(onWasm).toEqual(onCpu);
    expect(onWasm.mask.filter((b) => b !== 0)).toHaveLength(keepCount(300 * 256, 0.8));
  });
});
