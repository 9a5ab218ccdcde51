/**
 * A wrapper's config: its keys, the mask options as saved, and rebuilding the
 * wrapped layer from `{className, config}` through tfjs's class registry (with
 * the rules a custom layer must follow). Used by PruneLowMagnitude.fromConfig
 * and by pruneLowMagnitude, which wraps copies of layers rebuilt from their configs.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import type {ChannelImportance} from '../channels/channel_masks';
import {hasBrand, lookupRegisteredClass, packageBrand} from '../util/registry';
import {argumentMessage, checkKnownKeys, checkNoProtoKeys, deepCopy, describeValue} from '../util/validation';
import {PruningError} from './errors';
import type {MaskKind} from './masks/mask_kind';
import {chooseMaskKind} from './masks/mask_kinds';
import {isPrunable, registeredClassNames, unsupportedLayerMessage} from './prune_registry';
import {
  type BlockPoolingType, type ResolvedMaskParams, type StructuredSparsityParams, resolveMaskParams,
} from './pruning_params';
import {ConstantSparsity, type PruningSchedule, deserializeSchedule, isPruningSchedule} from './pruning_schedule';
import type {PruneLowMagnitude} from './pruning_wrapper';

type Layer = tfl.layers.Layer;
type LayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;

/** Arguments of {@link PruneLowMagnitude}. */
export interface PruneLowMagnitudeArgs extends LayerArgs, StructuredSparsityParams {
  /** The layer to wrap. The wrapper owns it from then on (use {@link pruneLowMagnitude} to keep yours intact). */
  layer: Layer;
  /** When and how much to prune. Default: a new `ConstantSparsity({targetSparsity: 0.5})`. */
  pruningSchedule?: PruningSchedule;
  /**
   * Prune with one magnitude threshold shared by every wrapper of the model
   * that has this option (cut by {@link UpdatePruningStep}), instead of one
   * threshold per weight. Default `false`. See {@link PruneLowMagnitudeParams.globalPruning}.
   */
  globalPruning?: boolean;
  /**
   * Channel pruning: the wrapper masks every weight of the layer except
   * BatchNormalization's moving statistics, and {@link UpdatePruningStep}
   * zeroes whole channels of the model's channel groups, ranked by this norm.
   * Set by {@link pruneChannels}; cannot be combined with the other mask options.
   */
  channelImportance?: ChannelImportance;
}

/**
 * Checks a wrapper's layer (once it is known to be a layer) and options, in this order: not a wrapper,
 * not a model, the mask options, a layer the mask kind can prune, the schedule.
 *
 * @returns The checked mask options with their kind, and the schedule (a new default one when absent).
 */
export function checkWrapperArgs(layer: Layer, args: Omit<PruneLowMagnitudeArgs, 'layer'>):
    {masking: ResolvedMaskParams; maskKind: MaskKind; schedule: PruningSchedule} {
  const {pruningSchedule, blockSize, blockPoolingType, sparsityMByN, globalPruning, channelImportance} = args;
  if (isPruneLowMagnitude(layer)) {
    throw new PruningError(
        `PruneLowMagnitude: layer "${layer.name}" is already a PruneLowMagnitude wrapper; wrappers cannot be ` +
        'nested.');
  }
  if (layer instanceof tfl.LayersModel) {
    throw new TypeError(
        `PruneLowMagnitude: 'layer' must be a single layer, but got the model "${layer.name}"; ` +
        'use pruneLowMagnitude(model) to prune every layer of a model.');
  }
  const masking = resolveMaskParams('PruneLowMagnitude',
      {blockSize, blockPoolingType, sparsityMByN, globalPruning, channelImportance});
  const maskKind = chooseMaskKind(masking);
  if (maskKind.needsPrunableLayer && !isPrunable(layer)) {
    throw new PruningError(unsupportedLayerMessage('PruneLowMagnitude', layer));
  }
  if (pruningSchedule !== undefined && !isPruningSchedule(pruningSchedule)) {
    throw new TypeError(argumentMessage(
        'PruneLowMagnitude', 'pruningSchedule', 'must be a PruningSchedule', pruningSchedule));
  }
  return {masking, maskKind, schedule: pruningSchedule ?? new ConstantSparsity({targetSparsity: 0.5})};
}

/**
 * Builds the wrapped layer; a custom layer rebuilt from its config that fails to build is named, with the rule.
 *
 * @throws PruningError for a rebuilt custom layer; else what building throws.
 */
export function buildInnerLayer(layer: Layer, inputShape: tfl.Shape | tfl.Shape[]): void {
  try {
    layer.build(inputShape as tfl.Shape);
  } catch (cause) {
    if (!isRebuiltCustomLayer(layer)) throw cause;
    throw new PruningError(
        `PruneLowMagnitude: ${describeLayer(layer)} failed to build from its config: ` +
        `${causeOf(cause)}. ${rebuildRule(layer.getClassName())}`);
  }
  layer.built = true;
}

