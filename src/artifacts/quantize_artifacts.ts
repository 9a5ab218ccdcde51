/**
 * quantizeArtifacts: dynamic range quantization of saved model artifacts of
 * either format, with no model object and no training code: the model.json
 * and weights that `model.save` or tfjs-converter wrote.
 *
 * Porting note: tfjs-converter's `--quantize_uint8` is this function with
 * `dtype: 'uint8'` (per tensor); its `--quantize_float16`, `dtype: 'float16'`.
 */
import type * as tf from '@tensorflow/tfjs-core';

import {FLOAT16_MAX, channelLayout, channelMaxAbs} from '../quantization/codecs';
import {elementCount} from '../quantization/manifest';
import type {QuantizationDtype} from '../quantization/quantize';
import {CodecOptions, resolveCodecOptions, schemeLabel} from '../quantization/quantize_options';
import {deepCopy, optionRecord} from '../util/validation';
import {ProgressCallback, excludePatterns, progressCallback, withWeights, yieldIfBusy} from './artifact_options';
import {EncodedWeight, encodeWeight} from './encode_weight';
import {isWeightOperand} from './graph_roles';
import {FLOAT16_BUDGET, FLOAT16_FALLBACK_ERROR, channelErrors, mseClippedValues} from './int8_error';
import {ModelFormat, detectModelFormat} from './model_format';
import {ArtifactWeightRole, describeArtifactWeights, isExcluded} from './weight_role';
import {calibrateInt8} from './calibration/calibrate';
import type {CalibrationTarget} from './calibration/calibrate';
import {resolveCalibration} from './calibration/calibration_options';
import type {CalibrationOptions} from './calibration/calibration_options';
import type {CalibrationBatch} from './calibration/consumer';
import {WeightEntry, concatBytes, decodeFloat32, isFloatWeight, readWeightEntries} from './weight_values';

const CALLER = 'quantizeArtifacts';

/**
 * Options of {@link quantizeArtifacts}. Every field is optional; the defaults
 * are those of {@link quantizeDynamicRange} (int8, per tensor, weights of 1024
 * elements or more).
 *
 * @category Artifacts
 */
export interface QuantizeArtifactsOptions {
  /**
   * How weights are stored: `'int8'` (symmetric, 1 byte), `'uint8'` (affine with an exact zero,
   * tfjs-converter's scheme, 1 byte), `'uint16'` (2 bytes) or `'float16'` (2 bytes); see
   * {@link QuantizeDynamicRangeOptions.dtype}. Default `'int8'`.
   */
  dtype?: QuantizationDtype;
  /**
   * One scale per output channel for kernels: the axis the consuming op reads as output
   * channels (graph models: the last axis of a Conv2D filter, the input-channel axis of a
   * DepthwiseConv2dNative filter, the non-contracted axis of a MatMul operand given its
   * transposes, the same for the fused ops; layers models: as
   * {@link QuantizeDynamicRangeOptions.perChannel}). Other weights stay per tensor. Not
   * with `'float16'`. Default `false`. The result then loads with
   * {@link loadQuantizedGraphModel} or {@link loadQuantizedLayersModel}.
   */
  perChannel?: boolean;
  /** Weights with fewer elements keep their encoding; a non-negative integer, default 1024. */
  minElements?: number;
  /**
   * Weights that keep their encoding: a string matches a weight's name exactly (for graph
   * models the Const node's name, e.g. `'unknown_135'`; for layers models also the name of a
   * layer that holds it); a RegExp is tested against the same names. Default: none.
   */
  exclude?: ReadonlyArray<string | RegExp>;
  /**
   * int8 only: round each kernel the model applies (convolution and depthwise filters,
   * MatMul/Dense matrices) by GPTQ on these inputs instead of to nearest, so that the op's
   * outputs on typical inputs move as little as possible. The grid (scales, per tensor or per
   * channel) and the file format are those without calibration; zeros stay zero. The model runs
   * once per batch (graph models need `@tensorflow/tfjs-converter`), on the current backend.
   * Default: none (round to nearest).
   */
  calibration?: CalibrationOptions;
  /**
   * Called as the work advances with the steps done and their total: one per weight, and with
   * `calibration` one more per batch and per calibrated kernel.
   */
  onProgress?: (done: number, total: number) => void;
  /**
   * Called for each weight of a graph model stored as float16 instead of int8 because int8 would
   * ruin it (see {@link quantizeArtifacts}), with its name and its int8 error: the median over the
   * consuming op's output channels of the RMS error relative to the channel's RMS (1 = the channel
   * is lost).
   */
  onFloat16Fallback?: (weight: {name: string; int8Error: number}) => void;
}

