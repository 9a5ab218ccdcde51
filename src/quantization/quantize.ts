/**
 * quantizeDynamicRange: TFLite-style dynamic range quantization of a layers
 * model's weights, written in tfjs's own weights-manifest format.
 *
 * Porting note: TFLite stores int8 codes with a zero point of 0. tfjs's
 * manifest only knows unsigned codes (`value = code * scale + min`), so the
 * same int8 codes are stored as `code + 128` with `min = -128 * scale`; the
 * decoded values are the same and zero still decodes to exactly 0.
 */
import type * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {collectPruneLowMagnitudeLayers} from '../sparsity/pruning_callbacks';
import {completeModelTopology, stripPruning} from '../sparsity/prune';
import {argumentMessage, checkOptionsObject, describeValue} from '../util/validation';
import {
  AffineParams,
  ChannelLayout,
  FLOAT16_MAX,
  NonFiniteValueError,
  channelLayout,
  encodeAffine,
  encodeFloat16,
  encodeSymmetricInt8,
} from './codecs';
import {PerChannelQuantization, elementCount} from './manifest';
import {WeightRole, describeModelWeights} from './weight_roles';

const CALLER = 'quantizeDynamicRange';

/**
 * The code types {@link quantizeDynamicRange} can store weights as; see
 * {@link QuantizeDynamicRangeOptions.dtype}.
 *
 * @category Quantization
 */
export type QuantizationDtype = 'int8' | 'uint8' | 'uint16' | 'float16';

const DTYPES: readonly QuantizationDtype[] = ['int8', 'uint8', 'uint16', 'float16'];

/**
 * Options of {@link quantizeDynamicRange}. Every field is optional; the
 * defaults reproduce TFLite's dynamic range quantization (int8, per tensor,
 * tensors of 1024 elements or more).
 *
 * @category Quantization
 */
export interface QuantizeDynamicRangeOptions {
  /**
   * How weights are stored. Default `'int8'`.
   * - `'int8'`: symmetric, narrow range [-127, 127], zero point 0:
   *   `scale = max|w| / 127`, `q = round(w / scale)` (TFLite's scheme). 1 byte per weight.
   * - `'uint8'`: affine over [min(w, 0), max(w, 0)], `scale = (max - min) / 255`, with the
   *   zero point rounded to an integer so that 0 is exact (tfjs-converter's scheme). 1 byte.
   * - `'uint16'`: the same affine scheme with 65535 steps. 2 bytes.
   * - `'float16'`: IEEE half precision, round to nearest even. 2 bytes.
   */
  dtype?: QuantizationDtype;
  /**
   * One scale per output channel for Dense and convolution kernels (the last
   * axis; the filters axis of transposed convolutions; the channel axis of
   * depthwise kernels), as TFLite does for convolutions. Other weights stay per
   * tensor. Not available with `'float16'`. Default `false`. Artifacts with
   * per-channel weights load with {@link loadQuantizedLayersModel}, not with
   * stock `tf.loadLayersModel`.
   */
  perChannel?: boolean;
  /**
   * Weights with fewer elements stay float32 (a weight of exactly
   * `minElements` elements is quantized). A non-negative integer; default 1024,
   * TFLite's threshold.
   */
  minElements?: number;
  /**
   * Weights that stay float32: a string matches a weight name (as saved, e.g.
   * `'dense_Dense1/kernel'`) or the name of a layer that holds the weight
   * (e.g. `'dense_Dense1'`) exactly; a RegExp is tested against the same
   * names. Default: none.
   */
  exclude?: ReadonlyArray<string | RegExp>;
}

const KNOWN_OPTIONS = ['dtype', 'perChannel', 'minElements', 'exclude'];

interface ResolvedOptions {
  dtype: QuantizationDtype;
  perChannel: boolean;
  minElements: number;
  exclude: Array<string | RegExp>;
}

