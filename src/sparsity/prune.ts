/**
 * pruneLowMagnitude and stripPruning: wrapping whole models and removing the
 * wrappers again. Mirrors tfmot's `prune.py` (getSparsity, re-exported here,
 * lives in get_sparsity.ts).
 *
 * Porting note: tfjs-layers has no `clone_model`; models are rebuilt from a
 * rewritten copy of `model.getConfig()` (model_rewrite.ts) and their weights
 * copied layer by layer. The caller's model and layers are never modified
 * (tfmot attaches methods to them).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {layersOf} from '../graph/model_graph';
import {argumentMessage, checkOptionsObject, deepCopy, describeValue} from '../util/validation';
import {PruningError} from './errors';
import {collectPruneLowMagnitudeLayers} from './collect_wrappers';
import {modelFromConfig, pairLayers, rewriteModelConfig, splitInputShape, unwrapEntry, wrapEntry} from './model_rewrite';
import {ResolvedMaskParams, StructuredSparsityParams, resolveMaskParams} from './pruning_params';
import {PruningPolicy, PruningPolicyLike, checkPruningPolicy} from './pruning_policy';
import {ConstantSparsity, PruningSchedule, serializeSchedule} from './pruning_schedule';
import {maskedWeight} from './pruning_impl';
import {PruneLowMagnitude} from './pruning_wrapper';
import {deserializeLayer, maskConfig, wrapperName} from './wrapper_config';
import {hasNoWeights, isPrunable, unsupportedLayerMessage} from './prune_registry';

export {completeModelTopology} from './model_rewrite';
export {getSparsity} from './get_sparsity';
export type {WeightSparsity} from './get_sparsity';

type Layer = tfl.layers.Layer;
type ConfigDict = tf.serialization.ConfigDict;

/** Parameters of {@link pruneLowMagnitude} (tfmot's keyword arguments, in camelCase). */
export interface PruneLowMagnitudeParams extends StructuredSparsityParams {
  /** When and how much to prune. Default: a new `ConstantSparsity({targetSparsity: 0.5})` per call. */
  pruningSchedule?: PruningSchedule;
  /**
   * Which layers of a model are wrapped (tfmot's `pruning_policy`); models
   * only. Default: every layer, and an unsupported layer fails the call. See
   * {@link SkipUnsupportedLayers} and {@link PruneSelectedLayers}. Any
   * object with an `allowPruning(layer)` method will do.
   */
  pruningPolicy?: PruningPolicy | Pick<PruningPolicy, 'allowPruning'>;
  /**
   * Global magnitude pruning: one threshold over all the weights this call
   * prunes, instead of one per weight. {@link UpdatePruningStep} keeps the
   * `k = max(round(total * (1 - sparsity)), 1)` largest magnitudes of the
   * whole model, so layers end at different sparsities while the model hits
   * the schedule's target exactly (PyTorch's `global_unstructured`). Not
   * with `blockSize` or `sparsityMByN`. Default `false`.
   */
  globalPruning?: boolean;
}

const KNOWN_PARAMS = new Set(
    ['pruningSchedule', 'blockSize', 'blockPoolingType', 'sparsityMByN', 'pruningPolicy', 'globalPruning']);
const MODEL_CLASS_NAMES = new Set(['Sequential', 'Model', 'Functional']);
const ACCEPTED =
    'a tf.layers.Layer, an array of layers, a tf.Sequential model or a functional tf.LayersModel (tf.model)';

interface ValidParams {
  pruningSchedule: PruningSchedule;
  masking: ResolvedMaskParams;
  pruningPolicy: PruningPolicyLike | undefined;
}

function validateParams(params: unknown): ValidParams {
  checkOptionsObject('pruneLowMagnitude', 'params', params, true);
  const p = (params ?? {}) as PruneLowMagnitudeParams;
  for (const key of Object.keys(p)) {
    if (!KNOWN_PARAMS.has(key)) {
      throw new TypeError(
          `pruneLowMagnitude: unknown parameter '${key}' (received ${describeValue((p as ConfigDict)[key])}); ` +
          `the parameters are ${[...KNOWN_PARAMS].join(', ')}.`);
    }
  }
  if (p.pruningSchedule !== undefined && !(p.pruningSchedule instanceof PruningSchedule)) {
    throw new TypeError(argumentMessage(
        'pruneLowMagnitude', 'pruningSchedule', 'must be a PruningSchedule (e.g. new ConstantSparsity(...))',
        p.pruningSchedule));
  }
  const masking = resolveMaskParams('pruneLowMagnitude', p);
  const pruningPolicy = p.pruningPolicy === undefined ? undefined : checkPruningPolicy('pruneLowMagnitude', p.pruningPolicy);
  return {pruningSchedule: p.pruningSchedule ?? new ConstantSparsity({targetSparsity: 0.5}), masking, pruningPolicy};
}

