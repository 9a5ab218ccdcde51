/**
 * A description of every weight of a set of artifacts, for `inspect`: shape,
 * dtype, how it is stored, what uses it, its sparsity and its size. Browser-safe.
 */
import type * as tf from '@tensorflow/tfjs-core';

import {codecOf} from '../quantization/codecs';
import {PerChannelQuantization, isPerChannel} from '../quantization/manifest';
import {ModelFormat, detectModelFormat} from './model_format';
import {describeArtifactWeights} from './weight_role';
import {decodeFloat32, isFloatWeight, readWeightEntries} from './weight_values';

/** One weight, described. */
export interface WeightReport {
  name: string;
  shape: number[];
  dtype: string;
  /** How it is stored: `'none'`, `'float16'`, `'uint8'`, `'uint16'`, or `'uint8 per channel (axis 3)'`. */
  storage: string;
  /** The ops (graph) or layer class (layers) that use it, and `bias` or `kernel` when it is one. */
  usedBy: string;
  /** The fraction of its values that are exactly 0 (null for weights that are not float32). */
  sparsity: number | null;
  /** Bytes in the weight data. */
  bytes: number;
}

/** The description of a model's weights. */
export interface ModelReport {
  format: ModelFormat;
  weights: WeightReport[];
  /** Bytes of weight data in all. */
  weightBytes: number;
}

function storageOf(spec: tf.io.WeightsManifestEntry): string {
  const q = spec.quantization;
  if (q == null) return 'none';
  // The entry was checked when it was read: some codec wrote it.
  const kind = codecOf(spec)!.name;
  if (isPerChannel(spec)) return `${kind} per channel (axis ${(q as unknown as PerChannelQuantization).axis})`;
  return kind;
}

function zeroFraction(values: Float32Array): number {
  if (values.length === 0) return 0;
  let zeros = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === 0) zeros++;
  return zeros / values.length;
}

/**
 * Describes every weight of `artifacts` (checked as quantizeArtifacts checks them).
 *
 * @param caller Starts every error message (a file name for the command line).
 */
export function describeModel(caller: string, artifacts: tf.io.ModelArtifacts): ModelReport {
  const format = detectModelFormat(caller, artifacts);
  const entries = readWeightEntries(caller, artifacts);
  const roles = describeArtifactWeights(format, artifacts.modelTopology as Record<string, unknown>,
      entries.map((e) => e.spec));
  const weights = entries.map((entry): WeightReport => {
    const role = roles.get(entry.spec.name)!;
    const kind = role.isBias ? ['bias'] : role.kernel !== null ? ['kernel'] : [];
    return {
      name: entry.spec.name,
      shape: entry.spec.shape.slice(),
      dtype: entry.spec.dtype,
      storage: storageOf(entry.spec),
      usedBy: [...role.ops, ...kind].join(' ') || '-',
      sparsity: isFloatWeight(entry.spec) ? zeroFraction(decodeFloat32(entry)) : null,
      bytes: entry.bytes.byteLength,
    };
  });
  return {format, weights, weightBytes: weights.reduce((sum, w) => sum + w.bytes, 0)};
}
