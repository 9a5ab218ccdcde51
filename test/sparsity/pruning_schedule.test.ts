import * as tf from '@tensorflow/tfjs-core';

import {
  ConstantSparsity,
  PolynomialDecay,
  PruningSchedule,
  deserializeSchedule,
  serializeSchedule,
} from '../../src';

type Steps = [number, number, number];
const make = {
  ConstantSparsity: ([beginStep, endStep, frequency]: Steps, targetSparsity = 0.5) =>
    new ConstantSparsity({targetSparsity, beginStep, endStep, frequency}),
  PolynomialDecay: ([beginStep, endStep, frequency]: Steps, sparsity = 0.5) =>
    new PolynomialDecay({initialSparsity: sparsity, finalSparsity: sparsity, beginStep, endStep, frequency}),
};

// Reference vectors: tfmot's pruning_schedule_test.py (SPEC section 2).
describe.each(Object.keys(make) as (keyof typeof make)[])('%s validation (tfmot vectors)', (name) => {
  const build = make[name];
  it.each<Steps>([
    [0, 1000, 10], [1, 1000, 10], [100, 1000, 10], [0, 0, 10], [0, 1, 10],
    [0, 100, 10], [10, 10, 10], [10, 20, 10], [10, 1000, 1],
  ])('accepts begin %d, end %d, frequency %d', (...steps) => {
    expect(() => build(steps)).not.toThrow();
  });

  it.each<Steps>([
    [-1, 1000, 10], [-5, 1000, 10], [10, -5, 10], [10, 5, 10],
    [10, 1000, 0], [10, 1000, -1], [10, 1000, -5],
  ])('rejects begin %d, end %d, frequency %d with a RangeError', (...steps) => {
    expect(() => build(steps)).toThrow(RangeError);
  });

  it.each([-0.001, -1, -10, 1.0, 10])('rejects sparsity %d', (s) => {
    expect(() => build([0, 100, 10], s)).toThrow(RangeError);
  });

  it.each([0, 0.001, 0.5, 0.99])('accepts sparsity %d', (s) => {
    expect(() => build([0, 100, 10], s)).not.toThrow();
  });

  it('prunes at steps 90,99,100,110,200,201,210 = F,F,T,T,T,F,F for (100, 200, 1)', () => {
    const s = build([100, 200, 1]);
    expect([90, 99, 100, 110, 200, 201, 210].map((step) => s.call(step).shouldPrune))
        .toEqual([false, false, true, true, true, false, false]);
  });

  it('prunes at steps 100,109,110,111 = T,F,T,F for (100, 200, 10)', () => {
    const s = build([100, 200, 10]);
    expect([100, 109, 110, 111].map((step) => s.call(step).shouldPrune)).toEqual([true, false, true, false]);
  });
});