function validateOptions(model: unknown, options: unknown): ResolvedOptions {
  if (!(model instanceof tfl.LayersModel)) {
    throw new TypeError(argumentMessage(
        CALLER, 'model', 'must be a tf.LayersModel (a tf.Sequential or a functional model)', model));
  }
  checkOptionsObject(CALLER, 'options', options, true);
  const o = (options ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!KNOWN_OPTIONS.includes(key)) {
      throw new TypeError(`${CALLER}: unknown option '${key}' (received ${describeValue(o[key])}); ` +
          `the options are ${KNOWN_OPTIONS.join(', ')}.`);
    }
  }
  const dtype = o.dtype ?? 'int8';
  if (!DTYPES.includes(dtype as QuantizationDtype)) {
    throw new TypeError(argumentMessage(
        CALLER, 'dtype', `must be one of ${DTYPES.map((d) => `'${d}'`).join(', ')}`, dtype));
  }
  const perChannel = o.perChannel ?? false;
  if (typeof perChannel !== 'boolean') {
    throw new TypeError(argumentMessage(CALLER, 'perChannel', 'must be a boolean', perChannel));
  }
  if (perChannel && dtype === 'float16') {
    throw new RangeError(`${CALLER}: 'perChannel' cannot be true with dtype 'float16' ` +
        '(float16 has no scale to choose per channel), but got perChannel true.');
  }
  const minElements = o.minElements ?? 1024;
  if (typeof minElements !== 'number' || !Number.isInteger(minElements)) {
    throw new TypeError(argumentMessage(CALLER, 'minElements', 'must be an integer', minElements));
  }
  if (minElements < 0) {
    throw new RangeError(argumentMessage(CALLER, 'minElements', 'must be >= 0', minElements));
  }
  const exclude = o.exclude ?? [];
  if (!Array.isArray(exclude)) {
    throw new TypeError(argumentMessage(CALLER, 'exclude', 'must be an array of strings and RegExps', exclude));
  }
  const patterns = exclude.map((pattern: unknown, i) => {
    if (typeof pattern === 'string') return pattern;
    // A copy without the g/y flags: `test` on those would move the caller's lastIndex.
    if (pattern instanceof RegExp) return new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
    throw new TypeError(argumentMessage(CALLER, `exclude[${i}]`, 'must be a string or a RegExp', pattern));
  });
  return {dtype: dtype as QuantizationDtype, perChannel, minElements, exclude: patterns};
}

/** How one weight is written. */
type WeightPlan =
  | {kind: 'raw'; byteLength: number}
  | {kind: 'float16'; byteLength: number}
  | {kind: 'int8' | 'uint8' | 'uint16'; byteLength: number; axis: number | null};

function isExcluded(name: string, role: WeightRole | undefined, patterns: Array<string | RegExp>): boolean {
  const names = [name, ...(role?.layerNames ?? [])];
  return patterns.some((p) => names.some((n) => (typeof p === 'string' ? n === p : p.test(n))));
}

function planWeight(variable: tfl.LayerVariable, role: WeightRole | undefined, options: ResolvedOptions): WeightPlan {
  const n = elementCount(variable.shape as number[]);
  const rawBytes = n * (variable.dtype === 'bool' ? 1 : 4);
  if (variable.dtype !== 'float32') return {kind: 'raw', byteLength: rawBytes};
  const isBias = role?.isBias ?? variable.originalName.endsWith('/bias');
  if (isBias || n < options.minElements || isExcluded(variable.originalName, role, options.exclude)) {
    return {kind: 'raw', byteLength: rawBytes};
  }
  if (options.dtype === 'float16') return {kind: 'float16', byteLength: 2 * n};
  const axis = options.perChannel ? (role?.channelAxis ?? null) : null;
  return {kind: options.dtype, byteLength: (options.dtype === 'uint16' ? 2 : 1) * n, axis};
}

/** A Uint16Array view of `out` when it is aligned, else a scratch array to copy from afterwards. */
function uint16Target(out: Uint8Array, n: number): {codes: Uint16Array; flush: () => void} {
  if (out.byteOffset % 2 === 0) return {codes: new Uint16Array(out.buffer, out.byteOffset, n), flush: () => {}};
  const codes = new Uint16Array(n);
  return {codes, flush: () => out.set(new Uint8Array(codes.buffer))};
}

type ManifestQuantization = NonNullable<tf.io.WeightsManifestEntry['quantization']>;

