/**
 * Writes one float32 weight as codes with the codecs of src/quantization (the
 * same kernels and manifest entries as quantizeDynamicRange): symmetric int8
 * stored as uint8 with zero point 128, affine uint8/uint16 with an exact zero,
 * or float16; per tensor or per channel.
 */
import type * as tf from '@tensorflow/tfjs-core';

import {codecNamed, encodeWeightCodes} from '../quantization/codecs';
import type {QuantizationDtype} from '../quantization/quantize';

/** A weight's new manifest entry and bytes. */
export interface EncodedWeight {
  spec: tf.io.WeightsManifestEntry;
  bytes: Uint8Array;
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
  const codec = codecNamed(dtype)!;
  const bytes = new Uint8Array(values.length * codec.bytesPerElement);
  const quantization = encodeWeightCodes(codec, values, spec.shape, axis, bytes, {caller, name: spec.name});
  return {spec: {...base, quantization}, bytes};
}
