/**
 * The quantization dtypes, one record each (see codec.ts), and the lookups every
 * reader and writer of this package goes through: quantizeDynamicRange,
 * loadQuantizedLayersModel, the manifest checks, quantizeArtifacts and the
 * command line.
 */
import type * as tf from '@tensorflow/tfjs-core';

import type {Codec, CodeFormat, ManifestQuantization, WeightName} from './codec';
import {float16} from './float16';
import {int8} from './int8';
import {NonFiniteValueError} from './kernels';
import {uint16} from './uint16';
import {uint8} from './uint8';

/**
 * Every `dtype` option, in the order error messages list them. To add a dtype, write
 * one file beside this one exporting a {@link Codec} (with its {@link CodeFormat}s)
 * and add it here: nothing else changes. A codec that writes the formats of another
 * and recognizes a subset of their entries (int8 in uint8's formats) comes first.
 */
export const CODECS = [
  int8,
  uint8,
  uint16,
  float16,
] as const;

/** One of {@link CODECS}. */
export type ListedCodec = (typeof CODECS)[number];

/** The names of the dtype option: `'int8' | 'uint8' | 'uint16' | 'float16'`. */
export type CodecName = ListedCodec['name'];

/** The per-channel `quantization.dtype`s of the manifest. */
export type PerChannelDtype = NonNullable<ListedCodec['perChannel']>['dtype'];

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

const ALL_FORMATS: readonly CodeFormat[] =
    unique(CODECS.flatMap((codec): CodeFormat[] => [codec.perTensor, ...(codec.perChannel ? [codec.perChannel] : [])]));

/**
 * Every `quantization.dtype` of the manifest, in the order messages list them: the
 * integer codes per tensor, then per channel, then the others (float16).
 */
export const FORMATS: readonly CodeFormat[] = [
  ...ALL_FORMATS.filter((f) => f.highestCode !== null && !f.perChannel),
  ...ALL_FORMATS.filter((f) => f.highestCode !== null && f.perChannel),
  ...ALL_FORMATS.filter((f) => f.highestCode === null),
];

/** The codec of a `dtype` option, or undefined (own names only: 'constructor' finds nothing). */
export function codecNamed(name: unknown): ListedCodec | undefined {
  return CODECS.find((codec) => codec.name === name);
}

/** The format of a manifest `quantization.dtype`, or undefined when no codec writes it. */
export function formatOf(dtype: unknown): CodeFormat | undefined {
  return FORMATS.find((format) => format.dtype === dtype);
}

/** The codec that wrote a quantized entry (already checked), or undefined for an unknown dtype. */
export function codecOf(spec: tf.io.WeightsManifestEntry): ListedCodec | undefined {
  const q = spec.quantization;
  if (q == null) return undefined;
  const dtype: string = q.dtype;
  return CODECS.find((codec) => (codec.perTensor.dtype === dtype || codec.perChannel?.dtype === dtype) &&
      codec.wrote(q));
}

/**
 * `codec.encode`, with NaN and infinities reported as a RangeError naming the caller
 * and the weight.
 */
export function encodeWeightCodes(codec: Codec, values: Float32Array, shape: readonly number[], axis: number | null,
    out: Uint8Array, weight: WeightName): ManifestQuantization {
  try {
    return codec.encode(values, shape, axis, out, weight);
  } catch (e) {
    if (e instanceof NonFiniteValueError) {
      throw new RangeError(`${weight.caller}: weight '${weight.name}' holds NaN or an infinite value; only finite ` +
          'weights can be quantized.');
    }
    throw e;
  }
}

export type {Codec, CodeFormat, ManifestQuantization, WeightName} from './codec';
// The kernels, for their tests and for callers that quantize typed arrays directly.
export {encodeFloat16, decodeFloat16, FLOAT16_MAX} from './float16';
export type {AffineParams} from './kernels';
export {
  INT8_ZERO_POINT,
  NonFiniteValueError,
  channelMaxAbs,
  channelMinMax,
  decodeAffine,
  encodeAffine,
  encodeSymmetricInt8,
} from './kernels';
export type {ChannelLayout} from './layout';
export {channelLayout, elementCount} from './layout';
