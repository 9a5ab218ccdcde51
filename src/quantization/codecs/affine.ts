/**
 * What the affine codecs (int8, uint8, uint16) share: formats of unsigned
 * integer codes, tfjs's own per-tensor layout (`{dtype: 'uint8' | 'uint16',
 * scale, min}`, decoded by every stock tfjs loader as `code * scale + min`;
 * the per-channel layout is in per_channel.ts), the manifest entry of either
 * layout, the encoding of codes of 8 or 16 bits, and the record of an affine
 * codec (uint8, uint16).
 */
import type * as tf from '@tensorflow/tfjs-core';

import {describeValue} from '../../util/validation';
import type {PerChannelQuantization} from '../manifest';
import type {Codec, CodeFormat, ManifestQuantization, WeightName} from './codec';
import {uint16Codes, uint16Target} from './codec';
import {AffineParams, encodeAffine} from './kernels';
import {ChannelLayout, channelLayout, elementCount} from './layout';
import {PER_CHANNEL} from './per_channel';

const {fround} = Math;

/** The largest finite float32 value. */
const FLOAT32_MAX = 3.4028234663852886e38;

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** Whether `value` is a finite number > 0 that float32 holds (1e300 and 3.5e38 are Infinity in float32). */
export function isFiniteFloat32Positive(value: unknown): value is number {
  return typeof value === 'number' && value > 0 && Number.isFinite(fround(value));
}

function holds(dtype: string, value: number): boolean {
  if (dtype === 'int32') return value >= INT32_MIN && value <= INT32_MAX;
  return Number.isFinite(fround(value));
}

type PerTensorQuantization = {scale: number; min: number};

/** `{dtype: 'uint8' | 'uint16', scale, min}`: tfjs decodes `code * scale + min`. */
function checkPerTensor(caller: string, spec: tf.io.WeightsManifestEntry, highest: number): void {
  const label = `weight '${spec.name}'`;
  const q = spec.quantization as Record<string, unknown>;
  const scale = q['scale'];
  if (!isFiniteFloat32Positive(scale)) {
    throw new RangeError(`${caller}: ${label}: quantization.scale must be a finite float32 > 0, but got ` +
        `${describeValue(scale)}.`);
  }
  if (fround(highest * scale) === 0) {
    throw new RangeError(`${caller}: ${label}: quantization.scale must be large enough that ${highest} * scale is ` +
        `not 0 in float32 (every code would decode to min), but got ${describeValue(scale)}.`);
  }
  const min = q['min'];
  if (typeof min !== 'number' || !Number.isFinite(min)) {
    throw new RangeError(`${caller}: ${label}: quantization.min must be a finite number, but got ` +
        `${describeValue(min)}.`);
  }
}

/** The lowest and the highest code present must decode to finite values of the weight's dtype. */
function checkPerTensorCodes(caller: string, spec: tf.io.WeightsManifestEntry, codes: Uint8Array | Uint16Array): void {
  if (codes.length === 0) return;
  let lowest = codes[0];
  let highest = codes[0];
  for (let i = 1; i < codes.length; i++) {
    const code = codes[i];
    if (code < lowest) lowest = code;
    if (code > highest) highest = code;
  }
  const {scale, min} = spec.quantization as unknown as PerTensorQuantization;
  for (const code of [lowest, highest]) {
    const value = code * scale + min;
    if (!holds(spec.dtype, value)) {
      throw new RangeError(`${caller}: weight '${spec.name}': code ${code} decodes to ${code} * ${scale} + ${min} = ` +
          `${spec.dtype === 'int32' ? value : fround(value)} in ${spec.dtype}; every code must decode to a finite ` +
          `${spec.dtype} value.`);
    }
  }
}

/** How the codes of one layout (per tensor, per channel) are checked and decoded, as integers. */
export interface AffineLayout {
  readonly perChannel: boolean;
  /** The weight dtypes an entry may declare. */
  readonly weightDtypes: readonly string[];
  checkEntry(caller: string, spec: tf.io.WeightsManifestEntry, highestCode: number): void;
  checkCodes(caller: string, spec: tf.io.WeightsManifestEntry, codes: Uint8Array | Uint16Array): void;
  decode(spec: tf.io.WeightsManifestEntry, codes: Uint8Array | Uint16Array, out: Float32Array): void;
}

/** tfjs's own per-tensor layout: `{dtype, scale, min}`, decoded as `code * scale + min`. */
const PER_TENSOR: AffineLayout = {
  perChannel: false,
  weightDtypes: ['float32', 'int32'],
  checkEntry: checkPerTensor,
  checkCodes: checkPerTensorCodes,
  decode(spec, codes, out) {
    const {scale, min} = spec.quantization as unknown as PerTensorQuantization;
    for (let i = 0; i < out.length; i++) out[i] = codes[i] * scale + min;
  },
};

