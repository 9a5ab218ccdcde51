/**
 * The weights-manifest format written by `quantizeDynamicRange`.
 *
 * Per-tensor weights use tfjs's own `quantization` field (`uint8`/`uint16`
 * with `scale` and `min`, or `float16`), which every stock tfjs loader decodes
 * as `value = code * scale + min`.
 *
 * Per-channel weights use a dtype that tfjs does not know
 * (`'uint8-per-channel'` or `'uint16-per-channel'`), with one `scale` and one
 * integer zero point per index along `axis`. tfjs's `decodeWeights` rejects an unknown
 * quantization dtype with an error naming the weight, so a stock loader fails
 * loudly instead of misreading the bytes; `loadQuantizedLayersModel` decodes them.
 */
import type * as tf from '@tensorflow/tfjs-core';

import {hasOwnKey} from '../util/validation';
import type {PerChannelDtype} from './codecs';
import {formatOf} from './codecs';
import {elementCount} from './codecs/layout';

export {elementCount};

/**
 * The per-channel quantization dtypes only this package decodes
 * (derived from the list of codecs, src/quantization/codecs/index.ts).
 *
 * @useDeclaredType
 */
export type PerChannelQuantizationDtype = PerChannelDtype;

/**
 * The `quantization` field of a per-channel weights-manifest entry.
 *
 * The stored codes are unsigned little-endian integers (one byte for
 * `'uint8-per-channel'`, two for `'uint16-per-channel'`) in the weight's
 * row-major order. The element at channel `c` (its index along `axis`)
 * decodes to `(code - zeroPoint[c]) * scale[c]`, which is tfjs's per-tensor
 * `code * scale + min` with `min = -zeroPoint * scale`, and decodes a zero
 * weight (code `zeroPoint[c]`) to exactly 0. Symmetric int8 weights are
 * stored with zero point 128 in every channel.
 *
 * @category Quantization
 */
export interface PerChannelQuantization {
  /** The code type, `'uint8-per-channel'` or `'uint16-per-channel'`. */
  dtype: PerChannelQuantizationDtype;
  /** The channel axis of the weight's shape. */
  axis: number;
  /** One scale per channel (`shape[axis]` values). */
  scale: number[];
  /** One integer zero point per channel (`shape[axis]` values): the code of the value 0. */
  zeroPoint: number[];
}

/** Bytes per element of an unquantized weight, by tfjs dtype (strings have no fixed size). */
const RAW_BYTES: Readonly<Record<string, number>> = {float32: 4, int32: 4, bool: 1, complex64: 8};

/** Whether a manifest entry holds per-channel codes (which stock tfjs cannot decode). */
export function isPerChannel(spec: tf.io.WeightsManifestEntry): boolean {
  return formatOf((spec.quantization as {dtype?: string} | undefined)?.dtype)?.perChannel === true;
}

/**
 * The number of bytes a manifest entry occupies in the weight data, or
 * `null` when it cannot be known without reading the data (string weights)
 * or the entry names a dtype nobody here knows.
 */
export function specByteLength(spec: tf.io.WeightsManifestEntry): number | null {
  const n = elementCount(spec.shape);
  const quantization = spec.quantization as {dtype?: unknown} | undefined;
  if (quantization != null) {
    const format = formatOf(quantization.dtype);
    return format === undefined ? null : n * format.bytesPerElement;
  }
  // Own keys only: a dtype such as "constructor" must not find Object.prototype's members.
  return typeof spec.dtype === 'string' && hasOwnKey(RAW_BYTES, spec.dtype) ? n * RAW_BYTES[spec.dtype] : null;
}

/** The total byte length of a list of manifest entries, or `null` when one of them has no fixed size. */
export function specsByteLength(specs: readonly tf.io.WeightsManifestEntry[]): number | null {
  let total = 0;
  for (const spec of specs) {
    const bytes = specByteLength(spec);
    if (bytes === null) return null;
    total += bytes;
  }
  return total;
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
