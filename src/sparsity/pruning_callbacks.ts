/**
 * The callbacks of pruning: the step callback that drives it during training
 * and the summaries that report it. Mirrors tfmot's `pruning_callbacks.py`
 * (UpdatePruningStep, PruningSummaries).
 *
 * Porting notes: global pruning is coordinated here, since this callback is
 * the one place that sees every wrapper of the model. PruningSummaries
 * writes into the epoch logs (so into `History` and tfjs-vis) instead of
 * TensorBoard files.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {argumentMessage, checkOptionsObject} from '../util/validation';
import {PruningError} from './errors';
import {ChannelPruner} from '../channels/channel_pruner';
import {globalMagnitudeMasks} from './pruning_impl';
import {PruningSchedule, serializeSchedule} from './pruning_schedule';
import {PruneLowMagnitude, isPruneLowMagnitude} from './pruning_wrapper';

type Layer = tfl.layers.Layer;

/**
 * Every {@link PruneLowMagnitude} layer of a model or layer, nested models
 * included, each once (shared layers are not repeated).
 *
 * @param modelOrLayer A model, a layer, or a list of layers.
 * @returns The wrappers, in layer order.
 * @category Pruning
 */
export function collectPruneLowMagnitudeLayers(modelOrLayer: Layer | Layer[]): PruneLowMagnitude[] {
  const found = new Set<PruneLowMagnitude>();
  const visit = (layer: Layer): void => {
    if (isPruneLowMagnitude(layer)) {
      found.add(layer);
    } else if (layer instanceof tfl.LayersModel) {
      layer.layers.forEach(visit);
    }
  };
  (Array.isArray(modelOrLayer) ? modelOrLayer : [modelOrLayer]).forEach(visit);
  return [...found];
}

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
    wrappers: PruneLowMagnitude[]; globalWrappers: PruneLowMagnitude[]; channels: ChannelPruner | null;
    model: tfl.LayersModel;
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
    const globalWrappers = wrappers.filter((wrapper) => wrapper.globalPruning);
    checkGlobalGroup(globalWrappers);
    const channelWrappers = wrappers.filter((wrapper) => wrapper.channelImportance !== null);
    checkChannelGroup(channelWrappers);
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
      const steps = new Set(globalWrappers.map((wrapper) => wrapper.pruningStep));
      if (steps.size > 1) {
        throw new PruningError(
            `UpdatePruningStep: the globally pruned layers of model "${model.name}" are at different pruning ` +
            `steps (${[...steps].join(', ')}); global pruning needs them in step (wrap them in one pruneLowMagnitude ` +
            'call and train them together).');
      }
      const channelSteps = new Set(channelWrappers.map((wrapper) => wrapper.pruningStep));
      if (channelSteps.size > 1) {
        throw new PruningError(
            `UpdatePruningStep: the channel-pruned layers of model "${model.name}" are at different pruning steps ` +
            `(${[...channelSteps].join(', ')}); channel pruning needs them in step (wrap the model in one ` +
            'pruneChannels call and train it as a whole).');
      }
    } catch (e) {
      // Nothing stays half started.
      for (const wrapper of started) wrapper.endTraining();
      throw e;
    }
    const channels = channelWrappers.length === 0 ? null : new ChannelPruner(model, channelWrappers);
    this.training = {wrappers, globalWrappers, channels, model};
    claim.started = true;
  }

  /**
   * Advances every wrapper's step and updates the masks the schedules ask for.
   *
   * @param _batch Index of the batch in the epoch (unused: steps count batches across epochs).
   */
  override async onBatchBegin(_batch?: number): Promise<void> {
    const {wrappers, globalWrappers, channels} = this.started('onBatchBegin');
    for (const wrapper of wrappers) await wrapper.advanceStep();
    if (channels !== null) await channels.advance();
    if (globalWrappers.length === 0) return;
    const {shouldPrune, sparsity} = globalWrappers[0].currentDecision();
    if (shouldPrune) await updateGlobalMasks(globalWrappers, sparsity);
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
 * The warning {@link UpdatePruningStep} prints at the end of a training that
 * leaves pruning short of what the schedule describes, or null. Schedules
 * count one step per training batch (across `fit` calls), as tfmot's do, so a
 * short fine-tune can end before the first mask is cut (the default schedule
 * cuts every 100 steps) or before a `PolynomialDecay` reaches its final
 * sparsity. It warns, in one message:
 *
 * - when no mask of the model has been cut yet (see
 *   {@link PruneLowMagnitude.hasCutMasks}): the step reached, the schedule's
 *   `beginStep`, `endStep` and `frequency` and the steps at which it cuts;
 * - else when a wrapper ended before its schedule's `endStep` (a schedule
 *   with an end): the step reached, the schedule's steps, the sparsity it
 *   asks for now and at its end.
 *
 * Wrappers with no pruned weight are ignored, and under `sparsityMByN` (cut
 * once, at the first step) the end step is not checked.
 *
 * @param wrappers The wrappers of the model, after their training ended.
 * @returns The message, or null when pruning went as the schedules describe.
 */