/** Whether `value` is a Sequential or functional model (not a subclassed one). */
function isSupportedModel(value: unknown): value is tfl.LayersModel {
  return value instanceof tfl.LayersModel && MODEL_CLASS_NAMES.has(value.getClassName());
}

/**
 * Wraps a copy of a single layer. Already wrapped layers are returned as they are.
 */
function wrapLayer(layer: Layer, schedule: PruningSchedule, masking: ResolvedMaskParams): PruneLowMagnitude {
  if (layer instanceof PruneLowMagnitude) return layer;
  if (layer instanceof tfl.LayersModel) {
    throw new TypeError(
        `pruneLowMagnitude: model "${layer.name}" found inside an array of layers; pass models on their own.`);
  }
  if (!isPrunable(layer)) throw new PruningError(unsupportedLayerMessage('pruneLowMagnitude', layer));
  const {innerConfig, wrapperArgs} = splitInputShape(layer);
  const copy = deserializeLayer({className: layer.getClassName(), config: innerConfig});
  const wrapper = new PruneLowMagnitude({
    layer: copy,
    pruningSchedule: schedule,
    ...masking,
    sparsityMByN: masking.sparsityMByN ?? undefined,
    channelImportance: masking.channelImportance ?? undefined,
    ...wrapperArgs,
  });
  if (layer.built) wrapper.setInitialWeightsFrom(layer);
  return wrapper;
}


/**
 * The layers of a model (nested models included, input layers and wrappers
 * excluded) that are to be wrapped: those the policy allows, or all.
 */
function layersToWrap(model: tfl.LayersModel, policy: PruningPolicyLike | undefined): Set<Layer> {
  const selected = new Set<Layer>();
  for (const layer of layersOf(model.layers)) {
    if (layer.getClassName() !== 'InputLayer' && !(layer instanceof PruneLowMagnitude) &&
        (policy === undefined || policy.allowPruning(layer)) &&
        // A layer without weights that the registry does not know has nothing to prune: left as it is.
        (isPrunable(layer) || !hasNoWeights(layer))) {
      selected.add(layer);
    }
  }
  return selected;
}

function pruneModel(
    model: tfl.LayersModel, schedule: PruningSchedule, masking: ResolvedMaskParams,
    policy: PruningPolicyLike | undefined): tfl.LayersModel {
  policy?.ensureModelSupportsPruning?.(model);
  const selected = layersToWrap(model, policy);
  // Checked before anything is built, so that the first unsupported layer is named.
  for (const layer of selected) {
    if (!isPrunable(layer)) throw new PruningError(unsupportedLayerMessage('pruneLowMagnitude', layer, true));
  }
  return wrapSelectedLayers(model, selected, schedule, masking);
}

/**
 * A new model of the same class in which every layer of `selected` (layers
 * of `model` or of its nested models) is wrapped in a PruneLowMagnitude with
 * `schedule` and `masking`, the weights copied. Shared layers stay shared.
 */
export function wrapSelectedLayers(
    model: tfl.LayersModel, selected: ReadonlySet<Layer>, schedule: PruningSchedule,
    masking: ResolvedMaskParams): tfl.LayersModel {
  const config = deepCopy(model.getConfig()) as ConfigDict;
  rewriteModelConfig(model, config, (layer, entry, isFirst) => {
    if (!selected.has(layer)) return undefined;
    return wrapEntry(entry, isFirst, PruneLowMagnitude.className, {
      name: wrapperName(layer.name),
      trainable: entry.config['trainable'] ?? true,
      pruningSchedule: serializeSchedule(schedule) as unknown as ConfigDict,
      ...maskConfig(masking),
    });
  });
  const pruned = modelFromConfig(model.getClassName(), config);
  tf.tidy(() => pairLayers(
      model, pruned, (l) => (l instanceof PruneLowMagnitude ? l.layer.name : l.name), (source, target) => {
        if (target instanceof PruneLowMagnitude && !(source instanceof PruneLowMagnitude)) {
          target.copyInnerWeightsFrom(source);
        } else {
          target.setWeights(source.getWeights());
        }
      }));
  return pruned;
}

