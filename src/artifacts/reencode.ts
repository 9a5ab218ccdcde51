/**
 * Writes changed float32 values back in the encoding their weight had: plain
 * float32, float16, tfjs-converter's affine uint8/uint16, or this package's
 * int8 (uint8 codes with `min = -128 * scale`) and per-channel codes. A zero
 * stays exactly zero in every encoding.
 */
import type * as tf from '@tensorflow/tfjs-core';

import {INT8_ZERO_POINT} from '../quantization/codecs';
import {PerChannelQuantization, isPerChannel} from '../quantization/manifest';
import {EncodedWeight, encodeRaw, encodeWeight} from './encode_weight';

/** Whether uint8 codes are symmetric int8 (zero point 128 in every channel). */
function isSymmetricInt8(spec: tf.io.WeightsManifestEntry): boolean {
  const q = spec.quantization as {dtype?: string; scale?: number; min?: number} | undefined;
  if (q == null) return false;
  if (isPerChannel(spec)) {
    const p = q as unknown as PerChannelQuantization;
    return p.dtype === 'uint8-per-channel' && p.zeroPoint.every((zp) => zp === INT8_ZERO_POINT);
  }
  return q.dtype === 'uint8' && q.min === -INT8_ZERO_POINT * q.scale!;
}

/** `values` encoded as the weight `spec` was (its dtype, and its channel axis when per channel). */
export function reencodeLike(caller: string, spec: tf.io.WeightsManifestEntry, values: Float32Array): EncodedWeight {
  const q = spec.quantization as {dtype?: string} | undefined;
  if (q == null) return encodeRaw(spec, values);
  if (q.dtype === 'float16') return encodeWeight(caller, spec, values, 'float16', null);
  const axis = isPerChannel(spec) ? (q as unknown as PerChannelQuantization).axis : null;
  if (isSymmetricInt8(spec)) return encodeWeight(caller, spec, values, 'int8', axis);
  const bits = q.dtype === 'uint16' || q.dtype === 'uint16-per-channel' ? 'uint16' : 'uint8';
  return encodeWeight(caller, spec, values, bits, axis);
}
