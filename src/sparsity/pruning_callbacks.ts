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
import {globalMagnitudeMasks} from './pruning_impl';
import {serializeSchedule} from './pruning_schedule';
import {PruneLowMagnitude} from './pruning_wrapper';

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
    if (layer instanceof PruneLowMagnitude) {
      found.add(layer);
    } else if (layer instanceof tfl.LayersModel) {
      layer.layers.forEach(visit);
    }
  };
  (Array.isArray(modelOrLayer) ? modelOrLayer : [modelOrLayer]).forEach(visit);
  return [...found];
}

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
  private wrappers: PruneLowMagnitude[] = [];
  private globalWrappers: PruneLowMagnitude[] = [];

  /**
   * Finds the model's wrappers and starts their training session: a fresh
   * wrapper's step goes from -1 to 0; a restored one keeps its step.
   *
   * @throws PruningError when the model holds no PruneLowMagnitude layer (or no model was set), when
   *   its wrappers are already trained by another UpdatePruningStep, when a saved step or mask is corrupt,
   *   or when its globally pruned wrappers do not share one schedule and one step. Then no wrapper is
   *   left started.
   */
  override async onTrainBegin(): Promise<void> {
    if (this.model == null) {
      throw new PruningError(
          'UpdatePruningStep.onTrainBegin: no model is set. model.fit sets it; in a custom training loop call ' +
          'callback.setModel(model) first.');
    }
    this.wrappers = collectPruneLowMagnitudeLayers(this.model as unknown as Layer);
    if (this.wrappers.length === 0) {
      throw new PruningError(
          `UpdatePruningStep: model "${this.model.name}" has no PruneLowMagnitude layers, so there is ` +
          'nothing to prune. Wrap the model with pruneLowMagnitude(model) and train the result.');
    }
    this.globalWrappers = this.wrappers.filter((wrapper) => wrapper.globalPruning);
    checkGlobalGroup(this.globalWrappers);
    // tfjs gives every fit call a new History, set before onTrainBegin: the session ends with this
    // fit even when the fit fails before onTrainEnd, so a later fit without the callback still fails.
    const model = this.model;
    const history = model.history;
    const session = {isCurrent: () => model.history === history};
    const started: PruneLowMagnitude[] = [];
    try {
      for (const wrapper of this.wrappers) {
        await wrapper.startTraining(session);
        started.push(wrapper);
      }
      const steps = new Set(this.globalWrappers.map((wrapper) => wrapper.pruningStep));
      if (steps.size > 1) {
        throw new PruningError(
            `UpdatePruningStep: the globally pruned layers of model "${this.model.name}" are at different pruning ` +
            `steps (${[...steps].join(', ')}); global pruning needs them in step (wrap them in one pruneLowMagnitude ` +
            'call and train them together).');
      }
    } catch (e) {
      // Nothing stays half started.
      for (const wrapper of started) wrapper.endTraining();
      this.wrappers = [];
      this.globalWrappers = [];
      throw e;
    }
  }

  /**
   * Advances every wrapper's step and updates the masks the schedules ask for.
   *
   * @param _batch Index of the batch in the epoch (unused: steps count batches across epochs).
   */
  override async onBatchBegin(_batch?: number): Promise<void> {
    this.assertStarted('onBatchBegin');
    for (const wrapper of this.wrappers) await wrapper.advanceStep();
    if (this.globalWrappers.length === 0) return;
    const {shouldPrune, sparsity} = this.globalWrappers[0].currentDecision();
    if (shouldPrune) await updateGlobalMasks(this.globalWrappers, sparsity);
  }

  /**
   * Writes `weight * mask` into the pruned weights: between batches the
   * weights are exactly sparse (an optimizer's momentum would otherwise move
   * pruned weights, and a mask update would see them).
   *
   * @param _batch Index of the batch in the epoch (unused).
   */
  override async onBatchEnd(_batch?: number): Promise<void> {
    this.assertStarted('onBatchEnd');
    for (const wrapper of this.wrappers) wrapper.applyMasks();
  }

  /**
   * Writes `weight * mask` into the pruned weights.
   *
   * @param _epoch Index of the epoch (unused).
   */
  override async onEpochEnd(_epoch?: number): Promise<void> {
    this.assertStarted('onEpochEnd');
    for (const wrapper of this.wrappers) wrapper.applyMasks();
  }

  /** Writes `weight * mask` into the pruned weights and ends the training session. */
  override async onTrainEnd(): Promise<void> {
    this.assertStarted('onTrainEnd');
    for (const wrapper of this.wrappers) wrapper.endTraining();
    this.wrappers = [];
    this.globalWrappers = [];
  }

  private assertStarted(hook: string): void {
    if (this.wrappers.length === 0) {
      throw new PruningError(
          `UpdatePruningStep.${hook}: training has not started; call onTrainBegin() first (model.fit does).`);
    }
  }
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