/**
 * Wraps a layer, a list of layers or every layer of a model with
 * {@link PruneLowMagnitude}, so that training with {@link UpdatePruningStep}
 * prunes their weights by magnitude on the schedule's steps.
 *
 * - A layer gives a wrapper around a fresh copy of it (its weights are copied
 *   when the wrapper is built); an already wrapped layer is returned as it is.
 * - An array gives an array, each layer wrapped.
 * - A `Sequential` or functional model (nested models and shared layers
 *   included) gives a new model of the same kind with every layer wrapped and
 *   the weights copied; a layer the registry does not know that holds no
 *   weights at all (Rescaling, Resizing, CenterCrop, CategoryEncoding, a
 *   custom layer without weights) is left as it is. Compile it again before
 *   training (no optimizer is carried over). Before training it predicts
 *   bit-identically to the input.
 *
 * The input is never modified. One schedule instance is shared by all
 * wrappers of a call (schedules are immutable).
 *
 * Beyond the schedule, `params` chooses how masks are cut and what is
 * wrapped:
 * - `blockSize: [bh, bw]` and `blockPoolingType: 'avg' | 'max'`: block
 *   sparsity on rank-2 weights (a rank-other-than-2 prunable weight fails when
 *   the wrapper is built);
 * - `sparsityMByN: [m, n]`: m zeros in every n weights along the input
 *   channels, at the first training step (rank-2 and rank-4 weights);
 * - `globalPruning: true`: one threshold across all pruned weights;
 * - `pruningPolicy` (models only): which layers are wrapped, e.g.
 *   {@link SkipUnsupportedLayers} or {@link PruneSelectedLayers}.
 *
 * @param toPrune The layer(s) or model to prune.
 * @param params `{pruningSchedule?, blockSize?, blockPoolingType?, sparsityMByN?, globalPruning?, pruningPolicy?}`;
 *   the default schedule is `ConstantSparsity({targetSparsity: 0.5})`.
 * @returns The same kind of object, wrapped.
 * @throws PruningError naming the first layer that cannot be pruned (and how to make it prunable or, for a
 *   model, to skip it with {@link SkipUnsupportedLayers}), or a
 *   weight whose rank does not fit `blockSize` or `sparsityMByN`; TypeError for any other kind of input,
 *   a parameter of the wrong type, or a `pruningPolicy` with a layer input; RangeError for a parameter
 *   out of range or parameters that cannot be combined; whatever the policy's
 *   `ensureModelSupportsPruning` throws.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import {
 *   pruneLowMagnitude, PolynomialDecay, PruneSelectedLayers, UpdatePruningStep, stripPruning,
 * } from 'tfjs-model-optimization';
 *
 * const pruned = pruneLowMagnitude(model, {
 *   pruningSchedule: new PolynomialDecay({initialSparsity: 0.4, finalSparsity: 0.7, beginStep: 0, endStep: 1000}),
 * });
 * pruned.compile({optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy']});
 * await pruned.fit(xs, ys, {batchSize: 250, epochs: 5, callbacks: [new UpdatePruningStep()]});
 * const deployable = stripPruning(pruned);
 *
 * // 2:4 sparsity on the Dense layers only, leaving the rest of the model as it is.
 * const sparse24 = pruneLowMagnitude(model, {
 *   sparsityMByN: [2, 4],
 *   pruningPolicy: new PruneSelectedLayers({predicate: (layer) => layer.getClassName() === 'Dense'}),
 * });
 * ```
 *
 * @category Pruning
 */
