/**
 * Pruning policies: which layers of a model {@link pruneLowMagnitude} wraps,
 * and whether it accepts the model at all. Mirrors tfmot's
 * `pruning_policy.py` (PruningPolicy).
 *
 * Porting note: tfmot ships one policy (`PruneForLatencyOnXNNPack`); this
 * package ships {@link SkipUnsupportedLayers} and {@link PruneSelectedLayers}
 * instead, the two controls users of other pruning libraries ask for.
 */
import * as tfl from '@tensorflow/tfjs-layers';

import {layersOf} from '../graph/model_graph';
import {argumentMessage, checkOptionsObject, describeValue} from '../util/validation';
import {PruningError} from './errors';
import {isPrunable} from './prune_registry';

type Layer = tfl.layers.Layer;

/**
 * Decides which layers of a model are pruned. Pass one as `pruningPolicy` to
 * {@link pruneLowMagnitude} (models only): first
 * `ensureModelSupportsPruning(model)` may reject the whole model by throwing,
 * then every layer (inside nested models too, input layers excepted) for
 * which `allowPruning(layer)` returns `false` is left unwrapped, keeping its
 * weights unpruned. The layers passed are the caller's; do not modify them.
 *
 * Subclass it, or pass any object with these methods (`ensureModelSupportsPruning`
 * may be left out).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import {PruningPolicy, pruneLowMagnitude} from 'tfjs-model-optimization';
 *
 * // Prune Dense layers only, and only models that have one.
 * class DenseOnly extends PruningPolicy {
 *   allowPruning(layer: tf.layers.Layer) {
 *     return layer.getClassName() === 'Dense';
 *   }
 *   override ensureModelSupportsPruning(model: tf.LayersModel) {
 *     if (!model.layers.some((l) => this.allowPruning(l))) throw new Error(`${model.name} has no Dense layer`);
 *   }
 * }
 * const pruned = pruneLowMagnitude(model, {pruningPolicy: new DenseOnly()});
 * ```
 *
 * @category Pruning
 */
export abstract class PruningPolicy {
  /**
   * Whether `layer` is wrapped for pruning.
   *
   * @param layer A layer of the model being pruned (not an input layer, not a nested model).
   * @returns `true` to wrap it, `false` to leave it as it is.
   */
  abstract allowPruning(layer: Layer): boolean;

  /**
   * Throws when the model cannot be pruned under this policy; called once,
   * before any layer is wrapped. The default accepts every model.
   *
   * @param _model The model passed to {@link pruneLowMagnitude}.
   * @throws Any error that explains why the model is refused.
   */
  ensureModelSupportsPruning(_model: tfl.LayersModel): void {
    // Every model is accepted.
  }
}

/** The part of a policy that {@link pruneLowMagnitude} calls (a class instance or a plain object). */
export type PruningPolicyLike = Pick<PruningPolicy, 'allowPruning'> & Partial<Pick<PruningPolicy, 'ensureModelSupportsPruning'>>;

/**
 * Checks that `value` is a policy: an object with an `allowPruning` method
 * and, if present, an `ensureModelSupportsPruning` method.
 *
 * @throws TypeError otherwise.
 */
export function checkPruningPolicy(caller: string, value: unknown): PruningPolicyLike {
  const policy = value as Partial<Record<keyof PruningPolicy, unknown>> | null;
  if (typeof policy !== 'object' || policy === null || typeof policy.allowPruning !== 'function' ||
      (policy.ensureModelSupportsPruning !== undefined && typeof policy.ensureModelSupportsPruning !== 'function')) {
    throw new TypeError(argumentMessage(
        caller, 'pruningPolicy',
        'must be a PruningPolicy (an object with allowPruning(layer) and optionally ensureModelSupportsPruning(model))',
        value));
  }
  return value as PruningPolicyLike;
}

/**
 * A policy that prunes every layer that can be pruned and leaves the others
 * (custom layers that do not implement {@link PrunableLayer}, layers of
 * classes the registry does not know) unwrapped, instead of failing the
 * whole call. The error {@link pruneLowMagnitude} raises for such a layer
 * names this policy. Layers without any weights need no policy: they are
 * left unwrapped anyway.
 *
 * @example
 * ```ts
 * import {SkipUnsupportedLayers, pruneLowMagnitude} from 'tfjs-model-optimization';
 *
 * // `model` holds a custom layer that pruning does not know: it stays as it is.
 * const pruned = pruneLowMagnitude(model, {pruningPolicy: new SkipUnsupportedLayers()});
 * ```
 *
 * @category Pruning
 */
