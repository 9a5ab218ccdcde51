// Properties that hold for every shape, value and sparsity (fast-check), beyond the ones in
// test/sparsity/pruning_impl.test.ts (radix selection = sort; kept >= max(k, 1) and 0/1 masks for
// magnitudeMask): exact k for distinct magnitudes in every kind of mask, idempotent masks, stripped
// zeros = mask zeros, quantize -> load error bounds, schedules inside [0, 1) and monotone, exact
// config round trips.
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {
  ConstantSparsity,
  PolynomialDecay,
  PruneLowMagnitude,
  deserializeSchedule,
  loadQuantizedLayersModel,
  pruneLowMagnitude,
  quantizeDynamicRange,
  serializeSchedule,
  stripPruning,
} from '../../src';
import type {PruningSchedule, QuantizationDtype} from '../../src';
import {saveToMemory} from '../../src/io/gzipped_size';
import {
  blockMagnitudeMask,
  globalMagnitudeMasks,
  keepCount,
  mByNMask,
  magnitudeMask,
} from '../../src/sparsity/pruning_impl';
import {maskedWeight} from '../../src/sparsity/pruning_wrapper';

// A fixed seed: the same cases on every run (the properties were also run with random seeds and
// ten times these numbers of runs).
fc.configureGlobal({seed: 20261124});

// Aliases: Jest's vm context makes each lookup of the global `Math` slow in loops.
const {abs, fround, floor, log2, max, min} = Math;
const LARGEST_BELOW_ONE = 1 - 2 ** -24;
const SMALLEST_SUBNORMAL = 2 ** -149;

const sum = (a: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
};
const isZeroOne = (a: ArrayLike<number>) => Array.prototype.every.call(a, (v: number) => v === 0 || v === 1);

/** Arrays of float32 values whose magnitudes are all different (no ties), signs mixed. */
const distinctMagnitudes = (minLength: number, maxLength: number) =>
  fc.uniqueArray(fc.integer({min: 1, max: 1 << 23}), {minLength, maxLength}).chain((ints) =>
    fc.array(fc.boolean(), {minLength: ints.length, maxLength: ints.length}).map((signs) =>
      Float32Array.from(ints, (v, i) => (signs[i] ? -v : v) / 4096)));

/** Any finite float32 values, zeros, -0, subnormals and extremes included. */
const finiteFloats = (minLength: number, maxLength: number) =>
  fc.float32Array({minLength, maxLength, noNaN: true, noDefaultInfinity: true});

const sparsities = fc.oneof(
    fc.double({min: 0, max: 1, maxExcluded: true, noNaN: true}),
    fc.constantFrom(0, 0.5, 0.9, 0.999, LARGEST_BELOW_ONE));

