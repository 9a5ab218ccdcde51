/**
 * Writes changed float32 values back in the encoding their weight had: plain
 * float32, float16, tfjs-converter's affine uint8/uint16, or this package's
 * int8 (uint8 codes with `min = -128 * scale`) and per-channel codes. A zero
 * stays exactly zero in every encoding.
 */
import type * as tf from '@tensorflow/tfjs-core';

import {codecOf} from '../quantization/codecs';
import {PerChannelQuantization, isPerChannel} from '../quantization/manifest';
import {EncodedWeight, encodeRaw, encodeWeight} from './encode_weight';

/** `values` encoded as the weight `spec` was (its codec, and its channel axis when per channel). */
export function reencodeLike(caller: string, spec: tf.io.WeightsManifestEntry, values: Float32Array): EncodedWeight {
  const q = spec.quantization;
  if (q == null) return encodeRaw(spec, values);
  const axis = isPerChannel(spec) ? (q as unknown as PerChannelQuantization).axis : null;
  // The entry was checked when it was read: some codec wrote it.
  return encodeWeight(caller, spec, values, codecOf(spec)!.name, axis);
}
