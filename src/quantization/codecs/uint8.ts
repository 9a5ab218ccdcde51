/**
 * uint8: affine (asymmetric) codes of one byte over [min(w, 0), max(w, 0)],
 * `scale = (max - min) / 255`, with the zero point rounded to an integer so
 * that 0 is exact (tfjs-converter's `--quantize_uint8` scheme). Per tensor as
 * tfjs's `{dtype: 'uint8', scale, min}`; per channel as `'uint8-per-channel'`.
 * int8 writes the same two formats and, listed before uint8, claims the
 * symmetric entries of them (see int8.ts).
 */
import {affineCodec} from './affine';

/** The `'uint8'` dtype option. */
export const uint8 = affineCodec('uint8', 'uint8-per-channel', 1);