describe('the k-rule holds for every kind of mask', () => {
  it('keeps exactly k = keepCount(n, s) weights, the largest ones, when no two magnitudes are equal', () => {
    fc.assert(fc.property(distinctMagnitudes(1, 300), sparsities, (values, s) => {
      const {mask, threshold} = magnitudeMask(values, s);
      expect(sum(mask)).toBe(keepCount(values.length, s));
      for (let i = 0; i < values.length; i++) expect(mask[i] === 1).toBe(abs(values[i]) >= threshold);
    }), {numRuns: 300});
  });

  it('separates kept from pruned by magnitude on any finite values (-0, subnormals and ±3.4e38 included)', () => {
    fc.assert(fc.property(finiteFloats(1, 200), sparsities, (values, s) => {
      const {mask} = magnitudeMask(values, s);
      let smallestKept = Infinity;
      let largestPruned = -Infinity;
      for (let i = 0; i < values.length; i++) {
        if (mask[i] === 1) smallestKept = min(smallestKept, abs(values[i]));
        else largestPruned = max(largestPruned, abs(values[i]));
      }
      expect(largestPruned).toBeLessThan(smallestKept);
    }), {numRuns: 300});
  });

  it('keepCount is in [1, n] and never grows with the sparsity', () => {
    fc.assert(fc.property(fc.integer({min: 1, max: 1e7}), sparsities, sparsities, (n, a, b) => {
      const [lo, hi] = a <= b ? [a, b] : [b, a];
      expect(keepCount(n, lo)).toBeGreaterThanOrEqual(keepCount(n, hi));
      expect(keepCount(n, hi)).toBeGreaterThanOrEqual(1);
      expect(keepCount(n, lo)).toBeLessThanOrEqual(n);
    }), {numRuns: 500});
  });

  it('global pruning keeps exactly keepCount(total, s) weights over all arrays, at one threshold', () => {
    fc.assert(fc.property(distinctMagnitudes(2, 300), fc.array(fc.nat(), {minLength: 1, maxLength: 4}), sparsities,
        (values, cuts, s) => {
          const bounds = [...new Set(cuts.map((c) => c % values.length))].sort((a, b) => a - b);
          const arrays = [0, ...bounds, values.length].slice(1).map((end, i, ends) => values.slice(i === 0 ? 0 : ends[i - 1], end));
          const {masks, threshold} = globalMagnitudeMasks(arrays, s);
          expect(masks.every(isZeroOne)).toBe(true);
          expect(masks.reduce((total, m) => total + sum(m), 0)).toBe(keepCount(values.length, s));
          arrays.forEach((a, j) => a.forEach((v, i) => expect(masks[j][i] === 1).toBe(abs(v) >= threshold)));
        }), {numRuns: 200});
  });

  it('block masks keep whole blocks, exactly keepCount(blocks, s) of them under max pooling of distinct magnitudes', () => {
    const shapes = fc.record({rows: fc.integer({min: 1, max: 12}), cols: fc.integer({min: 1, max: 12}),
      bh: fc.integer({min: 1, max: 4}), bw: fc.integer({min: 1, max: 4})});
    fc.assert(fc.property(shapes, sparsities, fc.integer({min: 0, max: 1 << 30}), ({rows, cols, bh, bw}, s, seed) => {
      const values = shuffledDistinct(rows * cols, seed);
      const {mask} = blockMagnitudeMask(values, [rows, cols], [bh, bw], 'max', s);
      expect(isZeroOne(mask)).toBe(true);
      const blockRows = Math.ceil(rows / bh);
      const blockCols = Math.ceil(cols / bw);
      const blockKept = new Map<number, number>();
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          const b = floor(r / bh) * blockCols + floor(c / bw);
          if (!blockKept.has(b)) blockKept.set(b, mask[r * cols + c]);
          expect(mask[r * cols + c]).toBe(blockKept.get(b)); // one value per block
        }
      }
      expect(sum([...blockKept.values()])).toBe(keepCount(blockRows * blockCols, s));
    }), {numRuns: 200});
  });

  it('M-by-N masks keep exactly min(c, n - m) of each group, the largest magnitudes, on any finite values', () => {
    const cases = fc.record({
      rank4: fc.boolean(), h: fc.integer({min: 1, max: 3}), w: fc.integer({min: 1, max: 3}),
      inChannels: fc.integer({min: 1, max: 11}), outChannels: fc.integer({min: 1, max: 4}),
      n: fc.integer({min: 2, max: 8}), m: fc.nat(),
    }).chain((c) => fc.tuple(fc.constant(c),
        finiteFloats((c.rank4 ? c.h * c.w : 1) * c.inChannels * c.outChannels,
            (c.rank4 ? c.h * c.w : 1) * c.inChannels * c.outChannels)));
    fc.assert(fc.property(cases, ([c, values]) => {
      const m = 1 + (c.m % (c.n - 1));
      const shape = c.rank4 ? [c.h, c.w, c.inChannels, c.outChannels] : [c.inChannels, c.outChannels];
      const {mask} = mByNMask(values, shape, [m, c.n]);
      expect(isZeroOne(mask)).toBe(true);
      const outer = c.rank4 ? c.h * c.w : 1;
      for (let o = 0; o < outer; o++) {
        for (let j = 0; j < c.outChannels; j++) {
          for (let start = 0; start < c.inChannels; start += c.n) {
            const group = [];
            for (let t = start; t < min(start + c.n, c.inChannels); t++) group.push((o * c.inChannels + t) * c.outChannels + j);
            const kept = group.filter((i) => mask[i] === 1);
            expect(kept).toHaveLength(min(group.length, c.n - m));
            const pruned = group.filter((i) => mask[i] === 0);
            for (const k of kept) for (const p of pruned) expect(abs(values[k])).toBeGreaterThanOrEqual(abs(values[p]));
          }
        }
      }
    }), {numRuns: 200});
  });
});

