/**
 * Writes one float32 weight as codes with the codecs of src/quantization (the
 * same kernels and manifest entries as quantizeDynamicRange): symmetric int8
 * stored as uint8 with zero point 128, affine uint8/uint16 with an exact zero,
 * or float16; per tensor or per channel.
 */
import type * as tf from '@tensorflow/tfjs-core';

import {
  AffineParams,
  FLOAT16_MAX,
  NonFiniteValueError,
  channelLayout,
  encodeAffine,
  encodeFloat16,
  encodeSymmetricInt8,
} from '../quantization/codecs';
import type {PerChannelQuantization} from '../quantization/manifest';
import type {QuantizationDtype} from '../quantization/quantize';

/** A weight's new manifest entry and bytes. */
export interface EncodedWeight {
  spec: tf.io.WeightsManifestEntry;
  bytes: Uint8Array;
}

type ManifestQuantization = NonNullable<tf.io.WeightsManifestEntry['quantization']>;

/** The largest finite float32 value. */
const FLOAT32_MAX = 3.4028234663852886e38;

function quantizationEntry(dtype: 'uint8' | 'uint16', axis: number | null, params: AffineParams): ManifestQuantization {
  if (axis === null) return {dtype, scale: params.scale[0], min: -params.zeroPoint[0] * params.scale[0]};
  const perChannel: PerChannelQuantization = {
    dtype: `${dtype}-per-channel`, axis, scale: params.scale, zeroPoint: params.zeroPoint,
  };
  // The manifest type only lists tfjs's own dtypes; this one is deliberately unknown to tfjs.
  return perChannel as unknown as ManifestQuantization;
}

function checkDecodedRange(caller: string, name: string, dtype: string, params: AffineParams, highest: number): void {
  params.scale.forEach((scale, c) => {
    const low = -params.zeroPoint[c] * scale;
    const high = (highest - params.zeroPoint[c]) * scale;
    if (!Number.isFinite(Math.fround(low)) || !Number.isFinite(Math.fround(high))) {
      throw new RangeError(`${caller}: weight '${name}' cannot be stored as '${dtype}' codes: its range, widened ` +
          `to hold 0 exactly, decodes to [${low}, ${high}], beyond float32's ±${FLOAT32_MAX}; use dtype 'int8' or ` +
          'exclude the weight.');
    }
  });
}

/** The float32 values as bytes, in a manifest entry without quantization. */
export function encodeRaw(spec: tf.io.WeightsManifestEntry, values: Float32Array): EncodedWeight {
  const {quantization: _dropped, ...plain} = spec;
  return {spec: {...plain, dtype: 'float32'}, bytes: new Uint8Array(values.buffer, values.byteOffset, values.byteLength)};
}

/**
 * Encodes `values` (the float32 values of the weight `spec` describes) as `dtype`
 * codes, per tensor (`axis` null) or with one scale per index along `axis`.
 *
 * @throws RangeError naming `caller` and the weight when it holds NaN or an infinity,
 *     a value beyond float16's range (float16), or values whose affine codes would
 *     decode beyond float32 (uint8, uint16).
 */
export function encodeWeight(caller: string, spec: tf.io.WeightsManifestEntry, values: Float32Array,
    dtype: QuantizationDtype, axis: number | null): EncodedWeight {
  const {quantization: _dropped, ...plain} = spec;
  const base: tf.io.WeightsManifestEntry = {...plain, dtype: 'float32'};
  const name = spec.name;
  if (dtype === 'float16') {
    const codes = new Uint16Array(values.length);
    const bad = encodeFloat16(values, codes);
    if (bad >= 0) {
      throw new RangeError(`${caller}: weight '${name}' holds ${values[bad]} at index ${bad}, which does not fit in ` +
          `float16 (finite values up to ${FLOAT16_MAX}); exclude it or use dtype 'int8', 'uint8' or 'uint16'.`);
    }
    return {spec: {...base, quantization: {dtype: 'float16'}}, bytes: new Uint8Array(codes.buffer)};
  }
  const layout = channelLayout(spec.shape, axis);
  try {
    if (dtype === 'uint16') {
      const codes = new Uint16Array(values.length);
      const params = encodeAffine(values, layout, 16, codes);
      checkDecodedRange(caller, name, dtype, params, 65535);
      return {spec: {...base, quantization: quantizationEntry('uint16', axis, params)}, bytes: new Uint8Array(codes.buffer)};
    }
    const bytes = new Uint8Array(values.length);
    let params: AffineParams;
    if (dtype === 'int8') {
      params = encodeSymmetricInt8(values, layout, bytes);
    } else {
      params = encodeAffine(values, layout, 8, bytes);
      checkDecodedRange(caller, name, dtype, params, 255);
    }
    return {spec: {...base, quantization: quantizationEntry('uint8', axis, params)}, bytes};
  } catch (e) {
    if (e instanceof NonFiniteValueError) {
      throw new RangeError(`${caller}: weight '${name}' holds NaN or an infinite value; only finite weights can be ` +
          'quantized.');
    }
    throw e;
  }
}