function manifestQuantization(
    plan: WeightPlan & {kind: 'int8' | 'uint8' | 'uint16'}, params: AffineParams): ManifestQuantization {
  const codeDtype = plan.kind === 'uint16' ? 'uint16' : 'uint8';
  if (plan.axis === null) {
    return {dtype: codeDtype, scale: params.scale[0], min: -params.zeroPoint[0] * params.scale[0]};
  }
  const perChannel: PerChannelQuantization = {
    dtype: `${codeDtype}-per-channel`, axis: plan.axis, scale: params.scale, zeroPoint: params.zeroPoint,
  };
  // The manifest type only lists tfjs's own dtypes; this one is deliberately unknown to tfjs.
  return perChannel as unknown as ManifestQuantization;
}

/** The largest finite float32 value. */
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Rejects affine codes whose lowest or highest code decodes beyond float32: the range, widened so
 * that 0 is exact, can pass ±FLOAT32_MAX for weights next to it, and would load as an infinity.
 */
function checkDecodedRange(name: string, dtype: string, params: AffineParams, highestCode: number): void {
  params.scale.forEach((scale, c) => {
    const lowest = -params.zeroPoint[c] * scale;
    const highest = (highestCode - params.zeroPoint[c]) * scale;
    if (!Number.isFinite(Math.fround(lowest)) || !Number.isFinite(Math.fround(highest))) {
      throw new RangeError(`${CALLER}: weight '${name}' cannot be stored as '${dtype}' codes: its range, widened ` +
          `to hold 0 exactly, decodes to [${lowest}, ${highest}], beyond float32's ±${FLOAT32_MAX}; use dtype ` +
          "'int8' or exclude the weight.");
    }
  });
}

/** Writes one weight's bytes into `out` and returns its manifest entry. */
function encodeWeight(
    variable: tfl.LayerVariable, plan: WeightPlan, values: tf.TypedArray, out: Uint8Array): tf.io.WeightsManifestEntry {
  const name = variable.originalName;
  const spec: tf.io.WeightsManifestEntry = {
    name, shape: variable.shape.slice() as number[], dtype: variable.dtype as tf.io.WeightsManifestEntry['dtype'],
  };
  if (plan.kind === 'raw') {
    out.set(new Uint8Array(values.buffer, values.byteOffset, plan.byteLength));
    return spec;
  }
  const floats = values as Float32Array;
  if (plan.kind === 'float16') {
    const target = uint16Target(out, floats.length);
    const bad = encodeFloat16(floats, target.codes);
    if (bad >= 0) {
      throw new RangeError(`${CALLER}: weight '${name}' holds ${floats[bad]} at index ${bad}, which does not ` +
          `fit in float16 (finite values up to ${FLOAT16_MAX}); exclude it or use dtype 'int8', 'uint8' or 'uint16'.`);
    }
    target.flush();
    return {...spec, quantization: {dtype: 'float16'}};
  }
  const layout: ChannelLayout = channelLayout(variable.shape as number[], plan.axis);
  try {
    let params: AffineParams;
    if (plan.kind === 'int8') {
      params = encodeSymmetricInt8(floats, layout, out);
    } else if (plan.kind === 'uint8') {
      params = encodeAffine(floats, layout, 8, out);
      checkDecodedRange(name, plan.kind, params, 255);
    } else {
      const target = uint16Target(out, floats.length);
      params = encodeAffine(floats, layout, 16, target.codes);
      checkDecodedRange(name, plan.kind, params, 65535);
      target.flush();
    }
    return {...spec, quantization: manifestQuantization(plan, params)};
  } catch (e) {
    if (e instanceof NonFiniteValueError) {
      throw new RangeError(`${CALLER}: weight '${name}' holds NaN or an infinite value; ` +
          'only finite weights can be quantized.');
    }
    throw e;
  }
}