/** The format `dtype` of unsigned codes of `bytesPerElement` bytes (little-endian) laid out as `layout`. */
export function affineFormat<D extends string>(dtype: D, bytesPerElement: 1 | 2, layout: AffineLayout): CodeFormat<D> {
  const highestCode = 2 ** (8 * bytesPerElement) - 1;
  const integers = (bytes: Uint8Array) => (bytesPerElement === 1 ? bytes : uint16Codes(bytes));
  return {
    dtype,
    bytesPerElement,
    highestCode,
    perChannel: layout.perChannel,
    weightDtypes: layout.weightDtypes,
    checkEntry: (caller, spec) => layout.checkEntry(caller, spec, highestCode),
    checkCodes: (caller, spec, codes) => layout.checkCodes(caller, spec, integers(codes)),
    decode(spec, bytes) {
      const out = new Float32Array(elementCount(spec.shape));
      layout.decode(spec, integers(bytes), out);
      return out;
    },
  };
}

/**
 * The `quantization` field for affine codes: tfjs's `{dtype, scale, min}` per tensor
 * (`axis` null), else `{dtype: '<dtype>-per-channel', axis, scale, zeroPoint}`.
 */
export function affineEntry(formats: {perTensor: CodeFormat; perChannel: CodeFormat | null}, axis: number | null,
    params: AffineParams): ManifestQuantization {
  if (axis === null) {
    return {
      dtype: formats.perTensor.dtype as ManifestQuantization['dtype'],
      scale: params.scale[0], min: -params.zeroPoint[0] * params.scale[0],
    };
  }
  const perChannel = {
    dtype: formats.perChannel!.dtype, axis, scale: params.scale, zeroPoint: params.zeroPoint,
  } as PerChannelQuantization;
  // The manifest type only lists tfjs's own dtypes; this one is deliberately unknown to tfjs.
  return perChannel as unknown as ManifestQuantization;
}

/**
 * Rejects affine codes whose lowest or highest code decodes beyond float32: the range, widened so
 * that 0 is exact, can pass ±FLOAT32_MAX for weights next to it, and would load as an infinity.
 */
function checkDecodedRange(weight: WeightName, dtype: string, params: AffineParams, highestCode: number): void {
  params.scale.forEach((scale, c) => {
    const lowest = -params.zeroPoint[c] * scale;
    const highest = (highestCode - params.zeroPoint[c]) * scale;
    if (!Number.isFinite(fround(lowest)) || !Number.isFinite(fround(highest))) {
      throw new RangeError(`${weight.caller}: weight '${weight.name}' cannot be stored as '${dtype}' codes: its ` +
          `range, widened to hold 0 exactly, decodes to [${lowest}, ${highest}], beyond float32's ±${FLOAT32_MAX}; ` +
          "use dtype 'int8' or exclude the weight.");
    }
  });
}

/**
 * Affine codes of `bits` bits (see encodeAffine) written into `out` (any alignment),
 * after checking that every code decodes within float32.
 */
export function encodeAffineCodes(values: Float32Array, layout: ChannelLayout, bits: 8 | 16, out: Uint8Array,
    weight: WeightName, dtype: string): AffineParams {
  if (bits === 8) {
    const params = encodeAffine(values, layout, 8, out);
    checkDecodedRange(weight, dtype, params, 255);
    return params;
  }
  const target = uint16Target(out, values.length);
  const params = encodeAffine(values, layout, 16, target.codes);
  checkDecodedRange(weight, dtype, params, 65535);
  target.flush();
  return params;
}

/**
 * The record of an affine codec of `bytesPerElement`-byte codes (see encodeAffine): tfjs's
 * per-tensor format named `name`, and the per-channel format `perChannelDtype`.
 */
export function affineCodec<N extends string, C extends string>(name: N, perChannelDtype: C, bytesPerElement: 1 | 2):
    Codec<N, C> {
  const codec: Codec<N, C> = {
    name,
    bytesPerElement,
    perTensor: affineFormat(name, bytesPerElement, PER_TENSOR),
    perChannel: affineFormat(perChannelDtype, bytesPerElement, PER_CHANNEL),
    wrote: () => true,
    encode(values, shape, axis, out, weight) {
      const bits = bytesPerElement === 1 ? 8 : 16;
      return affineEntry(codec, axis, encodeAffineCodes(values, channelLayout(shape, axis), bits, out, weight, name));
    },
  };
  return codec;
}
