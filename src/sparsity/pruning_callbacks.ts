/**
 * The callbacks of pruning: the step callback that drives it during training
 * and the summaries that report it. Mirrors tfmot's `pruning_callbacks.py`
 * (UpdatePruningStep, PruningSummaries).
 *
 * Porting notes: this callback is the one place that sees every wrapper of
 * the model, so it advances the group objects that cut masks for a whole
 * model (global pruning: masks/global.ts; channel pruning:
 * channels/channel_pruner.ts) after the wrappers' steps. PruningSummaries
 * (pruning_summaries.ts, re-exported here) writes into the epoch logs (so
 * into `History` and tfjs-vis) instead of TensorBoard files.
 */
import * as tfl from '@tensorflow/tfjs-layers';

import {PruningError} from './errors';
import {collectPruneLowMagnitudeLayers} from './collect_wrappers';
import type {MaskGroup} from './masks/mask_kind';
import {MASK_GROUPS} from './masks/mask_kinds';
import {PruneLowMagnitude} from './pruning_wrapper';
import {trainingEndWarning} from './training_end_warning';

export {collectPruneLowMagnitudeLayers} from './collect_wrappers';
export {PruningSummaries, formatSummaryTable, pruningSummaries} from './pruning_summaries';
export type {PruningSummariesArgs, PruningSummary} from './pruning_summaries';
export {trainingEndWarning} from './training_end_warning';

type Layer = tfl.layers.Layer;

/** The end-of-training warnings already printed, per model. */
const WARNED = new WeakMap<tfl.LayersModel, Set<string>>();

/**
 * The callback that pruning needs during training: before each training
 * batch it advances every wrapper's step and recomputes the masks on the
 * steps the schedule names; after each batch (and at the end of each epoch
 * and of training) it writes `weight * mask` into the weights, so that the
 * weights are exactly sparse between batches (for the callbacks listed after
 * it, and between `fit` calls), and training resumed from a saved model
 * continues exactly as training that never stopped.
 *
 * The k-th training batch ever (counted across epochs and across `fit`
 * calls, and across a save and reload) runs at step k.
 *
 * Wrappers created with `globalPruning` are pruned together: on the steps
 * their (shared) schedule names, the callback collects the magnitudes of all
 * their weights, keeps the `max(round(total * (1 - sparsity)), 1)` largest
 * (ties kept) and gives each weight its part of that one mask.
 *
 * In a custom training loop, call the hooks yourself: `setModel(model)`,
 * then `await onTrainBegin()` once, `await onBatchBegin(i)` before and
 * `await onBatchEnd(i)` after each step, `await onEpochEnd(epoch)` after
 * each epoch and `await onTrainEnd()`.
 *
 * @example
 * ```ts
 * import {pruneLowMagnitude, UpdatePruningStep} from 'tfjs-model-optimization';
 *
 * const pruned = pruneLowMagnitude(model);
 * pruned.compile({optimizer: 'adam', loss: 'categoricalCrossentropy'});
 * await pruned.fit(xs, ys, {epochs: 2, callbacks: [new UpdatePruningStep()]});
 * ```
 *
 * @category Pruning
 */

export class UpdatePruningStep extends tfl.Callback {
  /**
   * The training this callback serves: its model (from `setModel`), whether a `fit` runs it, and
   * whether `onTrainBegin` has started it.
   */
  private claim: {model: tfl.LayersModel; inFit: boolean; started: boolean} | null = null;
  /** The started training's wrappers. */
  private training: {
    wrappers: PruneLowMagnitude[]; groups: MaskGroup[]; model: tfl.LayersModel;
  } | null = null;

  /**
   * Sets the model to train (model.fit calls it before `onTrainBegin`).
   *
   * @param model The model.
   * @throws PruningError while this callback drives the training of another model (two concurrent fit
   *   calls given one UpdatePruningStep): one instance serves one training at a time.
   */
  override setModel(model: tfl.LayersModel): void {
    this.claimFor(model);
    super.setModel(model);
  }

  /**
   * Finds the model's wrappers and starts their training session: a fresh
   * wrapper's step goes from -1 to 0; a restored one keeps its step.
   *
   * @throws PruningError when the model holds no PruneLowMagnitude layer (or no model was set), when
   *   this callback is already driving the training of another model, when its wrappers are already
   *   trained by another UpdatePruningStep, when a saved step or mask is corrupt, or when its globally
   *   pruned wrappers do not share one schedule and one step. Then no wrapper is left started.
   */
  override async onTrainBegin(): Promise<void> {
    const model = this.model;
    if (model == null) {
      throw new PruningError(
          'UpdatePruningStep.onTrainBegin: no model is set. model.fit sets it; in a custom training loop call ' +
          'callback.setModel(model) first.');
    }
    const claim = this.claimFor(model);
    const wrappers = collectPruneLowMagnitudeLayers(model as unknown as Layer);
    if (wrappers.length === 0) {
      throw new PruningError(
          `UpdatePruningStep: model "${model.name}" has no PruneLowMagnitude layers, so there is ` +
          'nothing to prune. Wrap the model with pruneLowMagnitude(model) and train the result.');
    }
    // Wrappers cut for the whole model (global pruning, channel pruning), by kind.
    const grouped = MASK_GROUPS.map((kind) =>
      ({kind, members: wrappers.filter((wrapper) => wrapper.maskKind.group?.name === kind.name)}));
    for (const {kind, members} of grouped) kind.checkSchedules(members);
    // The session ends with this training even when it fails before onTrainEnd: tfjs gives every fit call
    // a new History (set before onTrainBegin) and clears isTraining when the fit ends, however it ends. So
    // a later fit without the callback still fails.
    const {inFit} = claim;
    const history = model.history;
    const session = {isCurrent: () => model.history === history && (!inFit || isTraining(model))};
    const started: PruneLowMagnitude[] = [];
    try {
      for (const wrapper of wrappers) {
        await wrapper.startTraining(session);
        started.push(wrapper);
      }
      for (const {kind, members} of grouped) kind.checkSteps(members, model);
    } catch (e) {
      // Nothing stays half started.
      for (const wrapper of started) wrapper.endTraining();
      throw e;
    }
    const groups = grouped.filter(({members}) => members.length > 0).map(({kind, members}) => kind.create(model, members));
    this.training = {wrappers, groups, model};
    claim.started = true;
  }