/**
 * Quantizes a layers model's weights the way TFLite's dynamic range
 * quantization does, and returns model artifacts in tfjs's own format.
 *
 * By default (`dtype: 'int8'`, per tensor) each float32 weight of at least
 * `minElements` (1024) elements is stored as int8 codes with
 * `scale = max|w| / 127` and `q = round(w / scale)`, one byte per weight
 * instead of four; biases, smaller weights and int32 weights stay as they are.
 * Zeros stay exactly zero, so a pruned model keeps its sparsity, and every
 * weight is within half a step (`scale / 2`) of its original value. The
 * result loads with the stock `tf.loadLayersModel(tf.io.fromMemory(artifacts))`
 * (or save it with `fileSystem(dir)` from `tfjs-model-optimization/node`),
 * unless `perChannel` is set: then load it with
 * {@link loadQuantizedLayersModel}. Activations are not quantized: the loaded
 * model computes in float32, and only its storage shrinks.
 *
 * The input model is not modified. The artifacts carry no training
 * configuration and no optimizer weights.
 *
 * @param model The model to quantize (a `tf.Sequential` or a functional `tf.LayersModel`).
 * @param options How to quantize; see {@link QuantizeDynamicRangeOptions}.
 * @returns The model's topology and quantized weights, ready for
 *     `tf.io.fromMemory`, `model.save`-style handlers or {@link getGzippedModelSize}.
 * @throws TypeError when `model` is not a LayersModel or an option has the wrong type
 *     or is unknown; RangeError when an option is out of range, or a weight to be
 *     quantized holds NaN, an infinity, (for `'float16'`) a value beyond 65504, or (for
 *     `'uint8'` and `'uint16'`) values so close to ±3.4e38 that its codes would decode beyond float32.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import {quantizeDynamicRange, getGzippedModelSize} from 'tfjs-model-optimization';
 *
 * const model = tf.sequential({layers: [tf.layers.dense({units: 256, inputShape: [784]})]});
 * const artifacts = await quantizeDynamicRange(model);
 * artifacts.weightSpecs![0].quantization; // {dtype: 'uint8', scale: max|w| / 127, min: -128 * scale}
 * const restored = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
 * console.log(await getGzippedModelSize(model), await getGzippedModelSize(artifacts));
 * ```
 *
 * @category Quantization
 */
export async function quantizeDynamicRange(
    model: tfl.LayersModel, options?: QuantizeDynamicRangeOptions): Promise<tf.io.ModelArtifacts> {
  const resolved = validateOptions(model, options);
  // A pruned model is stripped first (a new model; the input is never modified).
  const pruned = collectPruneLowMagnitudeLayers(model).length > 0;
  const plain = pruned ? stripPruning(model) : model;
  try {
    return await quantizePlainModel(plain, resolved);
  } finally {
    if (pruned) plain.dispose();
  }
}

/** Encodes the weights of a model without pruning wrappers. */
async function quantizePlainModel(
    plain: tfl.LayersModel, resolved: ResolvedOptions): Promise<tf.io.ModelArtifacts> {
  const roles = describeModelWeights(plain);
  const variables = plain.weights;
  const plans = variables.map((v) => planWeight(v, roles.get(v), resolved));
  const weightData = new ArrayBuffer(plans.reduce((sum, p) => sum + p.byteLength, 0));
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  let offset = 0;
  for (let i = 0; i < variables.length; i++) {
    const values = await variables[i].read().data();
    const out = new Uint8Array(weightData, offset, plans[i].byteLength);
    weightSpecs.push(encodeWeight(variables[i], plans[i], values, out));
    offset += plans[i].byteLength;
  }
  const scheme = resolved.dtype === 'float16' ? 'float16' :
    `${resolved.dtype}, ${resolved.perChannel ? 'per channel' : 'per tensor'}`;
  const artifacts: tf.io.ModelArtifacts = {
    // Not plain.toJSON(): it would forget SeparableConv2D's depthMultiplier, and the file would not load.
    modelTopology: completeModelTopology(plain),
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tfl.version_layers}`,
    convertedBy: `tfjs-model-optimization quantizeDynamicRange (${scheme})`,
    weightSpecs,
    weightData,
  };
  const metadata = plain.getUserDefinedMetadata();
  if (metadata != null) artifacts.userDefinedMetadata = structuredClone(metadata) as typeof artifacts.userDefinedMetadata;
  return artifacts;
}
