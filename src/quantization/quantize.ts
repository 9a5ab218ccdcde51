/**
 * quantizeDynamicRange: TFLite-style dynamic range quantization of a layers
 * model's weights, written in tfjs's own weights-manifest format. The codes
 * of each dtype are written by its codec (codecs/; int8's porting note there).
 */
import type * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {stripClustering} from '../clustering/cluster';
import {isClusterWeights} from '../clustering/cluster_wrapper';
import {layersOf} from '../graph/model_graph';
import {collectPruneLowMagnitudeLayers} from '../sparsity/pruning_callbacks';
import {completeModelTopology, stripPruning} from '../sparsity/prune';
import {argumentMessage, optionRecord} from '../util/validation';
import {Codec, CodecName, encodeWeightCodes} from './codecs';
import {elementCount} from './manifest';
import {CodecOptions, resolveCodecOptions, schemeLabel} from './quantize_options';
import {WeightRole, describeModelWeights} from './weight_roles';

const CALLER = 'quantizeDynamicRange';

/**
 * The code types {@link quantizeDynamicRange} can store weights as
 * (`'int8' | 'uint8' | 'uint16' | 'float16'`); see
 * {@link QuantizeDynamicRangeOptions.dtype}. Derived from the list of codecs
 * (src/quantization/codecs/index.ts): a new codec's name joins it by itself.
 *
 * @useDeclaredType
 * @category Quantization
 */
export type QuantizationDtype = CodecName;

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

interface ResolvedOptions extends CodecOptions {
  exclude: Array<string | RegExp>;
}

function validateOptions(model: unknown, options: unknown): ResolvedOptions {
  if (!(model instanceof tfl.LayersModel)) {
    throw new TypeError(argumentMessage(
        CALLER, 'model', 'must be a tf.LayersModel (a tf.Sequential or a functional model)', model));
  }
  const o = optionRecord(CALLER, options, KNOWN_OPTIONS, true);
  const codecOptions = resolveCodecOptions(CALLER, o);
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
  return {...codecOptions, exclude: patterns};
}

/** How one weight is written. */
type WeightPlan =
  | {kind: 'raw'; byteLength: number}
  | {kind: 'codes'; byteLength: number; codec: Codec; axis: number | null};

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
  const {codec} = options;
  const axis = options.perChannel ? (role?.channelAxis ?? null) : null;
  return {kind: 'codes', byteLength: codec.bytesPerElement * n, codec, axis};
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
  const quantization = encodeWeightCodes(
      plan.codec, values as Float32Array, spec.shape, plan.axis, out, {caller: CALLER, name});
  return {...spec, quantization};
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
  // A pruned or clustered model is stripped first (a new model; the input is never modified).
  const pruned = collectPruneLowMagnitudeLayers(model).length > 0;
  const clustered = !pruned && [...layersOf(model.layers)].some((layer) => isClusterWeights(layer));
  const plain = pruned ? stripPruning(model) : clustered ? stripClustering(model) : model;
  try {
    return await quantizePlainModel(plain, resolved);
  } finally {
    if (plain !== model) plain.dispose();
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
  const artifacts: tf.io.ModelArtifacts = {
    // Not plain.toJSON(): it would forget SeparableConv2D's depthMultiplier, and the file would not load.
    modelTopology: completeModelTopology(plain),
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tfl.version_layers}`,
    convertedBy: `tfjs-model-optimization quantizeDynamicRange (${schemeLabel(resolved)})`,
    weightSpecs,
    weightData,
  };
  const metadata = plain.getUserDefinedMetadata();
  if (metadata != null) artifacts.userDefinedMetadata = structuredClone(metadata) as typeof artifacts.userDefinedMetadata;
  return artifacts;
}