  /**
   * Advances every wrapper's step and updates the masks the schedules ask for.
   *
   * @param _batch Index of the batch in the epoch (unused: steps count batches across epochs).
   */
  override async onBatchBegin(_batch?: number): Promise<void> {
    const {wrappers, groups} = this.started('onBatchBegin');
    for (const wrapper of wrappers) await wrapper.advanceStep();
    for (const group of groups) await group.advance();
  }

  /**
   * Writes `weight * mask` into the pruned weights: between batches the
   * weights are exactly sparse (an optimizer's momentum would otherwise move
   * pruned weights, and a mask update would see them).
   *
   * @param _batch Index of the batch in the epoch (unused).
   */
  override async onBatchEnd(_batch?: number): Promise<void> {
    for (const wrapper of this.started('onBatchEnd').wrappers) wrapper.applyMasks();
  }

  /**
   * Writes `weight * mask` into the pruned weights.
   *
   * @param _epoch Index of the epoch (unused).
   */
  override async onEpochEnd(_epoch?: number): Promise<void> {
    for (const wrapper of this.started('onEpochEnd').wrappers) wrapper.applyMasks();
  }

  /**
   * Writes `weight * mask` into the pruned weights and ends the training
   * session. Warns once (`console.warn`) when the training leaves pruning
   * short of what the schedule describes: no mask of the model has been cut
   * yet, or a schedule's `endStep` was not reached (see `trainingEndWarning`).
   */
  override async onTrainEnd(): Promise<void> {
    const training = this.started('onTrainEnd');
    for (const wrapper of training.wrappers) wrapper.endTraining();
    this.training = null;
    this.claim = null;
    const warning = trainingEndWarning(training.wrappers);
    // Once per model and kind of warning: a loop of short fit calls is told once, not at every call.
    const kind = warning?.slice(0, warning.indexOf(':', 'UpdatePruningStep: '.length));
    const told = WARNED.get(training.model) ?? new Set<string>();
    if (warning !== null && kind !== undefined && !told.has(kind)) {
      told.add(kind);
      WARNED.set(training.model, told);
      console.warn(warning);
    }
  }

  /**
   * The claim of the training of `model`: the current one when it is still running on `model`, else a new
   * one. Refuses another model while a training runs.
   */
  private claimFor(model: tfl.LayersModel): NonNullable<UpdatePruningStep['claim']> {
    if (this.claim !== null && this.isBusy()) {
      if (this.claim.model !== model) this.refuseSecondTraining(model);
      return this.claim;
    }
    this.claim = {model, inFit: isTraining(model), started: false};
    return this.claim;
  }

  /**
   * Whether the training this callback serves is still running: a fit's while tfjs's `isTraining`
   * flag is set (fit clears it however it ends), a custom loop's from onTrainBegin to onTrainEnd.
   */
  private isBusy(): boolean {
    if (this.claim === null) return false;
    return this.claim.inFit ? isTraining(this.claim.model) : this.claim.started;
  }

  private refuseSecondTraining(model: tfl.LayersModel): never {
    throw new PruningError(
        `UpdatePruningStep: this callback is already driving the training of model "${this.claim!.model.name}", ` +
        `so it cannot also drive the training of model "${model.name}": a callback instance serves one fit at a ` +
        'time. Give each concurrent fit its own new UpdatePruningStep(), or await one fit before starting the next ' +
        '(a custom training loop ends its training with onTrainEnd()).');
  }

  private started(hook: string): NonNullable<UpdatePruningStep['training']> {
    if (this.training === null) {
      throw new PruningError(
          `UpdatePruningStep.${hook}: training has not started; call onTrainBegin() first (model.fit does).`);
    }
    return this.training;
  }
}

/**
 * Whether tfjs's `fit` or `fitDataset` is running on `model`.
 * Porting note: `isTraining` is protected in tfjs-layers' types; both set it for the whole fit.
 */
function isTraining(model: tfl.LayersModel): boolean {
  return (model as unknown as {isTraining?: boolean}).isTraining === true;
}

/**
 * Creates an {@link UpdatePruningStep} callback (the tfjs-style factory).
 *
 * @returns A new callback.
 * @example
 * ```ts
 * import {updatePruningStep} from 'tfjs-model-optimization';
 *
 * await pruned.fit(xs, ys, {callbacks: [updatePruningStep()]});
 * ```
 * @category Pruning
 */
export function updatePruningStep(): UpdatePruningStep {
  return new UpdatePruningStep();
}