export function trainingEndWarning(wrappers: readonly PruneLowMagnitude[]): string | null {
  const pruning = wrappers.filter((wrapper) => wrapper.getPrunedWeights().length > 0);
  if (pruning.length === 0) return null;
  const stepText = (step: number) =>
    `training ended at pruning step ${step} (one step per training batch, counted across fit calls)`;
  if (pruning.every((wrapper) => !wrapper.hasCutMasks)) {
    const {pruningSchedule, pruningStep} = pruning[0];
    return `UpdatePruningStep: nothing is pruned yet: ${stepText(pruningStep)}, and no mask of the model has been ` +
        `cut. ${firstCutAdvice(pruningSchedule)}`;
  }
  for (const wrapper of pruning) {
    const steps = scheduleSteps(wrapper.pruningSchedule);
    const step = wrapper.pruningStep;
    if (wrapper.sparsityMByN !== null || steps === null || steps.endStep < 0 || step >= steps.endStep) continue;
    const sparsity = (at: number) => Number(wrapper.pruningSchedule.call(at).sparsity.toPrecision(4));
    return `UpdatePruningStep: the pruning schedule of layer "${wrapper.name}" did not reach its end: ` +
        `${stepText(step)}, but its schedule, ${describeSchedule(wrapper.pruningSchedule, steps)}, reaches its ` +
        `final sparsity ${sparsity(steps.endStep)} at step ${steps.endStep}; at step ${step} it asks for ` +
        `${sparsity(step)}. Train for ${steps.endStep - step} more batches (another fit call continues from step ` +
        `${step}), or set 'endStep' to at most the number of batches you train.`;
  }
  return null;
}

/** The steps of a schedule that has numeric `beginStep`, `endStep` and `frequency` fields (the built-in ones). */
interface ScheduleSteps {
  beginStep: number;
  endStep: number;
  frequency: number;
}

function scheduleSteps(schedule: PruningSchedule): ScheduleSteps | null {
  const {beginStep, endStep, frequency} = schedule as unknown as Partial<Record<keyof ScheduleSteps, unknown>>;
  const integer = (v: unknown): v is number => Number.isInteger(v);
  if (!integer(beginStep) || !integer(endStep) || !integer(frequency) || frequency <= 0) return null;
  return {beginStep, endStep, frequency};
}

function describeSchedule(schedule: PruningSchedule, {beginStep, endStep, frequency}: ScheduleSteps): string {
  return `${schedule.getClassName()} (beginStep ${beginStep}, endStep ${endStep}, frequency ${frequency})`;
}

