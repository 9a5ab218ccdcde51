/**
 * How a wrapper's masks are cut: the interface every mask kind implements
 * (one file per kind in this folder), and the masks of one weight.
 *
 * Porting note: tfmot chooses between its mask kinds with flags inside
 * `pruning_impl.Pruning`; here each kind is an object, chosen once per wrapper
 * in mask_kinds.ts from the wrapper's options.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type {LayerVariable} from '@tensorflow/tfjs-layers';

import {type ResolvedMaskParams, describeParam} from '../pruning_params';
import type {PruningDecision} from '../pruning_schedule';
import type {PruneLowMagnitude} from '../pruning_wrapper';
import {PruningError} from '../errors';
import {sameSchedule} from '../schedule_serialization';

/** The new mask of one weight, its threshold, and (when computed with it) the masked weight. */
export interface Cut {
  mask: tf.Tensor;
  threshold: number | tf.Tensor;
  /** `weight * mask`, when the cut computed it (else the pruner computes it). */
  masked?: tf.Tensor;
}

/** The masks of several wrappers cut together, at every training batch (after the wrappers' steps advanced). */
export interface MaskGroup {
  /** Cuts the masks when the schedule says so at the current step; returns whether it did. */
  advance(): Promise<boolean>;
}

/** A kind whose masks are cut for a whole model at once (global pruning, channel pruning). */
export interface GroupKind {
  /**
   * Names the group: wrappers belong to a group by this name, not by object identity, so that the
   * wrappers of another build of this package (its ESM and its CJS build) join the same group.
   */
  readonly name: string;
  /** Throws a PruningError unless the wrappers can be cut together (checked before their training starts). */
  checkSchedules(wrappers: readonly PruneLowMagnitude[]): void;
  /** Throws a PruningError unless the started wrappers are at one step. */
  checkSteps(wrappers: readonly PruneLowMagnitude[], model: tfl.LayersModel): void;
  /** The group object that cuts the wrappers' masks during this training. */
  create(model: tfl.LayersModel, wrappers: readonly PruneLowMagnitude[]): MaskGroup;
}

/** One way of cutting masks, bound to a wrapper's options. */
export interface MaskKind {
  /** Whether the wrapped layer must be one that the registry can prune (channel pruning masks any layer). */
  readonly needsPrunableLayer: boolean;
  /** Whether training is expected to reach the schedule's `endStep` (M-by-N cuts once, at step 1). */
  readonly followsSchedule: boolean;
  /** For kinds cut for the whole model: the group kind (wrappers of one kind share it). */
  readonly group: GroupKind | null;
  /** The weights of `layer` that get masks. */
  weightsOf(layer: tfl.layers.Layer): LayerVariable[];
  /** Throws a PruningError when `weight` (of the layer named `layerName`) cannot be cut this way. */
  checkWeight(weight: LayerVariable, layerName: string): void;
  /**
   * The sparsity at which the wrapper cuts its own masks at `step` (just reached), or null when
   * none is due (or a group cuts them). `decide` gives the schedule's decision at that step.
   */
  dueSparsity(step: number, decide: () => PruningDecision): number | null;
  /** The sparsity the masks aim for now (reported by PruningSummaries). */
  targetSparsity(decide: () => PruningDecision): number;
  /** Cuts the mask of one weight at `sparsity` (the wrapper's own mask update, `updateMasks`). */
  cut(weight: LayerVariable, sparsity: number): Promise<Cut>;
}

/** A mask kind in the list of mask_kinds.ts: which options select it, and the kind bound to them. */
export interface MaskKindDefinition {
  selects(options: ResolvedMaskParams): boolean;
  create(options: ResolvedMaskParams): MaskKind;
  /** For kinds cut for the whole model: their group kind. */
  readonly group?: GroupKind;
}

/**
 * A group's `advance()`: when the schedule of `leader` (shared by the group) says so at the current step,
 * `cut` at its sparsity. Returns whether it cut.
 */
export async function advanceOnSchedule(leader: PruneLowMagnitude, cut: (sparsity: number) => Promise<void>):
    Promise<boolean> {
  const {shouldPrune, sparsity} = leader.currentDecision();
  if (shouldPrune) await cut(sparsity);
  return shouldPrune;
}

/**
 * A group kind whose wrappers need one schedule and one step (both built-in groups), from the messages
 * of its two errors and the creation of its group object.
 */
export function scheduledGroup(kind: {
  name: string;
  differentSchedules(first: PruneLowMagnitude, other: PruneLowMagnitude): string;
  differentSteps(model: tfl.LayersModel, steps: readonly number[]): string;
  create(model: tfl.LayersModel, wrappers: readonly PruneLowMagnitude[]): MaskGroup;
}): GroupKind {
  return {
    name: kind.name,
    checkSchedules(wrappers) {
      const other = wrappers.find((w) => !sameSchedule(w.pruningSchedule, wrappers[0].pruningSchedule));
      if (other !== undefined) throw new PruningError(kind.differentSchedules(wrappers[0], other));
    },
    checkSteps(wrappers, model) {
      const steps = new Set(wrappers.map((wrapper) => wrapper.pruningStep));
      if (steps.size > 1) throw new PruningError(kind.differentSteps(model, [...steps]));
    },
    create: kind.create,
  };
}

/** `weight "<name>" of layer "<layer>" has shape [..] (rank r)`, for the rank checks of the kinds. */
export function describeWeightShape(weight: LayerVariable, layerName: string): string {
  return `weight "${weight.originalName}" of layer "${layerName}" has shape ${describeParam(weight.shape)} ` +
      `(rank ${weight.shape.length})`;
}
