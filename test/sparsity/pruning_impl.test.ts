import fc from 'fast-check';

import {PruningError} from '../../src';
import {keepCount, kthLargestMagnitude, magnitudeMask, roundHalfToEven} from '../../src/sparsity/pruning_impl';

const linspace = (a: number, b: number, n: number) =>
  Float32Array.from({length: n}, (_, i) => a + ((b - a) * i) / (n - 1));

describe('the k-rule (SPEC section 4)', () => {
  it('rounds half to even like tf.round', () => {
    expect([0.5, 1.5, 2.5, 3.5, 2.4, 2.6, -1.5].map(roundHalfToEven)).toEqual([0, 2, 2, 4, 2, 3, -2]);
  });

  it.each([
    [5, 0.5, 2], // 2.5 rounds to 2, Math.round would give 3
    [6, 0.25, 4], // 4.5 rounds to 4
    [9, 0.5, 4], // 4.5 rounds to 4
    [10, 0.2, 8],
    [100, 0.5, 50],
    [100, 0.9999, 1], // never fewer than one
    [7, 0, 7],
  ])('keeps %d weights at sparsity %d -> %d', (n, s, k) => {
    expect(keepCount(n, s)).toBe(k);
  });
});

describe('magnitudeMask (tfmot reference vectors)', () => {
  it('[1..10] at 0.2: threshold 3, mask [0,0,1,1,1,1,1,1,1,1]', () => {
    const {mask, threshold} = magnitudeMask(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), 0.2);
    expect(threshold).toBe(3);
    expect(Array.from(mask)).toEqual([0, 0, 1, 1, 1, 1, 1, 1, 1, 1]);
  });

  it('linspace(1, 100, 100) keeps 50 at 0.5 and 1 at 0.9999', () => {
    const count = (m: Float32Array) => m.reduce((a, b) => a + b, 0);
    expect(count(magnitudeMask(linspace(1, 100, 100), 0.5).mask)).toBe(50);
    expect(count(magnitudeMask(linspace(1, 100, 100), 0.9999).mask)).toBe(1);
  });

  it('reproduces the non-zero counts [100,90,90,70,70,50,50,50,50,50] of an increasing schedule', () => {
    const weights = linspace(1, 100, 100);
    const counts = [0, 0.1, 0.1, 0.3, 0.3, 0.5, 0.5, 0.5, 0.5, 0.5].map((s) => {
      const {mask} = magnitudeMask(weights, s);
      for (let i = 0; i < weights.length; i++) weights[i] *= mask[i];
      return weights.reduce((n, w) => n + (w !== 0 ? 1 : 0), 0);
    });
    expect(counts).toEqual([100, 90, 90, 70, 70, 50, 50, 50, 50, 50]);
  });

  it('uses magnitudes: negative weights count by |w|', () => {
    const {mask, threshold} = magnitudeMask(Float32Array.from([-4, 1, -2, 3]), 0.5);
    expect(threshold).toBe(3);
    expect(Array.from(mask)).toEqual([1, 0, 0, 1]);
  });

  it('keeps every tie of the threshold', () => {
    const {mask} = magnitudeMask(Float32Array.from([1, 2, 2, 2, 3]), 0.6);
    expect(Array.from(mask)).toEqual([0, 1, 1, 1, 1]);
  });

  it('keeps every weight of an all-zero kernel', () => {
    expect(Array.from(magnitudeMask(new Float32Array(6), 0.5).mask)).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('keeps every weight of an all-equal kernel, and the single weight of a one-element kernel', () => {
    expect(Array.from(magnitudeMask(Float32Array.from([-2, 2, 2, -2]), 0.75).mask)).toEqual([1, 1, 1, 1]);
    expect(Array.from(magnitudeMask(Float32Array.from([0.3]), 0.99).mask)).toEqual([1]);
  });

  it('does not modify the values it is given', () => {
    const values = Float32Array.from([3, -1, 2]);
    magnitudeMask(values, 0.5);
    expect(Array.from(values)).toEqual([3, -1, 2]);
  });

  it('rejects NaN and infinite weights with a PruningError naming the weight and the index', () => {
    expect(() => magnitudeMask(Float32Array.from([1, NaN, 2]), 0.5, 'weight "d/kernel"')).toThrow(PruningError);
    expect(() => magnitudeMask(Float32Array.from([1, NaN, 2]), 0.5, 'weight "d/kernel"'))
        .toThrow('Cannot prune weight "d/kernel": it holds NaN (at flat index 1).');
    expect(() => magnitudeMask(Float32Array.from([-Infinity, 2]), 0.5, 'w'))
        .toThrow('Cannot prune w: it holds an infinite value (at flat index 0).');
  });
});

describe('radix selection matches a full sort (property)', () => {
  const floats = fc.float32Array({minLength: 1, maxLength: 300, noNaN: true, noDefaultInfinity: true});

  it('finds the k-th largest magnitude for any finite float32 array and any k', () => {
    fc.assert(fc.property(floats, fc.nat(), (values, seed) => {
      const k = 1 + (seed % values.length);
      const sorted = Array.from(values, Math.abs).sort((a, b) => b - a);
      expect(kthLargestMagnitude(values, k).value).toBe(sorted[k - 1]);
    }), {numRuns: 300});
  });

  it('keeps exactly k weights unless there are ties at the threshold, and never zero', () => {
    fc.assert(fc.property(floats, fc.double({min: 0, max: 0.999, noNaN: true}), (values, s) => {
      const {mask, threshold} = magnitudeMask(values, s);
      const kept = mask.reduce((a, b) => a + b, 0);
      const k = keepCount(values.length, s);
      const above = Array.from(values).filter((v) => Math.abs(v) > threshold).length;
      expect(kept).toBeGreaterThanOrEqual(Math.max(k, 1));
      expect(above).toBeLessThan(k);
      expect(Array.from(mask).every((m) => m === 0 || m === 1)).toBe(true);
    }), {numRuns: 300});
  });
});
