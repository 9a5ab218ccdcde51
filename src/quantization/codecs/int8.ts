/**
 * int8: symmetric, narrow range [-127, 127] (TFLite's scheme): `scale =
 * max|w| / 127`, `q = round(w / scale)`, one byte a weight.
 *
 * Porting note: TFLite stores int8 codes with a zero point of 0. tfjs's
 * manifest only knows unsigned codes (`value = code * scale + min`), so the
 * codes are stored in uint8's formats as `q + 128`: per tensor with
 * `min = -128 * scale`, per channel with zero point 128 in every channel. The
 * decoded values are the same and zero still decodes to exactly 0.
 */
import type {Codec} from './codec';
import {affineEntry} from './affine';
import {INT8_ZERO_POINT, encodeSymmetricInt8} from './kernels';
import {channelLayout} from './layout';
import {uint8} from './uint8';

type StoredAffine = {dtype?: string; scale?: number; min?: number; zeroPoint?: number[]};

/** The `'int8'` dtype option. */
export const int8: Codec<'int8', 'uint8-per-channel'> = {
  name: 'int8',
  bytesPerElement: 1,
  perTensor: uint8.perTensor,
  perChannel: uint8.perChannel,
  wrote(quantization) {
    const q = quantization as StoredAffine;
    if (q.dtype === int8.perChannel!.dtype) return q.zeroPoint!.every((zp) => zp === INT8_ZERO_POINT);
    return q.dtype === int8.perTensor.dtype && q.min === -INT8_ZERO_POINT * q.scale!;
  },
  encode(values, shape, axis, out) {
    return affineEntry(int8, axis, encodeSymmetricInt8(values, channelLayout(shape, axis), out));
  },
};