/** Rejects a copy whose weights do not have the shapes of the layer it copies (a custom layer's lost config). */
export function checkSameWeightShapes(copy: Layer, source: Layer): void {
  const shapes = (layer: Layer) => `[${layer.weights.map((w) => `[${w.shape.join(', ')}]`).join(', ')}]`;
  if (shapes(copy) !== shapes(source)) {
    throw new PruningError(
        `PruneLowMagnitude: ${describeLayer(copy)} rebuilt from its config has weights of shapes ` +
        `${shapes(copy)}, but the layer it copies has ${shapes(source)}. ` +
        rebuildRule(copy.getClassName()));
  }
}

/** The brand of every wrapper, in every build of this package (see util/registry.ts). */
export const WRAPPER_BRAND = packageBrand('PruneLowMagnitude');

/** Marks a layer that {@link deserializeLayer} rebuilt from a config (a copy, or a loaded layer). */
const REBUILT_FROM_CONFIG = packageBrand('rebuiltFromConfig');

/**
 * The keys of a wrapper's config: its own, those of tfjs's base layer arguments, and the
 * `customObjects` tfjs's deserializer adds.
 */
const CONFIG_KEYS = [
  'layer', 'pruningSchedule', 'blockSize', 'blockPoolingType', 'sparsityMByN', 'globalPruning', 'channelImportance',
  'name', 'trainable', 'dtype', 'batchInputShape', 'inputShape', 'batchSize', 'inputDType', 'weights',
  'customObjects',
];


/** The name a wrapper takes by default: `prune_low_magnitude_<inner name>` (tfmot's). */
export function wrapperName(layerName: string): string {
  return `prune_low_magnitude_${layerName}`;
}

/**
 * The arguments of a wrapper rebuilt from `config` (see PruneLowMagnitude.fromConfig): the config's
 * keys checked, the schedule deserialized, then the inner layer. The config is not modified.
 */
export function wrapperArgsFromConfig(config: tf.serialization.ConfigDict):
    {layer: Layer; pruningSchedule: PruningSchedule | undefined; args: Record<string, unknown>} {
  checkKnownKeys('PruneLowMagnitude.fromConfig', 'config key', config, CONFIG_KEYS,
      'A model saved by a newer version of tfjs-model-optimization needs that version to load.');
  checkNoWeightValues(config, 'config');
  checkNoProtoKeys('PruneLowMagnitude.fromConfig', 'config', config);
  const {
    layer, pruningSchedule, blockSize, blockPoolingType, sparsityMByN, globalPruning, channelImportance, ...rest
  } = config;
  const schedule = pruningSchedule == null ? undefined : deserializeSchedule(pruningSchedule);
  const options: Record<string, unknown> = {};
  if (blockSize != null) options['blockSize'] = deepCopy(blockSize);
  if (blockPoolingType != null) {
    options['blockPoolingType'] = typeof blockPoolingType === 'string' ? blockPoolingType.toLowerCase() : blockPoolingType;
  }
  if (sparsityMByN != null) options['sparsityMByN'] = deepCopy(sparsityMByN);
  if (globalPruning != null) options['globalPruning'] = globalPruning;
  if (channelImportance != null) options['channelImportance'] = channelImportance;
  return {layer: deserializeLayer(layer), pruningSchedule: schedule, args: {...rest, ...options}};
}

/**
 * Whether `value` is a {@link PruneLowMagnitude} wrapper of any build of this
 * package (`instanceof` sees only one build's classes).
 */
export function isPruneLowMagnitude(value: unknown): value is PruneLowMagnitude {
  return hasBrand(value, WRAPPER_BRAND);
}

/**
 * The mask options as saved in a wrapper's config: every option, with
 * `sparsityMByN` null when unset (tfjs's loader fails on undefined values).
 */
export function maskConfig(
    options: {blockSize: [number, number]; blockPoolingType: BlockPoolingType; sparsityMByN: [number, number] | null;
      globalPruning: boolean; channelImportance: ChannelImportance | null}): tf.serialization.ConfigDict {
  return {
    blockSize: [...options.blockSize],
    blockPoolingType: options.blockPoolingType,
    sparsityMByN: options.sparsityMByN === null ? null : [...options.sparsityMByN],
    globalPruning: options.globalPruning,
    // Only under channel pruning: the configs of other wrappers stay those of earlier versions.
    ...(options.channelImportance === null ? {} : {channelImportance: options.channelImportance}),
  };
}

/**
 * Deserializes `{className, config}` into a layer through tfjs's class
 * registry: for {@link PruneLowMagnitude.fromConfig}, and for
 * {@link pruneLowMagnitude}, which wraps a copy of each layer rebuilt from its
 * config. The class is checked before anything is built, the config is copied
 * (never modified), and a layer rebuilt under another name than its config's
 * (a constructor that ignores its config) is refused.
 *
 * @throws TypeError when the input is not `{className, config}`, the config holds a `__proto__` or
 *   `weights` key, or the class is not a single layer; Error when the class is not registered;
 *   PruningError when the class is a PruneLowMagnitude, or when a custom layer cannot be rebuilt from its
 *   config (naming the layer, the cause and the rule).
 */
