import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';

import {
  channelLayout,
  decodeAffine,
  encodeAffine,
  encodeFloat16,
  encodeSymmetricInt8,
} from '../../src/quantization/codecs';

// Float32 rounding of a decoded value adds at most half an ulp of |value| on top of the quantization error.
function tolerance(step: number, value: number): number {
  return step / 2 + Math.abs(value) * 2 ** -23 + 1e-12;
}

const weights = fc.array(fc.oneof(fc.float({min: -8, max: 8, noNaN: true}), fc.constant(0)), {
  minLength: 1, maxLength: 300,
}).map((xs) => Float32Array.from(xs));

describe('encodeSymmetricInt8', () => {
  it('uses scale = max|w| / 127 and codes round(w / scale) + 128, ties away from zero', () => {
    // max|w| = 127 / 128, so scale = 2^-7 and every value below is an exact multiple of half a step.
    const values = Float32Array.from([0, 127 / 128, -0.25, 3 / 256, -3 / 256, -127 / 128]);
    const codes = new Uint8Array(values.length);
    const params = encodeSymmetricInt8(values, channelLayout([values.length], null), codes);
    expect(params.scale).toEqual([2 ** -7]);
    expect(params.zeroPoint).toEqual([128]);
    expect(Array.from(codes)).toEqual([128, 255, 96, 130, 126, 1]);
  });

  it('keeps every element within half a step and every zero exactly zero (any input)', () => {
    fc.assert(fc.property(weights, fc.integer({min: 1, max: 4}), (values, channels) => {
      const n = values.length - (values.length % channels);
      if (n === 0) return true;
      const v = values.subarray(0, n);
      const layout = channelLayout([n / channels, channels], channels > 1 ? 1 : null);
      const codes = new Uint8Array(n);
      const params = encodeSymmetricInt8(v, layout, codes);
      const decoded = new Float32Array(n);
      decodeAffine(codes, layout, params, decoded);
      for (let i = 0; i < n; i++) {
        const step = params.scale[channels > 1 ? i % channels : 0];
        if (v[i] === 0 && decoded[i] !== 0) return false;
        if (Math.abs(decoded[i] - v[i]) > tolerance(step, v[i])) return false;
        if (codes[i] === 0) return false; // narrow range: code 0 (int8 -128) is never used
      }
      return true;
    }));
  });

  it('gives an all-zero channel scale 1 and zero codes', () => {
    const codes = new Uint8Array(4);
    const params = encodeSymmetricInt8(new Float32Array(4), channelLayout([2, 2], 1), codes);
    expect(params.scale).toEqual([1, 1]);
    expect(Array.from(codes)).toEqual([128, 128, 128, 128]);
  });
});

describe('encodeAffine', () => {
  it.each([8, 16] as const)('keeps %d-bit codes within half a step, with zero exact', (bits) => {
    fc.assert(fc.property(weights, (v) => {
      const layout = channelLayout([v.length], null);
      const codes = bits === 8 ? new Uint8Array(v.length) : new Uint16Array(v.length);
      const params = encodeAffine(v, layout, bits, codes);
      if (!Number.isInteger(params.zeroPoint[0])) return false; // nudged to an integer
      const decoded = new Float32Array(v.length);
      decodeAffine(codes, layout, params, decoded);
      return v.every((x, i) => (x === 0 ? decoded[i] === 0 : Math.abs(decoded[i] - x) <= tolerance(params.scale[0], x)));
    }));
  });

  it('widens a positive range to include zero (min 0, zero point 0)', () => {
    const codes = new Uint8Array(3);
    const params = encodeAffine(Float32Array.from([1, 2, 2.55]), channelLayout([3], null), 8, codes);
    expect(params.scale[0]).toBe(Math.fround(2.55) / 255);
    expect(params.zeroPoint).toEqual([0]);
    expect(Array.from(codes)).toEqual([100, 200, 255]);
  });
});

describe('encodeFloat16', () => {
  function viaStockDecoder(bits: Uint16Array): Float32Array {
    const spec: tf.io.WeightsManifestEntry = {name: 'w', shape: [bits.length], dtype: 'float32', quantization: {dtype: 'float16'}};
    const {w} = tf.io.decodeWeights(bits.slice().buffer, [spec]);
    const out = w.dataSync() as Float32Array;
    w.dispose();
    return out;
  }

  it('rounds to nearest with ties to even, subnormals included', () => {
    const ulp = 2 ** -10;
    const values = Float32Array.from([
      0, -0, 1, 1 + ulp / 2, 1 + (3 * ulp) / 2, 65504, 2 ** -24, 2 ** -25, 3 * 2 ** -25, 2 ** -26, -2.5,
    ]);
    const bits = new Uint16Array(values.length);
    expect(encodeFloat16(values, bits)).toBe(-1);
    expect(Array.from(viaStockDecoder(bits))).toEqual([
      0, -0, 1, 1, 1 + 2 * ulp, 65504, 2 ** -24, 0, 2 * 2 ** -24, 0, -2.5,
    ]);
  });

  it('matches the nearest half-precision value within half an ulp (any input)', () => {
    fc.assert(fc.property(
        fc.array(fc.float({min: -60000, max: 60000, noNaN: true}), {minLength: 1, maxLength: 200}), (xs) => {
          const v = Float32Array.from(xs);
          const bits = new Uint16Array(v.length);
          if (encodeFloat16(v, bits) !== -1) return false;
          const decoded = viaStockDecoder(bits);
          return v.every((x, i) => Math.abs(decoded[i] - x) <= Math.max(Math.abs(x) * 2 ** -11, 2 ** -25));
        }));
  });

  it('reports the first value beyond the float16 range, or not finite', () => {
    const bits = new Uint16Array(4);
    expect(encodeFloat16(Float32Array.from([1, 65519, 65520, 1]), bits)).toBe(2);
    expect(encodeFloat16(Float32Array.from([1, NaN]), bits)).toBe(1);
    expect(encodeFloat16(Float32Array.from([-Infinity]), bits)).toBe(0);
  });
});
