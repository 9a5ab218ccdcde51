/**
 * float16: IEEE half precision, round to nearest even, 2 bytes a weight, per
 * tensor only (no scale to choose). tfjs's own `{dtype: 'float16'}` entry,
 * which every stock tfjs loader decodes.
 */
import type * as tf from '@tensorflow/tfjs-core';

import type {Codec, CodeFormat} from './codec';
import {uint16Codes, uint16Target} from './codec';

/** Largest finite float16 value. */
export const FLOAT16_MAX = 65504;

/**
 * Converts float32 values to IEEE 754 half-precision bit patterns, rounding
 * to nearest with ties to even (subnormals included).
 *
 * @returns The index of the first value that is not finite or does not fit
 *     in float16 (|v| rounds beyond 65504), or -1 when every value fits.
 */
export function encodeFloat16(values: Float32Array, out: Uint16Array): number {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < bits.length; i++) {
    const x = bits[i];
    const sign = (x >>> 16) & 0x8000;
    const exponent = (x >>> 23) & 0xff;
    const mantissa = x & 0x7fffff;
    // Exponent rebased from float32's bias 127 to float16's bias 15.
    const e = exponent - 112;
    let half: number;
    if (exponent === 0xff || e >= 31) {
      return i;
    } else if (e <= 0) {
      if (e < -10) {
        half = 0; // below half the smallest subnormal (2^-25): rounds to zero
      } else {
        const m = mantissa | 0x800000;
        const shift = 14 - e;
        half = m >>> shift;
        const rest = m & ((1 << shift) - 1);
        const halfway = 1 << (shift - 1);
        if (rest > halfway || (rest === halfway && (half & 1) === 1)) half++;
      }
    } else {
      half = (e << 10) | (mantissa >>> 13);
      const rest = mantissa & 0x1fff;
      if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half++;
      if (half >= 0x7c00) return i;
    }
    out[i] = sign | half;
  }
  return -1;
}

/** float16 bit pattern -> float32 value, built on first use (256 KiB). */
let float16Table: Float32Array | null = null;

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >>> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** Decodes IEEE half-precision bit patterns into float32 values (exactly: every float16 is a float32). */
export function decodeFloat16(codes: Uint16Array, out: Float32Array): void {
  if (float16Table === null) {
    float16Table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) float16Table[h] = halfToFloat(h);
  }
  const table = float16Table;
  for (let i = 0; i < codes.length; i++) out[i] = table[codes[i]];
}

/** No code may be an infinity or a NaN pattern (exponent bits all set). */
function checkFloat16Codes(caller: string, spec: tf.io.WeightsManifestEntry, bytes: Uint8Array): void {
  const codes = uint16Codes(bytes);
  for (let i = 0; i < codes.length; i++) {
    if ((codes[i] & 0x7c00) === 0x7c00) {
      throw new RangeError(`${caller}: weight '${spec.name}': the float16 code 0x${codes[i].toString(16)} of ` +
          `element ${i} decodes to ${(codes[i] & 0x3ff) === 0 ? 'an infinity' : 'NaN'}; every code must decode ` +
          'to a finite value.');
    }
  }
}

const FLOAT16_FORMAT: CodeFormat<'float16'> = {
  dtype: 'float16',
  bytesPerElement: 2,
  highestCode: null,
  perChannel: false,
  weightDtypes: ['float32'],
  checkEntry: () => {}, // the entry has no field but its dtype
  checkCodes: checkFloat16Codes,
  decode(_spec, bytes) {
    const codes = uint16Codes(bytes);
    const out = new Float32Array(codes.length);
    decodeFloat16(codes, out);
    return out;
  },
};

/** The `'float16'` dtype option. */
export const float16: Codec<'float16', never> = {
  name: 'float16',
  bytesPerElement: 2,
  perTensor: FLOAT16_FORMAT,
  perChannel: null,
  wrote: () => true,
  encode(values, _shape, _axis, out, weight) {
    const target = uint16Target(out, values.length);
    const bad = encodeFloat16(values, target.codes);
    if (bad >= 0) {
      throw new RangeError(`${weight.caller}: weight '${weight.name}' holds ${values[bad]} at index ${bad}, which ` +
          `does not fit in float16 (finite values up to ${FLOAT16_MAX}); exclude it or use dtype 'int8', 'uint8' ` +
          "or 'uint16'.");
    }
    target.flush();
    return {dtype: 'float16'};
  },
};
