/**
 * The step callback that drives pruning during training. Mirrors tfmot's
 * `pruning_callbacks.py` (UpdatePruningStep).
 */
import * as tfl from '@tensorflow/tfjs-layers';

import {PruningError} from './errors';
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
 * steps the schedule names; at the end of each epoch and of training it
 * writes `weight * mask` into the weights so that saved weights are sparse.
 *
 * The k-th training batch ever (counted across epochs and across `fit`
 * calls, and across a save and reload) runs at step k.
 *
 * In a custom training loop, call the hooks yourself: `setModel(model)`,
 * then `await onTrainBegin()` once, `await onBatchBegin(i)` before each
 * step, `await onEpochEnd(epoch)` after each epoch and `await onTrainEnd()`.
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

  /**
   * Finds the model's wrappers and starts their training session: a fresh
   * wrapper's step goes from -1 to 0; a restored one keeps its step.
   *
   * @throws PruningError when the model holds no PruneLowMagnitude layer (or no model was set).
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
    for (const wrapper of this.wrappers) await wrapper.startTraining();
  }

  /**
   * Advances every wrapper's step and updates the masks the schedules ask for.
   *
   * @param _batch Index of the batch in the epoch (unused: steps count batches across epochs).
   */
  override async onBatchBegin(_batch?: number): Promise<void> {
    this.assertStarted('onBatchBegin');
    for (const wrapper of this.wrappers) await wrapper.advanceStep();
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
 * await pruned.fit(xs, ys, {callbacks: [updatePruningStep()]});
 * ```
 * @category Pruning
 */
export function updatePruningStep(): UpdatePruningStep {
  return new UpdatePruningStep();
}
