/**
 * PruningSummaries: the callback that reports pruning at the end of each
 * epoch. Porting note: tfmot keeps it in `pruning_callbacks.py`; here it has
 * a file of its own (pruning_callbacks.ts re-exports it).
 */
import * as tfl from '@tensorflow/tfjs-layers';

import {argumentMessage, checkOptionsObject} from '../util/validation';
import {collectPruneLowMagnitudeLayers} from './collect_wrappers';
import {PruningError} from './errors';
import {countMaskedZeros} from './get_sparsity';

type Layer = tfl.layers.Layer;

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
      const targetSparsity = wrapper.maskKind.targetSparsity(() => wrapper.currentDecision());
      for (const pruned of wrapper.getPrunedWeights()) {
        const {sparsity} = await countMaskedZeros(pruned);
        const threshold = (await pruned.threshold.read().data())[0];
        rows.push({weight: pruned.weight.originalName, sparsity, threshold, targetSparsity});
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
