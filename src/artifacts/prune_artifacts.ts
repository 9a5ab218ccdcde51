/**
 * pruneArtifacts: one-shot magnitude pruning of the kernels of saved model
 * artifacts (either format), with the mask math of sparsity/pruning_impl.ts:
 * per weight, global (one threshold over all kernels), in blocks, or M-by-N.
 *
 * Porting note: tfmot prunes gradually while training; with no training code
 * the masks are cut once, at the final sparsity, as `pruneLowMagnitude` with a
 * `ConstantSparsity` schedule cuts them at its first step.
 */
import type * as tf from '@tensorflow/tfjs-core';

import {elementCount} from '../quantization/manifest';
import {checkMByN} from '../sparsity/pruning_params';
import type {BlockPoolingType} from '../sparsity/pruning_params';
import {argumentMessage, deepCopy, optionRecord} from '../util/validation';
import {ProgressCallback, excludePatterns, progressCallback, withWeights, yieldIfBusy} from './artifact_options';
import {detectModelFormat} from './model_format';
import {KernelMask, applyMask, globalKernelMasks, kernelMask} from './kernel_masks';
import {describeArtifactWeights, isExcluded} from './weight_role';
import {WeightEntry, concatBytes, decodeFloat32, isFloatWeight, readWeightEntries} from './weight_values';
import {reencodeLike} from './reencode';

const CALLER = 'pruneArtifacts';

/**
 * Options of {@link pruneArtifacts}.
 *
 * @category Artifacts
 */
export interface PruneArtifactsOptions {
  /**
   * The fraction of each kernel's weights set to zero, in [0, 1): the weights of smallest
   * |w| go, ties at the threshold stay (tfmot's rule). Required unless `mByN` is given;
   * with `mByN` it may only be `m / n`. With `block`, the fraction of blocks.
   */
  sparsity?: number;
  /** One threshold over all kernels together instead of one per kernel (tfmot's global pruning). Default `false`. */
  global?: boolean;
  /**
   * Prune whole `[rows, cols]` blocks of each kernel seen as the matrix `[inputs, outputs]`
   * (a Conv2D filter `[h, w, in, out]` as `[h * w * in, out]`), ranked by the average |w|
   * of each block (see `blockPooling`). Depthwise and transposed-convolution kernels have no
   * such matrix and are left as they are. Default: no blocks.
   */
  block?: [number, number];
  /** How a block's magnitudes are pooled: `'avg'` (default) or `'max'`. */
  blockPooling?: BlockPoolingType;
  /**
   * `[m, n]`: zero the `m` smallest of every `n` consecutive weights along the input
   * axis (2:4 for sparse tensor cores). Depthwise and transposed-convolution kernels are
   * left as they are. Not with `global` or `block`.
   */
  mByN?: [number, number];
  /**
   * Kernels left as they are: a string matches a weight's name exactly (for layers
   * models also the name of a layer that holds it); a RegExp is tested against the same names.
   */
  exclude?: ReadonlyArray<string | RegExp>;
  /** Called after each weight with the number of weights done and their total. */
  onProgress?: (done: number, total: number) => void;
}

const KNOWN_OPTIONS = ['sparsity', 'global', 'block', 'blockPooling', 'mByN', 'exclude', 'onProgress'];

/** The checked options. */
export interface ResolvedPruneOptions {
  sparsity: number;
  global: boolean;
  block: [number, number] | null;
  blockPooling: BlockPoolingType;
  mByN: [number, number] | null;
  exclude: Array<string | RegExp>;
  onProgress?: ProgressCallback;
}

function checkBlock(value: unknown): [number, number] | null {
  if (value === undefined) return null;
  if (!Array.isArray(value) || value.length !== 2 || !value.every((v) => Number.isInteger(v))) {
    throw new TypeError(argumentMessage(CALLER, 'block', 'must be two integers [rows, cols]', value));
  }
  if (value[0] < 1 || value[1] < 1) {
    throw new RangeError(`${CALLER}: 'block' must hold integers >= 1, but got [${value[0]}, ${value[1]}].`);
  }
  return [value[0], value[1]];
}

function resolveOptions(options: unknown): ResolvedPruneOptions {
  const o = optionRecord(CALLER, options, KNOWN_OPTIONS, false);
  const mByN = o.mByN === undefined ? null : checkMByN(CALLER, 'mByN', o.mByN);
  let sparsity = o.sparsity;
  if (sparsity === undefined) {
    if (mByN === null) throw new TypeError(argumentMessage(CALLER, 'sparsity', 'must be a number in [0, 1)', sparsity));
    sparsity = mByN[0] / mByN[1];
  }
  if (typeof sparsity !== 'number' || Number.isNaN(sparsity)) {
    throw new TypeError(argumentMessage(CALLER, 'sparsity', 'must be a number in [0, 1)', sparsity));
  }
  if (!(sparsity >= 0 && sparsity < 1)) {
    throw new RangeError(argumentMessage(CALLER, 'sparsity', 'must be in [0, 1)', sparsity));
  }
  if (mByN !== null && sparsity !== mByN[0] / mByN[1]) {
    throw new RangeError(`${CALLER}: 'sparsity' must be m / n = ${mByN[0] / mByN[1]} with mByN ` +
        `[${mByN[0]}, ${mByN[1]}] (or be left out), but got ${sparsity}.`);
  }
  const global = o.global ?? false;
  if (typeof global !== 'boolean') throw new TypeError(argumentMessage(CALLER, 'global', 'must be a boolean', global));
  const block = checkBlock(o.block);
  const blockPooling = o.blockPooling ?? 'avg';
  if (blockPooling !== 'avg' && blockPooling !== 'max') {
    throw new TypeError(argumentMessage(CALLER, 'blockPooling', "must be 'avg' or 'max'", blockPooling));
  }
  const combined = [global && 'global', block !== null && 'block', mByN !== null && 'mByN'].filter(Boolean);
  if (combined.length > 1) {
    throw new RangeError(`${CALLER}: the options ${combined.map((c) => `'${c}'`).join(' and ')} cannot be combined; ` +
        'choose one way to cut the masks.');
  }
  return {
    sparsity, global, block, blockPooling, mByN, exclude: excludePatterns(CALLER, o.exclude),
    onProgress: progressCallback(CALLER, o.onProgress),
  };
}