/** A weight {@link quantizeArtifacts} kept in float16 instead of int8, and the int8 error that decided it. */
type Float16Fallback = {name: string; int8Error: number};

const KNOWN_OPTIONS = ['dtype', 'perChannel', 'minElements', 'exclude', 'calibration', 'onProgress', 'onFloat16Fallback'];

interface Resolved extends CodecOptions {
  exclude: Array<string | RegExp>;
  calibration?: CalibrationBatch[];
  onProgress?: ProgressCallback;
  onFloat16Fallback?: (weight: Float16Fallback) => void;
}

function resolveOptions(options: unknown): Resolved {
  const o = optionRecord(CALLER, options, KNOWN_OPTIONS, true);
  const codec = resolveCodecOptions(CALLER, o);
  return {
    ...codec, calibration: resolveCalibration(CALLER, o.calibration, codec.dtype),
    exclude: excludePatterns(CALLER, o.exclude), onProgress: progressCallback(CALLER, o.onProgress),
    onFloat16Fallback: progressCallback(CALLER, o.onFloat16Fallback, 'onFloat16Fallback') as
        Resolved['onFloat16Fallback'],
  };
}

/**
 * Whether a weight is quantized: float32, not a bias, large enough, not excluded, and (graph models)
 * a weight operand: not a constant that only elementwise, shape or other non-weight ops read.
 */
function isQuantized(entry: WeightEntry, role: ArtifactWeightRole | undefined, options: Resolved,
    format: ModelFormat): boolean {
  const {spec} = entry;
  if (!isFloatWeight(spec) || elementCount(spec.shape) < options.minElements) return false;
  if (role?.isBias ?? spec.name.endsWith('/bias')) return false;
  if (format === 'graph' && role !== undefined && !isWeightOperand(role)) return false;
  return role === undefined || !isExcluded(role, options.exclude);
}

/** A graph model's weight as int8 codes, and how much int8 loses of it (the median of {@link channelErrors}). */
interface GraphInt8 {
  int8: EncodedWeight;
  error: number;
}

/**
 * A graph model's weight as int8 codes: per channel along the consuming op's output channels; per
 * tensor with the MSE-optimal clipping range when that lowers the mean error of the consuming op's
 * significant output channels (max|w| at least a tenth of the weight's; each error relative to the
 * channel's size), else with max|w|.
 */
function encodeGraphInt8(spec: tf.io.WeightsManifestEntry, role: ArtifactWeightRole | undefined, values: Float32Array,
    options: Resolved): GraphInt8 {
  const axis = options.perChannel ? role?.channelAxis ?? null : null;
  const errorAxis = role?.channelAxis ?? null;
  const int8 = encodeWeight(CALLER, spec, values, 'int8', axis);
  const error = channelErrors(values, decodeFloat32(int8), spec.shape, errorAxis);
  if (axis === null) {
    const clipped = mseClippedValues(values);
    if (clipped !== values) {
      const alternative = encodeWeight(CALLER, spec, clipped, 'int8', null);
      const alternativeError = channelErrors(values, decodeFloat32(alternative), spec.shape, errorAxis);
      if (alternativeError.significant < error.significant) return {int8: alternative, error: alternativeError.median};
    }
  }
  return {int8, error: error.median};
}