export class SkipUnsupportedLayers extends PruningPolicy {
  /**
   * @param layer A layer of the model.
   * @returns Whether {@link isPrunable} accepts it.
   */
  allowPruning(layer: Layer): boolean {
    return isPrunable(layer);
  }
}

/**
 * Arguments of {@link PruneSelectedLayers}: at least one of `names` and `predicate`.
 *
 * @category Pruning
 */
export interface PruneSelectedLayersArgs {
  /**
   * Layers to prune, by name: a string matches a layer name exactly (and
   * must name a layer of the model), a RegExp is tested against each name.
   */
  names?: Array<string | RegExp>;
  /** Layers to prune, by a test on the layer (it must not modify the layer). */
  predicate?: (layer: Layer) => boolean;
}

/**
 * A policy that prunes only the layers you select, by name (exact strings or
 * regular expressions) and/or by a predicate; when both are given, a layer
 * must match both. Every other layer is left unwrapped. A selected layer that
 * cannot be pruned still makes {@link pruneLowMagnitude} fail, naming it
 * (unless it holds no weights: it then stays as it is); add
 * `isPrunable(layer)` to the predicate to skip such layers instead.
 *
 * @example
 * ```ts
 * import {PruneSelectedLayers, pruneLowMagnitude} from 'tfjs-model-optimization';
 *
 * const denseOnly = pruneLowMagnitude(model, {
 *   pruningPolicy: new PruneSelectedLayers({predicate: (layer) => layer.getClassName() === 'Dense'}),
 * });
 * const twoLayers = pruneLowMagnitude(model, {pruningPolicy: new PruneSelectedLayers({names: ['dense_1', /^conv/]})});
 * ```
 *
 * @category Pruning
 */
export class PruneSelectedLayers extends PruningPolicy {
  private readonly names: ReadonlyArray<string | RegExp> | undefined;
  private readonly predicate: ((layer: Layer) => boolean) | undefined;

  /**
   * @param args `{names?, predicate?}`, at least one of them.
   * @throws TypeError when `args` is not an object, `names` is not an array
   *   of strings and RegExps, `predicate` is not a function, or both are missing.
   */
  constructor(args: PruneSelectedLayersArgs) {
    super();
    checkOptionsObject('PruneSelectedLayers', 'args', args, false);
    const {names, predicate} = args;
    if (names !== undefined &&
        (!Array.isArray(names) || !names.every((n) => typeof n === 'string' || n instanceof RegExp))) {
      throw new TypeError(argumentMessage(
          'PruneSelectedLayers', 'names', 'must be an array of strings and RegExps', names));
    }
    if (predicate !== undefined && typeof predicate !== 'function') {
      throw new TypeError(argumentMessage('PruneSelectedLayers', 'predicate', 'must be a function', predicate));
    }
    if (names === undefined && predicate === undefined) {
      throw new TypeError(
          "PruneSelectedLayers: 'args' must have 'names' or 'predicate' (or both), but got neither.");
    }
    this.names = names === undefined ? undefined : [...names];
    this.predicate = predicate;
  }

  /**
   * @param layer A layer of the model.
   * @returns Whether the layer matches `names` (when given) and `predicate` (when given).
   */
  allowPruning(layer: Layer): boolean {
    const byName = this.names === undefined ||
        this.names.some((n) => (typeof n === 'string' ? n === layer.name : new RegExp(n.source, n.flags).test(layer.name)));
    return byName && (this.predicate === undefined || this.predicate(layer) === true);
  }

  /**
   * Checks that every string in `names` names a layer of the model (nested
   * models included), so that a typo does not silently prune nothing.
   *
   * @param model The model passed to {@link pruneLowMagnitude}.
   * @throws PruningError naming the first name that matches no layer.
   */
  override ensureModelSupportsPruning(model: tfl.LayersModel): void {
    const present = new Set<string>();
    for (const layer of layersOf(model.layers, {models: true})) present.add(layer.name);
    for (const name of this.names ?? []) {
      if (typeof name === 'string' && !present.has(name)) {
        throw new PruningError(
            `PruneSelectedLayers: model "${model.name}" has no layer named ${describeValue(name)}; its layers are ` +
            `${[...present].map((n) => describeValue(n)).join(', ')}.`);
      }
    }
  }
}
