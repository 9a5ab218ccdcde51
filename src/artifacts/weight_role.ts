/**
 * The facts about one weight of a set of artifacts that decide how it is
 * quantized and whether it is pruned, for both formats (layers_roles.ts reads
 * them from a layers topology, graph_roles.ts from a GraphDef).
 */
import type * as tf from '@tensorflow/tfjs-core';

import {describeGraphWeights} from './graph_roles';
import {describeLayersWeights} from './layers_roles';
import type {ModelFormat} from './model_format';

/**
 * How a kernel is laid out:
 * - `'inputs-outputs'`: outputs on the last axis (Dense `[in, out]`, Conv `[h, w, in, out]`,
 *   MatMul's `b`); seen as the matrix `[everything else, out]` by block and M-by-N pruning;
 * - `'outputs-inputs'`: a rank-2 matrix stored `[out, in]` (MatMul with `transpose_b`);
 * - `'depthwise'` and `'transposed-convolution'`: kernels with no `[inputs, outputs]`
 *   matrix view, pruned only without blocks and M-by-N.
 */
export type KernelLayout = 'inputs-outputs' | 'outputs-inputs' | 'depthwise' | 'transposed-convolution';

/** What one weight is. */
export interface ArtifactWeightRole {
  /**
   * The names an `exclude` pattern is tested against: the weight's name and, for layers
   * models, the names of the layers that hold it (outermost first).
   */
  names: string[];
  /** The ops (graph) or layer classes (layers) that use the weight. */
  ops: string[];
  /** Whether the weight is a bias (kept float32 by quantization, never pruned). */
  isBias: boolean;
  /** The output-channel axis for per-channel quantization, or null (per tensor). */
  channelAxis: number | null;
  /** The kernel layout when the weight is a kernel (pruned), else null. */
  kernel: KernelLayout | null;
}

/** The role of every weight listed in `specs`, by name. */
export function describeArtifactWeights(
    format: ModelFormat, topology: Record<string, unknown>, specs: readonly tf.io.WeightsManifestEntry[]):
    Map<string, ArtifactWeightRole> {
  const shapes = new Map(specs.map((spec) => [spec.name, spec.shape] as const));
  return format === 'graph' ? describeGraphWeights(topology, shapes) : describeLayersWeights(topology, shapes);
}

/** Whether a pattern of `exclude` matches one of the role's names. */
export function isExcluded(role: ArtifactWeightRole, patterns: ReadonlyArray<string | RegExp>): boolean {
  return patterns.some((p) => role.names.some((n) => (typeof p === 'string' ? n === p : p.test(n))));
}