/** When a schedule cuts its first mask (training runs steps 1, 2, ...), and what to change. */
function firstCutAdvice(schedule: PruningSchedule): string {
  const steps = scheduleSteps(schedule);
  if (steps === null) {
    return `Its schedule, ${schedule.getClassName()}, answered shouldPrune: false at every step so far; check its ` +
        'steps against the number of batches you train.';
  }
  const {beginStep, endStep, frequency} = steps;
  const first = beginStep >= 1 ? beginStep : beginStep + Math.ceil((1 - beginStep) / frequency) * frequency;
  const described = `Its schedule, ${describeSchedule(schedule, steps)},`;
  if (endStep >= 0 && first > endStep) {
    return `${described} cuts no mask at any training step: its first cut would be at step ${first}, after its ` +
        `endStep. ${endStep - beginStep >= 1 ? `Lower 'frequency' to at most ${endStep - beginStep}, or raise ` : 'Raise '}` +
        "'endStep'.";
  }
  const last = endStep < 0 ? null : beginStep + Math.floor((endStep - beginStep) / frequency) * frequency;
  const when = last === null ? `cuts masks first at step ${first}, then every ${frequency} steps` :
    last === first ? `cuts masks at step ${first} only` : `cuts masks at steps ${first} to ${last}, every ${frequency} steps`;
  return `${described} ${when}. Train for at least ${first} batches in all, or lower the schedule's 'frequency' ` +
      "(and 'beginStep') so that masks are cut within the batches you train.";
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

/** Throws unless the globally pruned wrappers share one schedule (so one target at each step). */
function checkGlobalGroup(wrappers: readonly PruneLowMagnitude[]): void {
  if (wrappers.length < 2) return;
  const first = JSON.stringify(serializeSchedule(wrappers[0].pruningSchedule));
  const other = wrappers.find((w) => JSON.stringify(serializeSchedule(w.pruningSchedule)) !== first);
  if (other !== undefined) {
    throw new PruningError(
        `UpdatePruningStep: the globally pruned layers "${wrappers[0].name}" and "${other.name}" have different ` +
        'schedules; global pruning cuts every globally pruned weight of a model at one threshold, so they need one ' +
        'schedule (wrap them in one pruneLowMagnitude call).');
  }
}

/** Rejects channel-pruned wrappers of one model with different schedules (they are cut together). */
function checkChannelGroup(wrappers: readonly PruneLowMagnitude[]): void {
  const first = wrappers[0];
  const other = wrappers.find((w) => !sameSchedule(w.pruningSchedule, first.pruningSchedule));
  if (other !== undefined) {
    throw new PruningError(
        `UpdatePruningStep: the channel-pruned layers "${first.name}" and "${other.name}" have different schedules; ` +
        'channel pruning zeroes coupled channels of several layers together, so they need one schedule (wrap the ' +
        'model in one pruneChannels call).');
  }
}

function sameSchedule(a: PruningSchedule, b: PruningSchedule): boolean {
  return a === b || JSON.stringify(serializeSchedule(a)) === JSON.stringify(serializeSchedule(b));
}

/**
 * Cuts the masks of every pruned weight of `wrappers` at one threshold: the
 * k-th largest magnitude over all of them, `k = keepCount(total, sparsity)`.
 */
async function updateGlobalMasks(wrappers: readonly PruneLowMagnitude[], sparsity: number): Promise<void> {
  const values: Float32Array[] = [];
  const names: string[] = [];
  for (const wrapper of wrappers) {
    for (const {weight} of wrapper.getPrunedWeights()) {
      values.push(await weight.read().data() as Float32Array);
      names.push(`weight "${weight.originalName}"`);
    }
  }
  const {masks, threshold} = globalMagnitudeMasks(values, sparsity, names);
  let next = 0;
  for (const wrapper of wrappers) {
    const count = wrapper.getPrunedWeights().length;
    wrapper.setMasks(masks.slice(next, next + count), new Array<number>(count).fill(threshold));
    next += count;
  }
}

/**
 * One row of {@link PruningSummaries}: a pruned weight at the end of an epoch.
 *
 * @category Pruning
 */
export interface PruningSummary {
  /** The weight's name as saved (e.g. `prune_low_magnitude_dense/kernel`); the log keys start with it. */
  weight: string;
  /** Fraction of zeros in `weight * mask`. */
  sparsity: number;
  /** The threshold of the last mask update (0 before the first). */
  threshold: number;
  /**
   * The sparsity the schedule asks for at the current step (`m / n` under
   * `sparsityMByN`, whose schedule is ignored).
   */
  targetSparsity: number;
}

/**
 * Arguments of {@link PruningSummaries}.
 *
 * @category Pruning
 */
export interface PruningSummariesArgs {
  /** Print a compact table of the pruned weights at the end of each epoch. Default `false`. */
  printTable?: boolean;
  /** Where the table goes, one call per epoch with the whole table. Default `console.log`. */
  print?: (text: string) => void;
}

/**
 * A callback that reports pruning at the end of each epoch: for every pruned
 * weight, its sparsity (zeros in `weight * mask`), its threshold and the
 * schedule's target are added to the epoch logs as
 * `<weight>/sparsity`, `<weight>/threshold` and `<weight>/target_sparsity`
 * (`<weight>` as saved, e.g. `prune_low_magnitude_dense/kernel`). They reach
 * `History` (`history.history['prune_low_magnitude_dense/kernel/sparsity']`)
 * and any callback after this one, such as tfjs-vis's `fitCallbacks`
 * (wrapped in `new tf.CustomCallback(...)`). With `printTable` it also
 * prints one compact table per epoch.
 *
 * Porting note: tfmot's `PruningSummaries(log_dir)` writes TensorBoard
 * files; tfjs users read `History` and tfjs-vis.
 *
 * @example
 * ```ts
 * import {PruningSummaries, UpdatePruningStep} from 'tfjs-model-optimization';
 *
 * const history = await pruned.fit(xs, ys, {
 *   epochs: 3,
 *   callbacks: [new UpdatePruningStep(), new PruningSummaries({printTable: true})],
 * });
 * history.history['prune_low_magnitude_dense/kernel/sparsity']; // e.g. [0.5, 0.5, 0.5]
 * ```
 *
 * @category Pruning
 */
export class PruningSummaries extends tfl.Callback {
  private readonly printTable: boolean;
  private readonly print: (text: string) => void;

  /**
   * @param args `{printTable?, print?}`.
   * @throws TypeError when `args` is not an object, `printTable` not a boolean or `print` not a function.
   */
  constructor(args?: PruningSummariesArgs) {
    super();
    checkOptionsObject('PruningSummaries', 'args', args, true);
    const {printTable = false, print = (text: string) => console.log(text)} = args ?? {};
    if (typeof printTable !== 'boolean') {
      throw new TypeError(argumentMessage('PruningSummaries', 'printTable', 'must be a boolean', printTable));
    }
    if (typeof print !== 'function') {
      throw new TypeError(argumentMessage('PruningSummaries', 'print', 'must be a function', print));
    }
    this.printTable = printTable;
    this.print = print;
  }

  /**
   * Measures every pruned weight of the model now.
   *
   * @returns One row per pruned weight, in layer order.
   * @throws PruningError when no model is set or it holds no PruneLowMagnitude layer.
   */
  async summarize(): Promise<PruningSummary[]> {
    if (this.model == null) {
      throw new PruningError(
          'PruningSummaries: no model is set. model.fit sets it; in a custom training loop call ' +
          'callback.setModel(model) first.');
    }
    const wrappers = collectPruneLowMagnitudeLayers(this.model as unknown as Layer);
    if (wrappers.length === 0) {
      throw new PruningError(
          `PruningSummaries: model "${this.model.name}" has no PruneLowMagnitude layers, so there is nothing to ` +
          'report. Wrap the model with pruneLowMagnitude(model) and train the result.');
    }
    const rows: PruningSummary[] = [];
    for (const wrapper of wrappers) {
      const targetSparsity = wrapper.sparsityMByN === null ? wrapper.currentDecision().sparsity :
        wrapper.sparsityMByN[0] / wrapper.sparsityMByN[1];
      for (const {weight, mask, threshold} of wrapper.getPrunedWeights()) {
        const masked = tf.tidy(() => tf.mul(weight.read(), mask.read()));
        const values = await masked.data();
        masked.dispose();
        let zeros = 0;
        for (let i = 0; i < values.length; i++) if (values[i] === 0) zeros++;
        rows.push({
          weight: weight.originalName,
          sparsity: values.length === 0 ? 0 : zeros / values.length,
          threshold: (await threshold.read().data())[0],
          targetSparsity,
        });
      }
    }
    return rows;
  }

  /**
   * Adds `<weight>/sparsity`, `<weight>/threshold` and
   * `<weight>/target_sparsity` to `logs` for every pruned weight, and prints
   * the table when asked to.
   *
   * @param epoch Index of the epoch (0-based; printed 1-based).
   * @param logs The epoch logs (fit passes them); without them only the table is printed.
   * @throws PruningError when no model is set or it holds no PruneLowMagnitude layer.
   */
  override async onEpochEnd(epoch: number, logs?: tfl.Logs): Promise<void> {
    const rows = await this.summarize();
    if (logs != null) {
      for (const row of rows) {
        logs[`${row.weight}/sparsity`] = row.sparsity;
        logs[`${row.weight}/threshold`] = row.threshold;
        logs[`${row.weight}/target_sparsity`] = row.targetSparsity;
      }
    }
    if (this.printTable) this.print(formatSummaryTable(epoch, rows));
  }
}

/** The compact per-epoch table of {@link PruningSummaries}. */
export function formatSummaryTable(epoch: number, rows: readonly PruningSummary[]): string {
  const percent = (x: number) => `${(100 * x).toFixed(2)}%`;
  const cells = rows.map((r) => [r.weight, percent(r.sparsity), percent(r.targetSparsity), r.threshold.toPrecision(4)]);
  const header = ['weight', 'sparsity', 'target', 'threshold'];
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c].length)));
  const line = (row: string[]) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
      .join('  ').trimEnd();
  return [`Pruning after epoch ${epoch + 1}`, line(header), ...cells.map(line)].join('\n');
}

/**
 * Creates a {@link PruningSummaries} callback (the tfjs-style factory).
 *
 * @param args `{printTable?, print?}`.
 * @returns A new callback.
 * @throws TypeError for invalid arguments, as {@link PruningSummaries}.
 * @example
 * ```ts
 * import {pruningSummaries, updatePruningStep} from 'tfjs-model-optimization';
 *
 * await pruned.fit(xs, ys, {callbacks: [updatePruningStep(), pruningSummaries({printTable: true})]});
 * ```
 * @category Pruning
 */
export function pruningSummaries(args?: PruningSummariesArgs): PruningSummaries {
  return new PruningSummaries(args);
}
