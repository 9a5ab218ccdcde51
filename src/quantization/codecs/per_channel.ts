/**
 * The per-channel format of the affine codecs (`'uint8-per-channel'`,
 * `'uint16-per-channel'`): one `scale` and one integer `zeroPoint` per index
 * along `axis`; channel `c` decodes as `(code - zeroPoint[c]) * scale[c]`.
 * Stock tfjs rejects these dtypes; loadQuantizedLayersModel and
 * loadQuantizedGraphModel decode them. See PerChannelQuantization in manifest.ts.
 */
import type * as tf from '@tensorflow/tfjs-core';

import {describeValue} from '../../util/validation';
import type {PerChannelQuantization} from '../manifest';
import type {AffineLayout} from './affine';
import {decodeAffine} from './kernels';
import {channelLayout} from './layout';

const {fround} = Math;

function describeAxis(axis: unknown): string {
  return typeof axis === 'number' ? String(axis) : JSON.stringify(axis);
}

/**
 * `{dtype, axis, scale[], zeroPoint[]}`. The messages of the structural checks are
 * those loadQuantizedLayersModel has always given.
 */
function checkPerChannel(caller: string, spec: tf.io.WeightsManifestEntry, highest: number): void {
  const {name, shape} = spec;
  const q = spec.quantization as unknown as PerChannelQuantization;
  const valid = Number.isInteger(q.axis) && q.axis >= 0 && q.axis < shape.length && Array.isArray(q.scale) &&
      Array.isArray(q.zeroPoint) && q.scale.length === shape[q.axis] && q.zeroPoint.length === shape[q.axis];
  if (!valid) {
    throw new Error(`${caller}: weight '${name}' has a malformed per-channel quantization ` +
        `(axis ${describeAxis(q.axis)} of shape [${shape.join(', ')}] needs one scale and one zero point per channel).`);
  }
  // A scale that is not a positive number (null in a damaged file) would decode the channel to zeros or NaN.
  const bad = q.scale.findIndex((s, c) => !(typeof s === 'number' && s > 0 && Number.isFinite(s)) ||
      !(Number.isInteger(q.zeroPoint[c]) && q.zeroPoint[c] >= 0 && q.zeroPoint[c] <= highest));
  if (bad >= 0) {
    throw new Error(`${caller}: weight '${name}' has a malformed per-channel quantization (channel ${bad} has ` +
        `scale ${describeValue(q.scale[bad])} and zero point ${describeValue(q.zeroPoint[bad])}; a scale is a finite ` +
        `number > 0 and a zero point an integer in [0, ${highest}]).`);
  }
  q.scale.forEach((s, c) => {
    if (!Number.isFinite(fround(s))) {
      throw new RangeError(`${caller}: weight '${name}': quantization.scale[${c}] must be a finite float32 > 0, but ` +
          `got ${describeValue(s)}.`);
    }
    if (fround(highest * s) === 0) {
      throw new RangeError(`${caller}: weight '${name}': quantization.scale[${c}] must be large enough that ` +
          `${highest} * scale is not 0 in float32 (every code of the channel would decode to 0), but got ` +
          `${describeValue(s)}.`);
    }
  });
}

/** The lowest and the highest code of each channel must decode to finite float32 values. */
function checkPerChannelCodes(caller: string, spec: tf.io.WeightsManifestEntry, codes: Uint8Array | Uint16Array): void {
  const pc = spec.quantization as unknown as PerChannelQuantization;
  const {outer, channels, inner} = channelLayout(spec.shape, pc.axis);
  const lowest = new Int32Array(channels).fill(0x10000);
  const highest = new Int32Array(channels).fill(-1);
  let i = 0;
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      let lo = lowest[c];
      let hi = highest[c];
      for (const end = i + inner; i < end; i++) {
        const code = codes[i];
        if (code < lo) lo = code;
        if (code > hi) hi = code;
      }
      lowest[c] = lo;
      highest[c] = hi;
    }
  }
  for (let c = 0; c < channels; c++) {
    if (highest[c] < 0) continue; // an empty channel
    for (const code of [lowest[c], highest[c]]) {
      const value = (code - pc.zeroPoint[c]) * pc.scale[c];
      if (!Number.isFinite(fround(value))) {
        throw new RangeError(`${caller}: weight '${spec.name}': code ${code} of channel ${c} decodes to ` +
            `(${code} - ${pc.zeroPoint[c]}) * ${pc.scale[c]} = ${fround(value)} in float32; every code must ` +
            'decode to a finite float32 value.');
      }
    }
  }
}

/** The per-channel layout of affine codes (see the module comment). */
export const PER_CHANNEL: AffineLayout = {
  perChannel: true,
  weightDtypes: ['float32'],
  checkEntry: checkPerChannel,
  checkCodes: checkPerChannelCodes,
  decode(spec, codes, out) {
    const q = spec.quantization as unknown as PerChannelQuantization;
    decodeAffine(codes, channelLayout(spec.shape, q.axis), q, out);
  },
};
