/**
 * uint16: the affine scheme of uint8 (see uint8.ts) with 65535 steps, two
 * bytes a weight (little-endian). Per tensor as tfjs's `{dtype: 'uint16',
 * scale, min}`; per channel as `'uint16-per-channel'`.
 */
import {affineCodec} from './affine';

/** The `'uint16'` dtype option. */
export const uint16 = affineCodec('uint16', 'uint16-per-channel', 2);
