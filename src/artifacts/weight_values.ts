/**
 * The weights of a set of artifacts, one entry each, and their float32 values:
 * plain float32 weights are read as they are; weights tfjs-converter quantized
 * (`float16`, affine `uint8`/`uint16`) and this package's per-channel codes are
 * decoded first, exactly as tfjs's loaders decode them. Browser-safe.
 */
import type * as tf from '@tensorflow/tfjs-core';

import {weightBytes} from '../io/model_json';
import {AffineParams, channelLayout, decodeAffine} from '../quantization/codecs';
import {PerChannelQuantization, elementCount, isPerChannel} from '../quantization/manifest';
import {checkWeights} from '../quantization/manifest_check';

/** One weight: its manifest entry and its bytes in the weight data. */
export interface WeightEntry {
  readonly spec: tf.io.WeightsManifestEntry;
  readonly bytes: Uint8Array;
}

/**
 * The entries of `artifacts`, after the checks every reader of this package runs
 * (entries well formed, data exactly as long as they declare, codes that decode to
 * finite values; see manifest_check.ts).
 *
 * @throws TypeError, RangeError or Error naming `caller` and the weight when they fail,
 *     or when an entry has a dtype that nobody here can place in the data.
 */
export function readWeightEntries(caller: string, artifacts: tf.io.ModelArtifacts): WeightEntry[] {
  const specs = artifacts.weightSpecs ?? [];
  if (artifacts.weightData == null) {
    if (Array.isArray(specs) && specs.length > 0) {
      throw new Error(`${caller}: the manifest lists ${specs.length} weight(s) (the first is '${specs[0]?.name}'), ` +
          'but the artifacts hold no weight data.');
    }
    return [];
  }
  const bytes = weightBytes(artifacts);
  const {slots, complete} = checkWeights(caller, specs, bytes, false);
  if (!complete) {
    const spec = specs[slots.length];
    throw new Error(`${caller}: weight '${spec.name}' has an unknown dtype ` +
        `(${JSON.stringify(spec.quantization?.dtype ?? spec.dtype)}).`);
  }
  return slots.map(({spec, offset, byteLength}) => ({spec, bytes: bytes.subarray(offset, offset + byteLength)}));
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

/** The codes of a slot as 16-bit integers (copied when they do not start at an even byte). */
function uint16Codes(bytes: Uint8Array): Uint16Array {
  if (bytes.byteOffset % 2 === 0) return new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
  return new Uint16Array(bytes.slice().buffer);
}

/** Whether the entry holds float values this package can decode (float32, plain or quantized). */
export function isFloatWeight(spec: tf.io.WeightsManifestEntry): boolean {
  return spec.dtype === 'float32';
}

/**
 * The float32 values of a float32 entry: a copy of plain values, or the decoded codes
 * (`code * scale + min` for tfjs's uint8/uint16, `(code - zeroPoint[c]) * scale[c]`
 * per channel, float16 widened).
 */
export function decodeFloat32(entry: WeightEntry): Float32Array {
  const {spec, bytes} = entry;
  const n = elementCount(spec.shape);
  const out = new Float32Array(n);
  const q = spec.quantization as {dtype?: string; scale?: number; min?: number} | undefined;
  if (q == null) {
    out.set(new Float32Array(bytes.slice().buffer));
  } else if (q.dtype === 'float16') {
    decodeFloat16(uint16Codes(bytes), out);
  } else if (isPerChannel(spec)) {
    const p = q as unknown as PerChannelQuantization;
    const codes = p.dtype === 'uint8-per-channel' ? bytes : uint16Codes(bytes);
    decodeAffine(codes, channelLayout(spec.shape, p.axis), p as AffineParams, out);
  } else {
    const codes = q.dtype === 'uint8' ? bytes : uint16Codes(bytes);
    const scale = q.scale!;
    const min = q.min!;
    for (let i = 0; i < n; i++) out[i] = codes[i] * scale + min;
  }
  return out;
}

/** Concatenates byte arrays into one ArrayBuffer (the weight data of new artifacts). */
export function concatBytes(parts: readonly Uint8Array[]): ArrayBuffer {
  const total = parts.reduce((sum, part) => sum + part.byteLength, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out.buffer;
}