/**
 * The weights (indices into `candidates`) kept in float16: those whose int8 error is above
 * {@link FLOAT16_FALLBACK_ERROR}, worst first, while they hold at most {@link FLOAT16_BUDGET} of the
 * quantized elements (so that the model stays within 10% of its all-int8 size).
 */
function float16Choices(candidates: ReadonlyArray<{elements: number; error: number}>): Set<number> {
  const total = candidates.reduce((sum, c) => sum + c.elements, 0);
  let spent = 0;
  const chosen = new Set<number>();
  const order = candidates.map((_c, i) => i).filter((i) => candidates[i].error > FLOAT16_FALLBACK_ERROR)
      .sort((a, b) => candidates[b].error - candidates[a].error);
  for (const i of order) {
    if (spent + candidates[i].elements > FLOAT16_BUDGET * total) continue;
    spent += candidates[i].elements;
    chosen.add(i);
  }
  return chosen;
}

/**
 * Quantizes the weights of saved model artifacts, of a layers model or of a
 * graph model (such as tfjs-converter writes from a SavedModel or TF Hub), the
 * way {@link quantizeDynamicRange} quantizes a LayersModel: each float32 weight
 * of at least `minElements` elements that is not a bias is stored as `dtype`
 * codes; every other weight keeps its bytes and manifest entry. Weights that
 * tfjs-converter already quantized (`float16`, `uint8`, `uint16`) or that this
 * package quantized before are decoded first, so quantizing twice is harmless.
 * Zeros stay exactly zero, so pruned weights keep their sparsity.
 *
 * Per tensor, the result loads with the stock `tf.loadGraphModel` or
 * `tf.loadLayersModel` (through `tf.io.fromMemory`, or saved with `fileSystem(dir)`
 * from `tfjs-model-optimization/node`). With `perChannel`, load it with
 * {@link loadQuantizedGraphModel} or {@link loadQuantizedLayersModel}. Works in
 * browsers too: no file system, and no tensors unless `calibration` is given
 * (then the model runs on the current backend, and int8 kernels are rounded by
 * GPTQ on those inputs: see {@link QuantizeArtifactsOptions.calibration}).
 *
 * The input artifacts are not modified; the result holds copies of their
 * topology, signature and metadata, with `convertedBy` naming this function.
 *
 * @param artifacts A layers or graph model's artifacts, e.g. from a handler's `load()`.
 * @param options How to quantize; see {@link QuantizeArtifactsOptions}.
 * @returns New artifacts with the quantized weights.
 * @throws TypeError when the artifacts are neither format, a manifest entry is malformed or an
 *     option is unknown or of the wrong type; RangeError when an option is out of range, a stored
 *     code decodes to no finite value, or a weight to quantize holds NaN, an infinity or (float16)
 *     a value beyond 65504; Error when the weight data is missing or not as long as the manifest says.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import {quantizeArtifacts} from 'tfjs-model-optimization';
 *
 * const model = tf.sequential({layers: [tf.layers.dense({units: 64, inputShape: [32]})]});
 * let saved!: tf.io.ModelArtifacts;
 * await model.save(tf.io.withSaveHandler(async (a) => {
 *   saved = a;
 *   return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
 * }));
 * const int8 = await quantizeArtifacts(saved, {dtype: 'int8'});
 * int8.weightSpecs![0].quantization; // {dtype: 'uint8', scale: max|w| / 127, min: -128 * scale}
 * const restored = await tf.loadLayersModel(tf.io.fromMemory(int8));
 * ```
 *
 * @category Artifacts
 */