/** n distinct magnitudes 1..n (scaled), in an order and with signs given by a seeded shuffle. */
function shuffledDistinct(n: number, seed: number): Float32Array {
  const out = Float32Array.from({length: n}, (_, i) => (i + 1) / 64);
  let s = seed >>> 0;
  for (let i = n - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
    if (s & 1) out[i] = -out[i];
  }
  return out;
}

describe('applying a mask twice changes nothing', () => {
  it('recomputing a mask from the masked weights at the same sparsity gives the same mask (all kinds)', () => {
    fc.assert(fc.property(finiteFloats(4, 120), sparsities, fc.integer({min: 1, max: 3}), (values, s, b) => {
      const rows = values.length >= 4 ? 4 : 1;
      const cols = floor(values.length / rows);
      const w = values.slice(0, rows * cols);
      const apply = (mask: Float32Array) => w.map((v, i) => (mask[i] === 0 ? 0 : v));
      const plain = magnitudeMask(w, s).mask;
      expect(Array.from(magnitudeMask(apply(plain), s).mask)).toEqual(Array.from(plain));
      const block = blockMagnitudeMask(w, [rows, cols], [b, b], 'avg', s).mask;
      expect(Array.from(blockMagnitudeMask(apply(block), [rows, cols], [b, b], 'avg', s).mask)).toEqual(Array.from(block));
      const mByN = mByNMask(w, [rows, cols], [1, 2]).mask;
      expect(Array.from(mByNMask(apply(mByN), [rows, cols], [1, 2]).mask)).toEqual(Array.from(mByN));
    }), {numRuns: 200});
  });

  it('writing weight * mask a second time leaves every bit as the first time left it', () => {
    fc.assert(fc.property(finiteFloats(1, 64), sparsities, (values, s) => {
      const {mask} = magnitudeMask(values, s);
      tf.tidy(() => {
        const w = tf.tensor1d(values);
        const m = tf.tensor1d(mask);
        const once = maskedWeight(w, m).dataSync();
        const twice = maskedWeight(tf.tensor1d(once as Float32Array), m).dataSync();
        expect(Buffer.from(twice.buffer).equals(Buffer.from(once.buffer))).toBe(true);
        // Pruned entries are +0, never -0.
        mask.forEach((keep, i) => {
          if (keep === 0) expect(Object.is(once[i], 0)).toBe(true);
        });
      });
    }), {numRuns: 200});
  });
});

describe('a stripped model\'s zeros are its masks\' zeros', () => {
  it('holds +0 exactly where a mask is 0 and the weight itself where it is 1, for any sizes, values and sparsity', async () => {
    const cases = fc.record({inputs: fc.integer({min: 1, max: 10}), hidden: fc.integer({min: 1, max: 10}),
      outputs: fc.integer({min: 1, max: 5}), s: sparsities, seed: fc.nat()});
    await fc.assert(fc.asyncProperty(cases, async ({inputs, hidden, outputs, s, seed}) => {
      const model = tfl.sequential({layers: [
        tfl.layers.dense({units: hidden, inputShape: [inputs]}),
        tfl.layers.dense({units: outputs}),
      ]});
      // Values with many exact zeros, -0 and both signs.
      const weights = model.weights.map((w, i) => {
        const n = w.shape.reduce((a, b) => a! * b!, 1)!;
        const values = shuffledDistinct(n, seed + i).map((v, j) => ((seed + j) % 5 === 0 ? ((seed + j) % 2 ? -0 : 0) : v));
        return tf.tensor(values, w.shape as number[]);
      });
      model.setWeights(weights);
      const pruned = pruneLowMagnitude(model);
      const wrappers = pruned.layers as PruneLowMagnitude[];
      for (const wrapper of wrappers) await wrapper.updateMasks(s);
      const stripped = stripPruning(pruned);
      wrappers.forEach((wrapper, layer) => {
        const [{weight, mask}] = wrapper.getPrunedWeights();
        const original = weights[2 * layer].dataSync();
        const m = mask.read().dataSync();
        const w = weight.read().dataSync();
        const out = stripped.layers[layer].getWeights()[0].dataSync();
        for (let i = 0; i < out.length; i++) {
          if (m[i] === 0) {
            expect(Object.is(out[i], 0)).toBe(true);
            expect(Object.is(w[i], 0)).toBe(true); // the wrapper's own weight too
          } else {
            expect(Object.is(out[i], original[i])).toBe(true);
          }
        }
        // The bias is never touched.
        expect(Array.from(stripped.layers[layer].getWeights()[1].dataSync())).toEqual(Array.from(weights[2 * layer + 1].dataSync()));
      });
      tf.dispose(weights);
      for (const m of [model, pruned, stripped]) m.dispose();
    }), {numRuns: 100});
  });
});

