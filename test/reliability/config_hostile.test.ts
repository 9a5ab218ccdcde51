// Configs written to hurt (or merely corrupt): class names that are Object.prototype members,
// registered classes of the wrong kind, `__proto__` keys, weight values inside a config, schedule
// arguments that break in float32, and masks that are not masks. Each is refused with a clear error
// (the messages are pinned in misuse.test.ts), nothing built for a refused config stays allocated,
// and a hidden key is never obeyed.
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {PolynomialDecay, PruneLowMagnitude, deserializeSchedule, pruneLowMagnitude} from '../../src';
import {saveToMemory} from '../../src/io/gzipped_size';
import {deserializeLayer} from '../../src/sparsity/pruning_wrapper';
import {lookupRegisteredClass} from '../../src/util/registry';
import {deepCopy} from '../../src/util/validation';

fc.configureGlobal({seed: 20261124});

const PROTOTYPE_NAMES = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__', 'isPrototypeOf'];
const LARGEST_FLOAT32 = (2 - 2 ** -23) * 2 ** 127;
const SMALLEST_FLOAT32 = 2 ** -149;

/** A Sequential of 400 -> 1000 -> 10 Dense layers: its config builds 411,010 weights (1.6 MB). */
function bigModelConfig(): tf.serialization.ConfigDict {
  const model = tfl.sequential({layers: [
    tfl.layers.dense({units: 1000, inputShape: [400]}),
    tfl.layers.dense({units: 10}),
  ]});
  const config = model.getConfig();
  model.dispose();
  return config;
}

/** A registered prunable layer that allocates its weight in its constructor. */
class EagerLayer extends tfl.layers.Layer {
  static className = 'ConfigHostileEagerLayer';
  readonly kernel: tfl.LayerVariable;
  constructor(args: {name?: string}) {
    super(args);
    this.kernel = this.addWeight('kernel', [50, 50], 'float32', tfl.initializers.ones());
  }
  getPrunableWeights(): tfl.LayerVariable[] {
    return [this.kernel];
  }
  override getConfig(): tf.serialization.ConfigDict {
    return {...super.getConfig()};
  }
}
tf.serialization.registerClass(EagerLayer);

