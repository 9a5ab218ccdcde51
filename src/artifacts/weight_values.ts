/**
 * The weights of a set of artifacts, one entry each, and their float32 values:
 * plain float32 weights are read as they are; weights tfjs-converter quantized
 * (`float16`, affine `uint8`/`uint16`) and this package's per-channel codes are
 * decoded first, exactly as tfjs's loaders decode them. Browser-safe.
 */
import type * as tf from '@tensorflow/tfjs-core';

import {weightBytes} from '../io/model_json';
import {formatOf} from '../quantization/codecs';
import {concatBytes} from '../quantization/manifest';
import {checkWeights} from '../quantization/manifest_check';

export {concatBytes};

/** One weight: its manifest entry and its bytes in the weight data. */
export interface WeightEntry {
  readonly spec: tf.io.WeightsManifestEntry;
  readonly bytes: Uint8Array;
}

/**
 * The entries of `artifacts`, after the checks every reader of this package runs
 * (entries well formed, data exactly as long as they declare, codes that decode to
 * finite values; see manifest_check.ts).
 *
 * @throws TypeError, RangeError or Error naming `caller` and the weight when they fail,
 *     or when an entry has a dtype that nobody here can place in the data.
 */
export function readWeightEntries(caller: string, artifacts: tf.io.ModelArtifacts): WeightEntry[] {
  const specs = artifacts.weightSpecs ?? [];
  if (artifacts.weightData == null) {
    if (Array.isArray(specs) && specs.length > 0) {
      throw new Error(`${caller}: the manifest lists ${specs.length} weight(s) (the first is '${specs[0]?.name}'), ` +
          'but the artifacts hold no weight data.');
    }
    return [];
  }
  const bytes = weightBytes(artifacts);
  const {slots, complete} = checkWeights(caller, specs, bytes, false);
  if (!complete) {
    const spec = specs[slots.length];
    throw new Error(`${caller}: weight '${spec.name}' has an unknown dtype ` +
        `(${JSON.stringify(spec.quantization?.dtype ?? spec.dtype)}).`);
  }
  return slots.map(({spec, offset, byteLength}) => ({spec, bytes: bytes.subarray(offset, offset + byteLength)}));
}

/** Whether the entry holds float values this package can decode (float32, plain or quantized). */
export function isFloatWeight(spec: tf.io.WeightsManifestEntry): boolean {
  return spec.dtype === 'float32';
}

/**
 * The float32 values of a float32 entry: a copy of plain values, or the decoded codes
 * (`code * scale + min` for tfjs's uint8/uint16, `(code - zeroPoint[c]) * scale[c]`
 * per channel, float16 widened).
 */
export function decodeFloat32(entry: WeightEntry): Float32Array {
  const {spec, bytes} = entry;
  // readWeightEntries placed every entry: its quantization dtype, if any, is known.
  if (spec.quantization != null) return formatOf(spec.quantization.dtype)!.decode(spec, bytes);
  return new Float32Array(bytes.slice().buffer);
}
