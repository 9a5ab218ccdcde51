/**
 * The information bound of a model's weight data: the size an ideal coder
 * reaches when it codes where the zeros are (the mask's entropy) and then each
 * non-zero value on its own (order-0 entropy). Shared by bench/quantize.ts and
 * the benchmark suite (bench/index.ts).
 */
import type * as tf from '@tensorflow/tfjs-core';

import {weightBytes} from '../src/io/model_json';
import {PerChannelQuantization, isPerChannel, specByteLength} from '../src/quantization/manifest';

function entropyBits(counts: Map<number, number>, total: number): number {
  let bits = 0;
  for (const c of counts.values()) bits -= c * Math.log2(c / total);
  return bits;
}

function binaryEntropyBits(k: number, n: number): number {
  if (k === 0 || k === n) return 0;
  const p = k / n;
  return -n * (p * Math.log2(p) + (1 - p) * Math.log2(1 - p));
}

/**
 * The information bound of the weight data, in bytes: for each weight, the
 * entropy of its zero mask plus the order-0 entropy of its non-zero codes
 * (quantized weights: the stored 1- or 2-byte codes; float32 weights: each of
 * the 4 bytes of the non-zero values as a separate symbol stream, a byte-wise
 * estimate, since distinct float32 values are nearly all unique).
 */
export function informationBound(artifacts: tf.io.ModelArtifacts): number {
  const data = weightBytes(artifacts);
  let offset = 0;
  let bits = 0;
  for (const spec of artifacts.weightSpecs!) {
    const size = specByteLength(spec)!;
    const bytes = data.subarray(offset, offset + size);
    offset += size;
    if (isPerChannel(spec)) {
      const q = spec.quantization as unknown as PerChannelQuantization;
      const codes = q.dtype === 'uint8-per-channel' ? bytes : new Uint16Array(bytes.slice().buffer);
      bits += perChannelBound(codes, q);
      continue;
    }
    const q = spec.quantization;
    const width = q === undefined ? 4 : size / spec.shape.reduce((a, b) => a * b, 1);
    const symbols = width === 1 ? bytes : width === 2 ? new Uint16Array(bytes.slice().buffer) : new Uint32Array(bytes.slice().buffer);
    // Which symbol is zero: float32 0 bits, float16 0, or the zero point of uint8/uint16 codes.
    const zero = q && q.dtype !== 'float16' ? Math.round(-q.min! / q.scale!) : 0;
    let nonZero = 0;
    const planes = Array.from({length: q === undefined ? 4 : 1}, () => new Map<number, number>());
    for (let i = 0; i < symbols.length; i++) {
      const s = symbols[i];
      if (s === zero || (q === undefined && s === 0x80000000)) continue; // -0 is a zero too
      nonZero++;
      if (q === undefined) {
        for (let b = 0; b < 4; b++) {
          const v = (s >>> (8 * b)) & 0xff;
          planes[b].set(v, (planes[b].get(v) ?? 0) + 1);
        }
      } else {
        planes[0].set(s, (planes[0].get(s) ?? 0) + 1);
      }
    }
    bits += binaryEntropyBits(nonZero, symbols.length);
    for (const plane of planes) bits += entropyBits(plane, nonZero);
  }
  return bits / 8;
}

function perChannelBound(codes: Uint8Array | Uint16Array, q: PerChannelQuantization): number {
  const channels = q.scale.length;
  const zeros = q.zeroPoint;
  const counts = new Map<number, number>();
  let nonZero = 0;
  for (let i = 0; i < codes.length; i++) {
    const c = i % channels; // the channel axis is the last one for the kernels measured here
    if (codes[i] === zeros[c]) continue;
    nonZero++;
    counts.set(codes[i], (counts.get(codes[i]) ?? 0) + 1);
  }
  return binaryEntropyBits(nonZero, codes.length) + entropyBits(counts, nonZero);
}