describe('validation messages name the class, the argument and the value', () => {
  it.each<[string, () => unknown, ErrorConstructor, string]>([
    ['negative beginStep', () => new ConstantSparsity({targetSparsity: 0.5, beginStep: -1}), RangeError,
      "ConstantSparsity: 'beginStep' must be >= 0, but got -1."],
    ['endStep -1 for PolynomialDecay',
      () => new PolynomialDecay({initialSparsity: 0.1, finalSparsity: 0.5, beginStep: 0, endStep: -1}), RangeError,
      "PolynomialDecay: 'endStep' cannot be -1 (this schedule needs an end step to decay towards), but got -1."],
    ['negative endStep', () => new ConstantSparsity({targetSparsity: 0.5, beginStep: 10, endStep: -5}), RangeError,
      "ConstantSparsity: 'endStep' must be -1 or >= 0, but got -5."],
    ['endStep before beginStep', () => new ConstantSparsity({targetSparsity: 0.5, beginStep: 10, endStep: 5}),
      RangeError, "ConstantSparsity: 'endStep' must be >= beginStep (10) unless it is -1, but got 5."],
    ['zero frequency', () => new ConstantSparsity({targetSparsity: 0.5, frequency: 0}), RangeError,
      "ConstantSparsity: 'frequency' must be > 0, but got 0."],
    ['sparsity 1', () => new ConstantSparsity({targetSparsity: 1}), RangeError,
      "ConstantSparsity: 'targetSparsity' must be in the range [0, 1), but got 1."],
    ['bad initialSparsity',
      () => new PolynomialDecay({initialSparsity: -0.5, finalSparsity: 2, beginStep: 0, endStep: 10}), RangeError,
      "PolynomialDecay: 'initialSparsity' must be in the range [0, 1), but got -0.5."],
    ['bad finalSparsity',
      () => new PolynomialDecay({initialSparsity: 0.5, finalSparsity: 2, beginStep: 0, endStep: 10}), RangeError,
      "PolynomialDecay: 'finalSparsity' must be in the range [0, 1), but got 2."],
    ['zero power',
      () => new PolynomialDecay({initialSparsity: 0.5, finalSparsity: 0.6, beginStep: 0, endStep: 10, power: 0}),
      RangeError, "PolynomialDecay: 'power' must be > 0, but got 0."],
    ['fractional beginStep', () => new ConstantSparsity({targetSparsity: 0.5, beginStep: 1.5}), TypeError,
      "ConstantSparsity: 'beginStep' must be an integer, but got 1.5."],
    ['infinite endStep', () => new ConstantSparsity({targetSparsity: 0.5, endStep: Infinity}), TypeError,
      "ConstantSparsity: 'endStep' must be an integer, but got Infinity."],
    ['string frequency',
      () => new ConstantSparsity({targetSparsity: 0.5, frequency: '10' as unknown as number}), TypeError,
      "ConstantSparsity: 'frequency' must be an integer, but got \"10\"."],
    ['NaN sparsity', () => new ConstantSparsity({targetSparsity: NaN}), TypeError,
      "ConstantSparsity: 'targetSparsity' must be a finite number, but got NaN."],
    ['missing sparsity', () => new ConstantSparsity({} as never), TypeError,
      "ConstantSparsity: 'targetSparsity' must be a finite number, but got undefined."],
    ['no arguments', () => new ConstantSparsity(undefined as never), TypeError,
      "ConstantSparsity: 'args' must be an object, but got undefined."],
    ['missing beginStep',
      () => new PolynomialDecay({initialSparsity: 0.1, finalSparsity: 0.5, endStep: 10} as never), TypeError,
      "PolynomialDecay: 'beginStep' must be an integer, but got undefined."],
    ['fractional step in call', () => new ConstantSparsity({targetSparsity: 0.5}).call(0.5), TypeError,
      "ConstantSparsity.call: 'step' must be an integer, but got 0.5."],
  ])('%s', (_title, fn, errorClass, message) => {
    expect(fn).toThrow(errorClass);
    expect(fn).toThrow(message);
  });

  it('checks the steps before the frequency and the frequency before the sparsity (tfmot order)', () => {
    expect(() => new ConstantSparsity({targetSparsity: 2, beginStep: -1, frequency: 0})).toThrow(/'beginStep'/);
    expect(() => new ConstantSparsity({targetSparsity: 2, frequency: 0})).toThrow(/'frequency'/);
    expect(() => new PolynomialDecay({initialSparsity: 2, finalSparsity: 2, beginStep: 0, endStep: 1}))
        .toThrow(/'initialSparsity'/);
  });
});

describe('ConstantSparsity', () => {
  it('has tfmot defaults: beginStep 0, endStep -1, frequency 100', () => {
    expect(new ConstantSparsity({targetSparsity: 0.3}).getConfig())
        .toEqual({targetSparsity: 0.3, beginStep: 0, endStep: -1, frequency: 100});
  });

  it('prunes forever when endStep is -1: steps 10000 and 100000000 give (true, 0.5)', () => {
    const s = new ConstantSparsity({targetSparsity: 0.5, beginStep: 0, endStep: -1, frequency: 10});
    expect(s.call(10000)).toEqual({shouldPrune: true, sparsity: 0.5});
    expect(s.call(100000000)).toEqual({shouldPrune: true, sparsity: 0.5});
  });

  it('returns the target sparsity before, inside and after the range, as float32', () => {
    const s = new ConstantSparsity({targetSparsity: 0.3, beginStep: 10, endStep: 20, frequency: 5});
    for (const step of [0, 9, 10, 15, 20, 21, 1000]) {
      expect(s.call(step).sparsity).toBe(Math.fround(0.3));
    }
    expect([0, 9, 10, 15, 20, 21, 25].map((step) => s.call(step).shouldPrune))
        .toEqual([false, false, true, true, true, false, false]);
  });
});