export async function quantizeArtifacts(
    artifacts: tf.io.ModelArtifacts, options?: QuantizeArtifactsOptions): Promise<tf.io.ModelArtifacts> {
  const format = detectModelFormat(CALLER, artifacts);
  const resolved = resolveOptions(options);
  const entries = readWeightEntries(CALLER, artifacts);
  const roles = describeArtifactWeights(format, artifacts.modelTopology as Record<string, unknown>,
      entries.map((e) => e.spec));
  const specs: tf.io.WeightsManifestEntry[] = [];
  const parts: Uint8Array[] = [];
  const clock = {time: Date.now()};
  // Graph models at int8: every weight is encoded first, then the float16 fallbacks are chosen.
  const pending: Array<{index: number; values: Float32Array; elements: number} & GraphInt8> = [];
  const graphInt8 = format === 'graph' && resolved.dtype === 'int8';
  const axisOf = (role: ArtifactWeightRole | undefined) => resolved.perChannel ? role?.channelAxis ?? null : null;
  const calibrating = resolved.calibration !== undefined;
  // With calibration, every int8 weight is rounded to nearest first: that fixes its grid.
  const rounded: Array<{index: number; values: Float32Array}> = [];
  let done = 0;
  let steps = entries.length;
  const step = async () => {
    resolved.onProgress?.(++done, steps);
    await yieldIfBusy(clock);
  };
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    const role = roles.get(entry.spec.name);
    if (isQuantized(entry, role, resolved, format)) {
      const values = decodeFloat32(entry);
      if (graphInt8) {
        pending.push({index: i, values, elements: values.length, ...encodeGraphInt8(entry.spec, role, values, resolved)});
        specs.push(entry.spec);
        parts.push(entry.bytes);
      } else {
        const encoded = encodeWeight(CALLER, entry.spec, values, resolved.dtype, axisOf(role));
        specs.push(encoded.spec);
        parts.push(encoded.bytes);
        if (calibrating) rounded.push({index: i, values});
      }
    } else {
      specs.push(deepCopy(entry.spec));
      parts.push(entry.bytes);
    }
    await step();
  }
  const float16 = float16Choices(pending);
  pending.forEach((p, k) => {
    let encoded = p.int8;
    if (float16.has(k) && !p.values.some((v) => Math.abs(v) > FLOAT16_MAX)) {
      encoded = encodeWeight(CALLER, p.int8.spec, p.values, 'float16', null);
      resolved.onFloat16Fallback?.({name: encoded.spec.name, int8Error: p.error});
    } else if (calibrating) {
      rounded.push({index: p.index, values: p.values});
    }
    specs[p.index] = encoded.spec;
    parts[p.index] = encoded.bytes;
  });
  if (calibrating && rounded.length > 0) {
    // GPTQ on each weight's grid: max|w| / 127, and where round-to-nearest clipped the range (per
    // tensor, graph models), that range too: the one that moves the op's outputs least is kept.
    const targets: CalibrationTarget[] = rounded.map(({index, values}) => {
      const {spec} = entries[index];
      const axis = axisOf(roles.get(spec.name));
      const layout = channelLayout(spec.shape, axis);
      const full = channelMaxAbs(values, layout);
      const nearest = channelMaxAbs(decodeFloat32({spec: specs[index], bytes: parts[index]}), layout);
      const clipped = nearest.some((m, c) => m < full[c] * (1 - 1e-6));
      return {name: spec.name, shape: spec.shape, values, axis, grids: clipped ? [full, nearest] : [full]};
    });
    const calibrated = await calibrateInt8(CALLER, artifacts, format, targets, resolved.calibration!, async (total) => {
      steps = entries.length + total;
      await step();
    });
    for (const [k, {index}] of rounded.entries()) {
      const values = calibrated.get(targets[k].name);
      if (values === undefined) continue;
      const encoded = encodeWeight(CALLER, entries[index].spec, values, 'int8', targets[k].axis);
      specs[index] = encoded.spec;
      parts[index] = encoded.bytes;
    }
  }
  const scheme = `${schemeLabel(resolved)}${calibrating ? ', GPTQ-calibrated' : ''}`;
  return withWeights(artifacts, format === 'graph' ? 'graph-model' : 'layers-model',
      `tfjs-model-optimization quantizeArtifacts (${scheme})`, specs, concatBytes(parts));
}