/** The largest error a float16 value may have: half its spacing. */
function float16HalfStep(v: number): number {
  const a = abs(v);
  if (a < 2 ** -14) return 2 ** -25;
  return 2 ** (floor(log2(a)) - 11);
}

describe('quantize -> load keeps every zero and stays within half a step', () => {
  const cases = fc.record({
    inputs: fc.integer({min: 1, max: 24}), units: fc.integer({min: 1, max: 24}),
    dtype: fc.constantFrom<QuantizationDtype>('int8', 'uint8', 'uint16', 'float16'),
    perChannel: fc.boolean(), zeroEvery: fc.integer({min: 1, max: 4}),
  }).chain((c) => fc.tuple(fc.constant(c), c.dtype === 'float16' ?
    fc.array(fc.float({min: -65504, max: 65504, noNaN: true}), {minLength: c.inputs * c.units, maxLength: c.inputs * c.units})
        .map((a) => Float32Array.from(a)) :
    finiteFloats(c.inputs * c.units, c.inputs * c.units)));

  it('for int8, uint8, uint16 (per tensor and per channel) and float16, on any finite kernel', async () => {
    await fc.assert(fc.asyncProperty(cases, async ([c, raw]) => {
      const perChannel = c.perChannel && c.dtype !== 'float16';
      const kernel = raw.map((v, i) => (i % c.zeroEvery === 0 ? 0 : v));
      const model = tfl.sequential({layers: [tfl.layers.dense({units: c.units, inputShape: [c.inputs]})]});
      const bias = tf.tensor1d(Float32Array.from({length: c.units}, (_, i) => i / 7 - 1));
      const kernelTensor = tf.tensor2d(kernel, [c.inputs, c.units]);
      model.setWeights([kernelTensor, bias]);
      const quantizing = quantizeDynamicRange(model, {dtype: c.dtype, perChannel, minElements: 0});
      if ((c.dtype === 'uint8' || c.dtype === 'uint16') && kernel.some((v) => abs(v) > 1e38)) {
        // Next to ±3.4e38 the widened affine range can pass float32's limit: rejected, never an infinity.
        const outcome = await quantizing.then(() => 'quantized', (e: Error) => e);
        if (outcome !== 'quantized') {
          expect(outcome).toBeInstanceOf(RangeError);
          expect((outcome as Error).message).toMatch(/decodes to .*, beyond float32's ±3.4028234663852886e\+38; use dtype 'int8'/);
          tf.dispose([bias, kernelTensor]);
          model.dispose();
          return;
        }
      }
      const artifacts = await quantizing;
      const loaded = perChannel ? await loadQuantizedLayersModel(artifacts) :
        await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
      const [decodedKernel, decodedBias] = loaded.getWeights().map((t) => t.dataSync());
      expect(Array.from(decodedBias)).toEqual(Array.from(bias.dataSync())); // biases stay float32
      const q = artifacts.weightSpecs![0].quantization as {dtype: string; scale?: number | number[]};
      for (let i = 0; i < kernel.length; i++) {
        const w = kernel[i];
        const d = decodedKernel[i];
        if (w === 0) {
          expect(d === 0).toBe(true); // float16 keeps the sign of -0; the codes decode 0 to +0
          continue;
        }
        const scale = Array.isArray(q.scale) ? q.scale[i % c.units] : q.scale;
        const bound = scale === undefined ? float16HalfStep(w) :
          scale / 2 * (1 + 1e-9) + abs(w) * 2 ** -23 + SMALLEST_SUBNORMAL;
        expect(abs(d - w)).toBeLessThanOrEqual(bound);
      }
      tf.dispose([bias, kernelTensor]);
      model.dispose();
      loaded.dispose();
    }), {numRuns: 300});
  });

  it('gives the same int8 codes when a quantized model is loaded and quantized again', async () => {
    const cases = fc.record({inputs: fc.integer({min: 1, max: 20}), units: fc.integer({min: 1, max: 20}), perChannel: fc.boolean()})
        .chain((c) => fc.tuple(fc.constant(c), finiteFloats(c.inputs * c.units, c.inputs * c.units)));
    await fc.assert(fc.asyncProperty(cases, async ([c, kernel]) => {
      const model = tfl.sequential({layers: [tfl.layers.dense({units: c.units, inputShape: [c.inputs], useBias: false})]});
      const kernelTensor = tf.tensor2d(kernel, [c.inputs, c.units]);
      model.setWeights([kernelTensor]);
      const options = {perChannel: c.perChannel, minElements: 0};
      const once = await quantizeDynamicRange(model, options);
      const loaded = await loadQuantizedLayersModel(once);
      const twice = await quantizeDynamicRange(loaded, options);
      expect(Buffer.from(twice.weightData as ArrayBuffer).equals(Buffer.from(once.weightData as ArrayBuffer))).toBe(true);
      kernelTensor.dispose();
      model.dispose();
      loaded.dispose();
    }), {numRuns: 200});
  });
});

describe('schedules stay in [0, 1), and PolynomialDecay is monotone', () => {
  // Sparsities near 1 included: some of them round to 1 in float32, where the schedules compute.
  const anySparsity = fc.oneof(
      fc.double({min: 0, max: 1, maxExcluded: true, noNaN: true}),
      fc.double({min: 0.9999999, max: 1, maxExcluded: true, noNaN: true}),
      fc.constantFrom(0, LARGEST_BELOW_ONE));
  const steps = fc.array(fc.oneof(fc.integer({min: -5, max: 3000}), fc.constantFrom(1e9, 2 ** 31 - 1)), {minLength: 1, maxLength: 30});
  const roundsToOne = (s: number) => fround(s) === 1;

  it('PolynomialDecay: every sparsity is in [0, 1) and moves monotonically from initial to final', () => {
    const args = fc.record({
      initialSparsity: anySparsity, finalSparsity: anySparsity, beginStep: fc.integer({min: 0, max: 1000}),
      span: fc.integer({min: 0, max: 2000}), power: fc.double({min: 0.05, max: 10, noNaN: true}),
      frequency: fc.integer({min: 1, max: 200}),
    });
    fc.assert(fc.property(args, steps, ({span, ...a}, stepList) => {
      const make = () => new PolynomialDecay({...a, endStep: a.beginStep + span});
      if (roundsToOne(a.initialSparsity) || roundsToOne(a.finalSparsity)) {
        expect(make).toThrow(RangeError);
        return;
      }
      const schedule = make();
      const values = [...stepList].sort((x, y) => x - y).map((step) => schedule.call(step).sparsity);
      for (const v of values) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThan(1);
        expect(fround(v)).toBe(v);
      }
      for (let i = 1; i < values.length; i++) {
        if (a.initialSparsity <= a.finalSparsity) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1]);
        else expect(values[i]).toBeLessThanOrEqual(values[i - 1]);
      }
    }), {numRuns: 1000});
  });

  it('ConstantSparsity: the target in float32 at every step, below 1', () => {
    fc.assert(fc.property(anySparsity, steps, (targetSparsity, stepList) => {
      if (roundsToOne(targetSparsity)) {
        expect(() => new ConstantSparsity({targetSparsity})).toThrow(RangeError);
        return;
      }
      const schedule = new ConstantSparsity({targetSparsity, frequency: 7});
      for (const step of stepList) {
        const {sparsity} = schedule.call(step);
        expect(sparsity).toBe(fround(targetSparsity));
        expect(sparsity).toBeLessThan(1);
      }
    }), {numRuns: 500});
  });
});