/** Asserts that `call` fails with a message matching `message` and leaves no tensor and no byte behind. */
async function failsWithoutLeak(call: () => unknown, message: RegExp): Promise<void> {
  const before = tf.memory();
  let error: unknown;
  try {
    await call();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(Error);
  expect((error as Error).message).toMatch(message);
  const after = tf.memory();
  expect({tensors: after.numTensors, bytes: after.numBytes}).toEqual({tensors: before.numTensors, bytes: before.numBytes});
}

describe('registry lookups by class name', () => {
  it.each(PROTOTYPE_NAMES)('find no class named "%s" (own entries of the registry only)', (name) => {
    expect(lookupRegisteredClass(name)).toBeUndefined();
    expect(() => deserializeSchedule({className: name, config: {}})).toThrow(`unknown schedule class "${name}"`);
    expect(() => deserializeLayer({className: name, config: {}})).toThrow(`unknown layer class "${name}"`);
  });

  it('find the registered classes', () => {
    expect(lookupRegisteredClass('PruneLowMagnitude')?.cls).toBe(PruneLowMagnitude);
    expect(lookupRegisteredClass('PolynomialDecay')?.cls).toBe(PolynomialDecay);
  });

  it('refuse an Object.prototype name in a saved model with the usual "unknown class" error', async () => {
    const artifacts = await saveToMemory(pruneLowMagnitude(tfl.sequential({layers: [tfl.layers.dense({units: 2, inputShape: [3]})]})));
    const text = JSON.stringify(artifacts.modelTopology).replace('"class_name":"Dense"', '"class_name":"valueOf"');
    await expect(tfl.loadLayersModel(tf.io.fromMemory({...artifacts, modelTopology: JSON.parse(text)})))
        .rejects.toThrow('PruneLowMagnitude.fromConfig: unknown layer class "valueOf".');
  });
});

describe('a refused config leaves nothing allocated', () => {
  it('deserializeSchedule checks the class before building it (a model config as a schedule)', async () => {
    const config = bigModelConfig();
    await failsWithoutLeak(() => deserializeSchedule({className: 'Sequential', config}), /is not a PruningSchedule/);
  });

  it('the wrapper checks its inner layer class before building it (a model as the inner layer)', async () => {
    const config = bigModelConfig();
    await failsWithoutLeak(
        () => PruneLowMagnitude.fromConfig(PruneLowMagnitude, {layer: {className: 'Sequential', config}}),
        /'layer' must be a single layer, but got the model/);
  });

  it('the same, in a saved model loaded with tf.loadLayersModel', async () => {
    const artifacts = await saveToMemory(pruneLowMagnitude(tfl.sequential({layers: [tfl.layers.dense({units: 2, inputShape: [3]})]})));
    const topology = deepCopy(artifacts.modelTopology) as {config: {layers: Array<{config: Record<string, unknown>}>}};
    const big = tfl.sequential({layers: [tfl.layers.dense({units: 1000, inputShape: [400]})]});
    topology.config.layers[0].config['layer'] = JSON.parse(JSON.stringify(big.toJSON(null, false)));
    big.dispose();
    await failsWithoutLeak(
        () => tfl.loadLayersModel(tf.io.fromMemory({...artifacts, modelTopology: topology as never})),
        /'layer' must be a single layer, but got the model/);
  });

  it('a wrapper config holding weight values is refused before the model builds the wrapper', async () => {
    const pruned = pruneLowMagnitude(tfl.sequential({layers: [tfl.layers.dense({name: 'd', units: 4, inputShape: [3]})]}));
    const topology = JSON.parse(JSON.stringify(pruned.toJSON(null, false)));
    pruned.dispose();
    topology.config.layers[0].config.weights = [[1, 2]];
    await failsWithoutLeak(() => tfl.models.modelFromJSON({modelTopology: topology}), /'config\.weights' is not allowed/);
    delete topology.config.layers[0].config.weights;
    topology.config.layers[0].config.layer.config.weights = [[1, 2]];
    await failsWithoutLeak(() => tfl.models.modelFromJSON({modelTopology: topology}), /'layer\.config\.weights' is not allowed/);
  });

  it('an inner layer built by its constructor is disposed when the wrapper refuses the rest of the config', async () => {
    await failsWithoutLeak(() => PruneLowMagnitude.fromConfig(PruneLowMagnitude, {
      layer: {className: 'ConfigHostileEagerLayer', config: {name: 'eager'}}, blockSize: [0, 2],
    }), /'blockSize' must hold integers >= 1/);
  });
});

describe('a "__proto__" key never becomes a prototype', () => {
  const parsed = () => JSON.parse('{"className": "Dense", "config": {"__proto__": {"units": 7}, "name": "h"}}');

  it('deepCopy keeps it as an inert own property', () => {
    const input = parsed();
    const copy = deepCopy(input);
    expect(Object.getPrototypeOf(copy.config)).toBe(Object.prototype);
    expect(Object.keys(copy.config)).toEqual(['__proto__', 'name']);
    expect(Object.getOwnPropertyDescriptor(copy.config, '__proto__')?.value).toEqual({units: 7});
    expect((copy.config as {units?: number}).units).toBeUndefined();
    expect(copy).not.toBe(input);
    expect(JSON.stringify(copy)).toBe(JSON.stringify(input));
  });

  it('deepCopy copies arrays, nested objects and primitives, and never shares them', () => {
    const input = {a: [1, {b: 'x', c: null}], d: true};
    const copy = deepCopy(input);
    expect(copy).toEqual(input);
    expect(copy.a).not.toBe(input.a);
    expect(copy.a[1]).not.toBe(input.a[1]);
  });

  it('a layer config holding one is refused, and the config is left as it was', () => {
    const config = parsed();
    const before = JSON.stringify(config);
    expect(() => deserializeLayer(config)).toThrow(/'layer\.config' holds a "__proto__" key/);
    expect(JSON.stringify(config)).toBe(before);
  });

  it('a saved model holding one loads without obeying it (tfjs renames the key on load)', async () => {
    const artifacts = await saveToMemory(pruneLowMagnitude(tfl.sequential({layers: [tfl.layers.dense({units: 2, inputShape: [3]})]})));
    const text = JSON.stringify(artifacts.modelTopology).replace('"units":2', '"units":2,"__proto__":{"units":7,"activation":"relu"}');
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory({...artifacts, modelTopology: JSON.parse(text)}));
    const inner = (loaded.layers[0] as PruneLowMagnitude).layer as tfl.layers.Layer & {units: number};
    expect(inner.units).toBe(2);
    expect(inner.getConfig()['activation']).toBe('linear');
    loaded.dispose();
  });
});