export function pruneLowMagnitude(toPrune: tfl.Sequential, params?: PruneLowMagnitudeParams): tfl.Sequential;
export function pruneLowMagnitude(toPrune: tfl.LayersModel, params?: PruneLowMagnitudeParams): tfl.LayersModel;
export function pruneLowMagnitude(toPrune: Layer[], params?: PruneLowMagnitudeParams): PruneLowMagnitude[];
export function pruneLowMagnitude(toPrune: Layer, params?: PruneLowMagnitudeParams): PruneLowMagnitude;
export function pruneLowMagnitude(
    toPrune: Layer | Layer[], params?: PruneLowMagnitudeParams): Layer | Layer[] {
  const {pruningSchedule, masking, pruningPolicy} = validateParams(params);
  if (pruningPolicy !== undefined && !(toPrune instanceof tfl.LayersModel)) {
    throw new TypeError(
        "pruneLowMagnitude: 'pruningPolicy' applies to models only, but 'toPrune' is " +
        `${Array.isArray(toPrune) ? 'an array' : describeValue(toPrune)}; wrap layers one by one instead.`);
  }
  if (Array.isArray(toPrune)) {
    toPrune.forEach((layer, i) => {
      if (!(layer instanceof tfl.layers.Layer)) {
        throw new TypeError(argumentMessage('pruneLowMagnitude', `toPrune[${i}]`, 'must be a tf.layers.Layer', layer));
      }
    });
    return toPrune.map((layer) => wrapLayer(layer, pruningSchedule, masking));
  }
  if (toPrune instanceof tfl.LayersModel) {
    if (!isSupportedModel(toPrune)) {
      const model = toPrune as tfl.LayersModel;
      throw new TypeError(
          `pruneLowMagnitude: 'toPrune' must be ${ACCEPTED}, but got the subclassed model "${model.name}" ` +
          `(class ${model.getClassName()}); rebuild it as a Sequential or functional model.`);
    }
    return pruneModel(toPrune, pruningSchedule, masking, pruningPolicy);
  }
  if (toPrune instanceof tfl.layers.Layer) return wrapLayer(toPrune, pruningSchedule, masking);
  throw new TypeError(argumentMessage('pruneLowMagnitude', 'toPrune', `must be ${ACCEPTED}`, toPrune));
}

/**
 * Removes every {@link PruneLowMagnitude} wrapper from a model: a new model of
 * the same kind where each wrapper is replaced by its inner layer, holding
 * `weight * mask` (exactly sparse), with no mask, threshold or step left. Its
 * config equals the config of the model before pruning (plus SeparableConv2D's
 * `depthMultiplier`, which tfjs 4.22's own config forgets and without which a
 * multiplier above 1 does not load), so it loads in a process that never
 * imported this package. The input is not modified; a
 * model without wrappers gives an equal copy.
 *
 * @param model A pruned (or plain) Sequential or functional model.
 * @returns The stripped model (not compiled).
 * @throws TypeError when `model` is not a Sequential or functional model.
 *
 * @example
 * ```ts
 * import {stripPruning} from 'tfjs-model-optimization';
 *
 * const deployable = stripPruning(pruned);
 * await deployable.save('indexeddb://my-model');
 * ```
 *
 * @category Pruning
 */
export function stripPruning<T extends tfl.LayersModel>(model: T): T {
  if (!isSupportedModel(model)) {
    throw new TypeError(argumentMessage(
        'stripPruning', 'model', 'must be a tf.Sequential or functional tf.LayersModel', model));
  }
  const config = deepCopy(model.getConfig()) as ConfigDict;
  rewriteModelConfig(model, config, (layer, entry) => (layer instanceof PruneLowMagnitude ? unwrapEntry(entry) : undefined));
  const stripped = modelFromConfig(model.getClassName(), config);
  const originalNames = new Map<string, string>();
  for (const wrapper of collectPruneLowMagnitudeLayers(model)) originalNames.set(wrapper.layer.name, wrapper.name);
  tf.tidy(() => pairLayers(model, stripped, (l) => originalNames.get(l.name) ?? l.name, (source, target) => {
    if (!(source instanceof PruneLowMagnitude)) {
      target.setWeights(source.getWeights());
      return;
    }
    const masks = new Map(source.getPrunedWeights().map(({weight, mask}) => [weight, mask]));
    target.setWeights(source.layer.weights.map((w) => {
      const mask = masks.get(w);
      return mask === undefined ? w.read() : maskedWeight(w.read(), mask.read());
    }));
  }));
  return stripped as T;
}