describe('PolynomialDecay', () => {
  const reference = () => new PolynomialDecay({
    initialSparsity: 0.2, finalSparsity: 0.8, beginStep: 100, endStep: 110, power: 3, frequency: 2,
  });

  it('matches tfmot at steps 100, 102, 105, 110: 0.2, 0.4928, 0.725, 0.8', () => {
    const s = reference();
    const got = [100, 102, 105, 110].map((step) => s.call(step).sparsity);
    [0.2, 0.4928, 0.725, 0.8].forEach((want, i) => expect(Math.abs(got[i] - want)).toBeLessThan(1e-6));
  });

  it('returns initialSparsity before beginStep and finalSparsity after endStep, without pruning', () => {
    // In float32, (0.2 - 0.8) * 1 + 0.8 is 0.20000002, as in tfmot: compare to 1e-6.
    const s = reference();
    for (const [step, want] of [[0, 0.2], [99, 0.2], [111, 0.8], [1e9, 0.8]]) {
      expect(s.call(step).shouldPrune).toBe(false);
      expect(Math.abs(s.call(step).sparsity - want)).toBeLessThan(1e-6);
    }
  });

  it('follows the float32 formula at every step of a long decay (independent float64 check to 1e-6)', () => {
    const args = {initialSparsity: 0.4, finalSparsity: 0.7, beginStep: 0, endStep: 1200, power: 3, frequency: 100};
    const s = new PolynomialDecay(args);
    for (let step = -10; step <= 1300; step++) {
      const p = Math.min(1, Math.max(0, step / 1200));
      const want = (0.4 - 0.7) * (1 - p) ** 3 + 0.7;
      expect(Math.abs(s.call(step).sparsity - want)).toBeLessThan(1e-6);
      expect(s.call(step).shouldPrune).toBe(step >= 0 && step <= 1200 && step % 100 === 0);
    }
  });

  it('supports other powers (power 1 is linear)', () => {
    const s = new PolynomialDecay({initialSparsity: 0, finalSparsity: 0.5, beginStep: 0, endStep: 10, power: 1});
    expect(s.call(5).sparsity).toBe(Math.fround(0.25));
  });

  it('returns finalSparsity from beginStep on when endStep equals beginStep (tfmot divides by zero)', () => {
    const s = new PolynomialDecay({initialSparsity: 0.2, finalSparsity: 0.6, beginStep: 10, endStep: 10, frequency: 1});
    expect([9, 10, 11].map((step) => s.call(step).shouldPrune)).toEqual([false, true, false]);
    expect(Math.abs(s.call(9).sparsity - 0.2)).toBeLessThan(1e-6);
    expect(s.call(10).sparsity).toBe(Math.fround(0.6));
    expect(s.call(11).sparsity).toBe(Math.fround(0.6));
  });

  it('can decrease the sparsity when initial > final, like tfmot', () => {
    const s = new PolynomialDecay({initialSparsity: 0.8, finalSparsity: 0.2, beginStep: 0, endStep: 10});
    expect(s.call(0).sparsity).toBe(Math.fround(0.8));
    expect(s.call(10).sparsity).toBe(Math.fround(0.2));
  });
});

describe('serialization', () => {
  const schedules = (): PruningSchedule[] => [
    new ConstantSparsity({targetSparsity: 0.7, beginStep: 3, endStep: 90, frequency: 7}),
    new PolynomialDecay({initialSparsity: 0.1, finalSparsity: 0.9, beginStep: 5, endStep: 50, power: 2, frequency: 3}),
  ];

  it.each(schedules().map((s) => [s.getClassName(), s] as const))(
      '%s round-trips through getConfig / fromConfig exactly', (_name, schedule) => {
        const rebuilt = deserializeSchedule(serializeSchedule(schedule));
        expect(rebuilt).toBeInstanceOf(schedule.constructor);
        expect(rebuilt.getConfig()).toEqual(schedule.getConfig());
        for (let step = 0; step < 100; step++) expect(rebuilt.call(step)).toEqual(schedule.call(step));
      });

  it('registers both classes with tfjs under their tfmot names', () => {
    const map = tf.serialization.SerializationMap.getMap().classNameMap;
    expect(map['ConstantSparsity'][0]).toBe(ConstantSparsity);
    expect(map['PolynomialDecay'][0]).toBe(PolynomialDecay);
  });

  it('does not mutate the config it is given', () => {
    const serialized = serializeSchedule(schedules()[1]);
    const copy = JSON.parse(JSON.stringify(serialized));
    deserializeSchedule(serialized);
    expect(serialized).toEqual(copy);
  });

  it('rejects unknown classes and non-schedules with clear messages', () => {
    expect(() => deserializeSchedule({className: 'NoSuchSchedule', config: {}}))
        .toThrow('deserializeSchedule: unknown schedule class "NoSuchSchedule"');
    expect(() => deserializeSchedule('ConstantSparsity'))
        .toThrow("deserializeSchedule: 'serialized' must be an object, but got \"ConstantSparsity\".");
  });
});

describe('a custom schedule', () => {
  class EveryOtherStep extends PruningSchedule {
    static className = 'EveryOtherStepForTest';
    readonly sparsity: number;
    constructor(args: {sparsity: number}) {
      super();
      PruningSchedule.validateSparsity('EveryOtherStep', 'sparsity', args.sparsity);
      this.sparsity = args.sparsity;
    }
    call(step: number) {
      return {shouldPrune: PruningSchedule.shouldPruneInStep(step, 0, -1, 2), sparsity: this.sparsity};
    }
    getConfig() {
      return {sparsity: this.sparsity};
    }
  }
  tf.serialization.registerClass(EveryOtherStep);

  it('uses the shared rules and serializes like the built-in schedules', () => {
    const s = new EveryOtherStep({sparsity: 0.25});
    expect([0, 1, 2, 3].map((step) => s.call(step).shouldPrune)).toEqual([true, false, true, false]);
    const rebuilt = deserializeSchedule(serializeSchedule(s));
    expect(rebuilt).toBeInstanceOf(EveryOtherStep);
    expect(rebuilt.call(4)).toEqual({shouldPrune: true, sparsity: 0.25});
    expect(() => new EveryOtherStep({sparsity: 1.5}))
        .toThrow("EveryOtherStep: 'sparsity' must be in the range [0, 1), but got 1.5.");
  });
});