export function deserializeLayer(serialized: unknown): Layer {
  const {className, config} = (serialized ?? {}) as {className?: unknown; config?: unknown};
  if (typeof className !== 'string' || typeof config !== 'object' || config === null) {
    throw new TypeError(argumentMessage(
        'PruneLowMagnitude.fromConfig', 'layer', 'must be {className, config}', serialized));
  }
  checkNoProtoKeys('PruneLowMagnitude.fromConfig', 'layer.config', config);
  checkNoWeightValues(config, 'layer.config');
  const entry = lookupRegisteredClass(className);
  if (entry === undefined) {
    throw new Error(
        `PruneLowMagnitude.fromConfig: unknown layer class "${className}". Register custom layers with ` +
        'tf.serialization.registerClass before loading.');
  }
  // Checked on the class, before building: a model class builds its weights in its constructor.
  const prototype: unknown = entry.cls.prototype;
  const name = (config as {name?: unknown}).name;
  if (isPruneLowMagnitude(prototype)) {
    throw new PruningError(
        `PruneLowMagnitude: layer ${describeValue(name)} is already a PruneLowMagnitude wrapper; wrappers cannot be ` +
        'nested.');
  }
  if (prototype instanceof tfl.LayersModel) {
    throw new TypeError(
        `PruneLowMagnitude.fromConfig: 'layer' must be a single layer, but got the model ${describeValue(name)} ` +
        `(class ${className}); a PruneLowMagnitude wraps one layer (pruneLowMagnitude(model) prunes every layer of ` +
        'a model).');
  }
  if (!(prototype instanceof tfl.layers.Layer)) {
    throw new TypeError(`PruneLowMagnitude.fromConfig: class "${className}" is not a layer.`);
  }
  const custom = !registeredClassNames().includes(className);
  const described = `layer ${describeValue(name)} (class ${className})`;
  let layer: unknown;
  try {
    layer = entry.fromConfig(entry.cls, deepCopy(config) as tf.serialization.ConfigDict);
  } catch (cause) {
    if (!custom) throw cause;
    throw new PruningError(
        `PruneLowMagnitude: ${described} cannot be rebuilt from its config: ${causeOf(cause)}. ${rebuildRule(className)}`);
  }
  if (!(layer instanceof tfl.layers.Layer)) {
    throw new TypeError(`PruneLowMagnitude.fromConfig: class "${className}" is not a layer.`);
  }
  if (typeof name === 'string' && layer.name !== name) {
    disposeWeightsOf(layer);
    throw new PruningError(
        `PruneLowMagnitude: ${described} rebuilt from its config is named "${layer.name}": its constructor did not ` +
        `take the config. ${rebuildRule(className)}`);
  }
  if (custom) Object.defineProperty(layer, REBUILT_FROM_CONFIG, {value: true});
  return layer;
}

/** Rejects a `weights` key: weight values are never part of a saved config (they load from the weights manifest). */
function checkNoWeightValues(config: object, arg: string): void {
  const weights = (config as {weights?: unknown}).weights;
  if (weights != null) {
    throw new TypeError(argumentMessage(
        'PruneLowMagnitude.fromConfig', `${arg}.weights`, 'is not allowed (a saved config holds no weight values; ' +
        'they load from the weights manifest)', weights));
  }
}

/** Whether `layer` is a custom (not built-in) layer that {@link deserializeLayer} rebuilt from its config. */
export function isRebuiltCustomLayer(layer: Layer): boolean {
  return (layer as unknown as Record<symbol, unknown>)[REBUILT_FROM_CONFIG] === true;
}

/** `layer "name" (class ClassName)`. */
export function describeLayer(layer: Layer): string {
  return `layer "${layer.name}" (class ${layer.getClassName()})`;
}

/** The message of a caught error (or the value itself). */
export function causeOf(cause: unknown): string {
  return (cause instanceof Error ? cause.message : String(cause)).replace(/\.$/, '');
}

/** The rule a custom layer breaks when the wrapper cannot rebuild it from its config. */
export function rebuildRule(className: string): string {
  return 'The wrapper prunes a copy of the layer rebuilt from its config (and a saved model loads that way), so ' +
      `a prunable custom layer must be rebuildable with ${className}.fromConfig(${className}, layer.getConfig()), ` +
      `by default new ${className}(layer.getConfig()): give ${className} a constructor that takes one args ` +
      'object and a getConfig() that returns every constructor argument (see docs/custom-prunable-layers.md).';
}

/** Frees the weights of a layer built for a config that is then rejected (a layer never used has no refcount). */
export function disposeWeightsOf(layer: Layer): void {
  for (const weight of layer.weights) {
    try {
      weight.dispose();
    } catch {
      // Already disposed.
    }
  }
}