describe('config round trips are exact', () => {
  const scheduleArb: fc.Arbitrary<PruningSchedule> = fc.oneof(
      fc.record({
        targetSparsity: fc.double({min: 0, max: 0.999, noNaN: true}), beginStep: fc.integer({min: 0, max: 1e6}),
        endStep: fc.oneof(fc.constant(-1), fc.integer({min: 0, max: 1e6})), frequency: fc.integer({min: 1, max: 1e4}),
      }).map((a) => new ConstantSparsity({...a, endStep: a.endStep === -1 ? -1 : a.beginStep + a.endStep})),
      fc.record({
        initialSparsity: fc.double({min: 0, max: 0.999, noNaN: true}), finalSparsity: fc.double({min: 0, max: 0.999, noNaN: true}),
        beginStep: fc.integer({min: 0, max: 1e6}), span: fc.integer({min: 0, max: 1e6}),
        power: fc.double({min: 0.01, max: 20, noNaN: true}), frequency: fc.integer({min: 1, max: 1e4}),
      }).map(({span, ...a}) => new PolynomialDecay({...a, endStep: a.beginStep + span})));

  it('schedules: fromConfig(getConfig()) and deserializeSchedule(serializeSchedule()) rebuild equal schedules', () => {
    fc.assert(fc.property(scheduleArb, fc.array(fc.integer({min: -2, max: 2e6}), {maxLength: 20}), (schedule, stepList) => {
      const cls = schedule.constructor as typeof ConstantSparsity;
      const viaClass = cls.fromConfig(cls, schedule.getConfig()) as PruningSchedule;
      // Through JSON, as inside a saved model.
      const viaJSON = deserializeSchedule(JSON.parse(JSON.stringify(serializeSchedule(schedule))));
      for (const copy of [viaClass, viaJSON]) {
        expect(copy).toBeInstanceOf(cls);
        expect(copy.getConfig()).toEqual(schedule.getConfig());
        for (const step of stepList) expect(copy.call(step)).toEqual(schedule.call(step));
      }
    }), {numRuns: 300});
  });

  const maskOptions = fc.oneof(
      fc.constant({}),
      fc.record({blockSize: fc.tuple(fc.integer({min: 1, max: 4}), fc.integer({min: 1, max: 4})),
        blockPoolingType: fc.constantFrom('avg' as const, 'max' as const)}),
      fc.tuple(fc.integer({min: 1, max: 7}), fc.integer({min: 1, max: 7})).map(([m, d]) => ({sparsityMByN: [m, m + d] as [number, number]})),
      fc.constant({globalPruning: true}));

  it('wrappers: PruneLowMagnitude.fromConfig(getConfig()) gives the same config', () => {
    fc.assert(fc.property(scheduleArb, maskOptions, fc.integer({min: 1, max: 64}), (pruningSchedule, options, units) => {
      const wrapper = new PruneLowMagnitude({layer: tfl.layers.dense({units, name: 'd'}), pruningSchedule, ...options});
      const config = wrapper.getConfig();
      const copy = PruneLowMagnitude.fromConfig(PruneLowMagnitude, JSON.parse(JSON.stringify(config))) as PruneLowMagnitude;
      expect(copy.getConfig()).toEqual(config);
    }), {numRuns: 200});
  });

  it('pruned models: save -> load -> save writes the same topology and the same weight bytes', async () => {
    await fc.assert(fc.asyncProperty(scheduleArb, maskOptions, fc.integer({min: 1, max: 8}), fc.integer({min: 1, max: 8}),
        async (pruningSchedule, options, inputs, units) => {
          const model = tfl.sequential({layers: [tfl.layers.dense({units, inputShape: [inputs]}), tfl.layers.dense({units: 2})]});
          const pruned = pruneLowMagnitude(model, {pruningSchedule, ...options});
          const first = await saveToMemory(pruned);
          const loaded = await tfl.loadLayersModel(tf.io.fromMemory(first));
          const second = await saveToMemory(loaded);
          expect(JSON.stringify(second.modelTopology)).toBe(JSON.stringify(first.modelTopology));
          expect(second.weightSpecs).toEqual(first.weightSpecs);
          expect(Buffer.from(second.weightData as ArrayBuffer).equals(Buffer.from(first.weightData as ArrayBuffer))).toBe(true);
          for (const m of [model, pruned, loaded]) m.dispose();
        }), {numRuns: 100});
  });
});