/**
 * Prunes the kernels of saved model artifacts, of a layers model or of a graph
 * model, once, by magnitude: the weights of smallest |w| in each kernel are set
 * to exactly 0 (ties at the threshold are kept, as tfmot keeps them), with no
 * training. Kernels are the weights that a convolution, a depthwise convolution
 * or a matrix multiplication reads as its filter or matrix (graph models: the
 * Const inputs of `Conv2D`, `DepthwiseConv2dNative`, `MatMul`, their fused
 * forms...; layers models: the kernels of Dense, Conv and depthwise layers).
 * Biases and other weights are left as they are.
 *
 * A pruned kernel keeps its encoding: a float16 or uint8 weight of
 * tfjs-converter is written back as float16 or uint8 codes (with 0 exact).
 * Follow with {@link quantizeArtifacts}: zeros stay zeros, and the zeros make
 * the gzipped files smaller still. Accuracy drops without fine-tuning; try
 * small sparsities first and measure on your data. Works in browsers too.
 *
 * @param artifacts A layers or graph model's artifacts. Not modified.
 * @param options The sparsity and how masks are cut; see {@link PruneArtifactsOptions}.
 * @returns New artifacts with the pruned kernels.
 * @throws TypeError when the artifacts are neither format, a manifest entry is malformed or an
 *     option is missing, unknown or of the wrong type; RangeError when an option is out of range
 *     or options that exclude each other are combined; PruningError when a kernel holds NaN or an
 *     infinity; Error when the weight data is missing or not as long as the manifest says.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import {pruneArtifacts, quantizeArtifacts} from 'tfjs-model-optimization';
 *
 * const model = tf.sequential({layers: [tf.layers.dense({units: 64, inputShape: [32]})]});
 * let saved!: tf.io.ModelArtifacts;
 * await model.save(tf.io.withSaveHandler(async (a) => {
 *   saved = a;
 *   return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
 * }));
 * const pruned = await pruneArtifacts(saved, {sparsity: 0.5});
 * const small = await quantizeArtifacts(pruned); // half the kernel is 0, in int8 codes
 * const restored = await tf.loadLayersModel(tf.io.fromMemory(small));
 * ```
 *
 * @category Artifacts
 */
export async function pruneArtifacts(
    artifacts: tf.io.ModelArtifacts, options: PruneArtifactsOptions): Promise<tf.io.ModelArtifacts> {
  const format = detectModelFormat(CALLER, artifacts);
  const resolved = resolveOptions(options);
  const entries = readWeightEntries(CALLER, artifacts);
  const roles = describeArtifactWeights(format, artifacts.modelTopology as Record<string, unknown>,
      entries.map((e) => e.spec));
  const kernels: KernelMask[] = [];
  entries.forEach((entry: WeightEntry, index) => {
    const role = roles.get(entry.spec.name)!;
    if (!isFloatWeight(entry.spec) || role.kernel === null || role.isBias || isExcluded(role, resolved.exclude)) return;
    if (elementCount(entry.spec.shape) === 0) return;
    kernels.push({index, name: entry.spec.name, shape: entry.spec.shape, layout: role.kernel, values: decodeFloat32(entry)});
  });
  const globalMasks = resolved.global ? globalKernelMasks(kernels, resolved.sparsity) : null;
  const specs: tf.io.WeightsManifestEntry[] = entries.map((e) => deepCopy(e.spec));
  const parts: Uint8Array[] = entries.map((e) => e.bytes);
  const clock = {time: Date.now()};
  for (let k = 0; k < kernels.length; k++) {
    const mask = globalMasks?.[k] ?? kernelMask(kernels[k], resolved);
    if (mask !== null) {
      const {index, values} = kernels[k];
      const encoded = reencodeLike(CALLER, entries[index].spec, applyMask(values, mask));
      specs[index] = encoded.spec;
      parts[index] = encoded.bytes;
    }
    resolved.onProgress?.(k + 1, kernels.length);
    await yieldIfBusy(clock);
  }
  const how = resolved.mByN !== null ? `${resolved.mByN[0]}:${resolved.mByN[1]}` :
    `${resolved.sparsity}${resolved.global ? ', global' : ''}` +
      `${resolved.block !== null ? `, blocks ${resolved.block[0]}x${resolved.block[1]}` : ''}`;
  return withWeights(artifacts, format === 'graph' ? 'graph-model' : 'layers-model',
      `tfjs-model-optimization pruneArtifacts (${how})`, specs, concatBytes(parts));
}
