/**
 * Records the measured sparsity of a pruned model while it trains. Masks only
 * change on the schedule's update steps, so measuring right after those steps
 * (and after the last batch) gives the whole curve at little cost.
 */
import * as tfl from '@tensorflow/tfjs-layers';

import {collectPruneLowMagnitudeLayers, getSparsity} from '../../src';
import type {PruningSchedule, WeightSparsity} from '../../src';
import type {SparsityPoint} from './chart';

/** The fraction of zeros over all the given weights together. */
export function overallSparsity(weights: WeightSparsity[]): number {
  const size = weights.reduce((sum, w) => sum + w.size, 0);
  const zeros = weights.reduce((sum, w) => sum + w.zeros, 0);
  return size === 0 ? 0 : zeros / size;
}

/**
 * A callback (a `tf.Callback` instance, so it can sit next to
 * `UpdatePruningStep`) that measures the pruned kernels after every batch
 * that ran a mask update, and after the last batch.
 */
export class SparsityRecorder extends tfl.Callback {
  readonly points: SparsityPoint[] = [];

  constructor(private readonly schedule: PruningSchedule, private readonly lastStep: number) {
    super();
  }

  override async onBatchEnd(): Promise<void> {
    const [wrapper] = collectPruneLowMagnitudeLayers(this.model as unknown as tfl.layers.Layer);
    if (wrapper === undefined) return;
    const step = wrapper.pruningStep;
    if (!this.schedule.call(step).shouldPrune && step !== this.lastStep) return;
    const weights = await getSparsity(this.model as unknown as tfl.layers.Layer);
    this.points.push({step, sparsity: overallSparsity(weights)});
  }
}