describe("PolynomialDecay's power, used in float32", () => {
  it.each([
    [1e300, 'larger values round to Infinity'],
    [3.5e38, 'larger values round to Infinity'],
    [1e-50, 'smaller values round to 0'],
    [1e-46, 'smaller values round to 0'],
  ])('refuses %p, which is not a positive finite float32 value', (power, why) => {
    expect(() => new PolynomialDecay({initialSparsity: 0.1, finalSparsity: 0.5, beginStep: 0, endStep: 10, power}))
        .toThrow(new RangeError(`PolynomialDecay: 'power' must be a positive finite number in float32 too (from ` +
          `${SMALLEST_FLOAT32} to ${LARGEST_FLOAT32}; ${why}), but got ${power}.`));
  });

  it('gives a sparsity in [0, 1) at every step and reaches finalSparsity at endStep, for every accepted power', () => {
    const powers = fc.oneof(
        fc.constantFrom(SMALLEST_FLOAT32, LARGEST_FLOAT32, 2 ** -126, 1e-40, 1e30, 1, 3),
        fc.float({min: SMALLEST_FLOAT32, max: LARGEST_FLOAT32, noNaN: true}));
    const sparsity = fc.double({min: 0, max: 0.999, noNaN: true});
    fc.assert(fc.property(powers, sparsity, sparsity, fc.integer({min: 0, max: 20}), fc.integer({min: 0, max: 40}),
        (power, initialSparsity, finalSparsity, beginStep, span) => {
          const schedule = new PolynomialDecay({initialSparsity, finalSparsity, beginStep, endStep: beginStep + span, power});
          for (let step = 0; step <= beginStep + span + 2; step++) {
            const s = schedule.call(step).sparsity;
            if (!(s >= 0 && s < 1)) return false;
            if (step >= beginStep + span && s !== Math.fround(finalSparsity)) return false;
          }
          return true;
        }), {numRuns: 500});
  });
});

describe('setMasks', () => {
  function wrapper(): PruneLowMagnitude {
    const w = pruneLowMagnitude(tfl.layers.dense({units: 2, name: 'm'}));
    w.apply(tfl.input({shape: [3]}));
    return w;
  }
  const state = (w: PruneLowMagnitude) => w.getWeights().map((t) => Array.from(t.dataSync()));

  it.each([
    ['a mask value of 0.5', [Float32Array.of(1, 1, 1, 1, 1, 0.5)], [0], /holds 0\.5 at flat index 5/],
    ['a mask value of 2', [Float32Array.of(2, 1, 1, 1, 1, 1)], [0], /holds 2 at flat index 0/],
    ['a mask value of NaN', [Float32Array.of(1, 1, NaN, 1, 1, 1)], [0], /holds NaN at flat index 2/],
    ['a mask value of -1', [Float32Array.of(1, 1, 1, -1, 1, 1)], [0], /holds -1 at flat index 3/],
    ['a NaN threshold', [new Float32Array(6).fill(1)], [NaN], /threshold 0 .* must be a finite number >= 0, but got NaN/],
    ['an infinite threshold', [new Float32Array(6).fill(1)], [Infinity], /but got Infinity/],
    ['a negative threshold', [new Float32Array(6).fill(1)], [-0.5], /but got -0\.5/],
  ])('refuses %s with a RangeError, changing nothing and leaking nothing', (_what, masks, thresholds, message) => {
    const w = wrapper();
    const before = state(w);
    const tensors = tf.memory().numTensors;
    expect(() => w.setMasks(masks, thresholds)).toThrow(RangeError);
    expect(() => w.setMasks(masks, thresholds)).toThrow(message);
    expect(state(w)).toEqual(before);
    expect(tf.memory().numTensors).toBe(tensors);
    w.dispose();
  });

  it('accepts 0/1 masks and writes weight * mask', () => {
    const w = wrapper();
    const kernel = Array.from(w.layer.getWeights()[0].dataSync());
    w.setMasks([Float32Array.of(1, 0, 1, 0, 1, 0)], [0.25]);
    expect(Array.from(w.layer.getWeights()[0].dataSync())).toEqual(kernel.map((v, i) => (i % 2 === 0 ? v : 0)));
    expect(w.getPrunedWeights()[0].threshold.read().dataSync()[0]).toBe(0.25);
    w.dispose();
  });
});
