/**
 * A wrapper's pruning step and its training session: the saved int32
 * `pruning_step` weight is the one source of truth for the step, and a
 * session says while training calls are allowed.
 *
 * Porting note: tfmot reads its step variable inside the graph; here the step
 * is read back from the variable, once per value written (a value that
 * `setWeights` or a load writes is read again).
 */
import * as tf from '@tensorflow/tfjs-core';
import type {LayerVariable} from '@tensorflow/tfjs-layers';

import {describeValue} from '../util/validation';
import {PruningError} from './errors';
import type {PruningDecision, PruningSchedule} from './pruning_schedule';

/** The message of the error raised when a pruned model is trained without the step callback. */
export const MISSING_CALLBACK_MESSAGE =
    'PruneLowMagnitude requires the UpdatePruningStep callback during training. Add it to the callbacks ' +
    'of your model.fit call: model.fit(x, y, {callbacks: [new UpdatePruningStep()]}), or call its hooks ' +
    'yourself in a custom training loop.';

/**
 * A training session of {@link UpdatePruningStep}: training calls are allowed while `isCurrent()`
 * is true. It turns false when the `fit` it belongs to is over, also when that fit failed before
 * the callback's `onTrainEnd` could end the session.
 */
export type TrainingSession = {isCurrent(): boolean};

/** The session of a direct {@link PruneLowMagnitude.startTraining} call: current until `endTraining`. */
export const UNTIL_ENDED: TrainingSession = {isCurrent: () => true};

/** The largest step the int32 `pruning_step` weight can hold. */
const MAX_STEP = 2 ** 31 - 1;

/** Writes `value` into `variable` and disposes `value`. */
export function assign(variable: LayerVariable, value: tf.Tensor): void {
  try {
    variable.write(value);
  } finally {
    value.dispose();
  }
}

/** The `pruning_step` of one wrapper (named `layerName` in messages) and its training session. */
export class PruningStep {
  private session: TrainingSession | null = null;
  /** The step last read from or written to the variable, with the data it was read from. */
  private known: {dataId: object; step: number} | null = null;

  /** @param variable The wrapper's int32 `pruning_step` weight; set to -1 (never trained). */
  constructor(private readonly variable: LayerVariable, private readonly layerName: string) {
    this.write(-1);
  }

  /** The step held by the variable: -1 before training; the k-th training batch runs at step k. */
  get value(): number {
    const tensor = this.variable.read();
    if (this.known?.dataId !== tensor.dataId) this.known = {dataId: tensor.dataId, step: tensor.dataSync()[0]};
    return this.known.step;
  }

  /** Whether training calls are allowed now. */
  get inSession(): boolean {
    return this.session?.isCurrent() ?? false;
  }

  /**
   * Starts a session: checks the saved step, runs `checkSaved` (the saved masks), then sets a
   * fresh wrapper's step from -1 to 0.
   *
   * @throws PruningError when a session is current, or the saved step is below -1.
   */
  async start(session: TrainingSession, checkSaved: () => Promise<void>): Promise<void> {
    if (this.session !== null && this.session.isCurrent()) {
      throw new PruningError(
          `PruneLowMagnitude: layer "${this.layerName}" is already being trained by an UpdatePruningStep: one fit ` +
          'has two of them (each would advance the pruning step at every batch), or a custom training loop did ' +
          'not call onTrainEnd(). Give fit one UpdatePruningStep; end custom training loops with onTrainEnd().');
    }
    const saved = (await this.variable.read().data())[0];
    if (saved < -1) {
      throw new PruningError(
          `PruneLowMagnitude: layer "${this.layerName}" holds the pruning step ${saved}, but a step is -1 (never ` +
          'trained) or >= 0; the saved model is corrupt.');
    }
    await checkSaved();
    this.write(saved === -1 ? 0 : saved);
    this.session = session;
  }

  /** Ends the session: training calls fail again. */
  end(): void {
    this.session = null;
  }

  /**
   * Advances the step by one.
   *
   * @returns The new step.
   * @throws PruningError when the step would leave the range of the int32 variable.
   */
  advance(): number {
    const step = this.value;
    if (step >= MAX_STEP) {
      throw new PruningError(
          `PruneLowMagnitude: layer "${this.layerName}" is at pruning step ${step}, the largest its int32 ` +
          'pruning_step weight can hold; it cannot be trained further.');
    }
    this.write(step + 1);
    return step + 1;
  }

  private write(step: number): void {
    assign(this.variable, tf.scalar(step, 'int32'));
    this.known = {dataId: this.variable.read().dataId, step};
  }
}

/**
 * The schedule's decision at `step`, checked (a custom schedule could answer anything).
 *
 * @throws PruningError when the answer is not `{shouldPrune: boolean, sparsity: a number in [0, 1)}`,
 *   which would cut a wrong mask.
 */
export function checkedDecision(schedule: PruningSchedule, step: number, layerName: string): PruningDecision {
  const decision = schedule.call(step);
  const {shouldPrune, sparsity} = (decision ?? {}) as Partial<PruningDecision>;
  if (typeof shouldPrune !== 'boolean' || typeof sparsity !== 'number' || !(sparsity >= 0 && Math.fround(sparsity) < 1)) {
    throw new PruningError(
        `PruneLowMagnitude: the schedule ${schedule.getClassName()} of layer "${layerName}" returned ` +
        `{shouldPrune: ${describeValue(shouldPrune)}, sparsity: ${describeValue(sparsity)}} at step ${step}, ` +
        'but a schedule returns {shouldPrune: a boolean, sparsity: a number in [0, 1) (in float32)}.');
  }
  return decision;
}
