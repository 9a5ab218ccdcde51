/**
 * The global mask kind: one magnitude threshold over every globally pruned
 * weight of a model, cut by a {@link GlobalPruner} that UpdatePruningStep
 * advances at every batch (the wrappers only advance their steps).
 *
 * Porting note: tfmot has no global pruning; this is PyTorch's `global_unstructured`.
 */
import type {PruneLowMagnitude} from '../pruning_wrapper';
import {globalMagnitudeMasks} from './global_mask';
import {MAGNITUDE} from './magnitude';
import {type MaskGroup, type MaskKindDefinition, advanceOnSchedule, scheduledGroup} from './mask_kind';

/** The globally pruned wrappers of one model under training (they share one schedule and one step). */
export class GlobalPruner implements MaskGroup {
  constructor(private readonly wrappers: readonly PruneLowMagnitude[]) {}

  /** Cuts the masks when the shared schedule says so at the current step. */
  async advance(): Promise<boolean> {
    return advanceOnSchedule(this.wrappers[0], (sparsity) => this.cut(sparsity));
  }

  /**
   * Cuts the masks of every pruned weight of the wrappers at one threshold: the
   * k-th largest magnitude over all of them, `k = keepCount(total, sparsity)`.
   */
  async cut(sparsity: number): Promise<void> {
    const values: Float32Array[] = [];
    const names: string[] = [];
    for (const wrapper of this.wrappers) {
      for (const {weight} of wrapper.getPrunedWeights()) {
        values.push(await weight.read().data() as Float32Array);
        names.push(`weight "${weight.originalName}"`);
      }
    }
    const {masks, threshold} = globalMagnitudeMasks(values, sparsity, names);
    let next = 0;
    for (const wrapper of this.wrappers) {
      const count = wrapper.getPrunedWeights().length;
      wrapper.setMasks(masks.slice(next, next + count), new Array<number>(count).fill(threshold));
      next += count;
    }
  }
}

const GLOBAL_GROUP = scheduledGroup({
  name: 'global',
  differentSchedules: (first, other) =>
    `UpdatePruningStep: the globally pruned layers "${first.name}" and "${other.name}" have different ` +
    'schedules; global pruning cuts every globally pruned weight of a model at one threshold, so they need one ' +
    'schedule (wrap them in one pruneLowMagnitude call).',
  differentSteps: (model, steps) =>
    `UpdatePruningStep: the globally pruned layers of model "${model.name}" are at different pruning ` +
    `steps (${steps.join(', ')}); global pruning needs them in step (wrap them in one pruneLowMagnitude ` +
    'call and train them together).',
  create: (_model, wrappers) => new GlobalPruner(wrappers),
});

export const globalKind: MaskKindDefinition = {
  selects: (options) => options.globalPruning,
  create: () => ({...MAGNITUDE, group: GLOBAL_GROUP, dueSparsity: () => null}),
  group: GLOBAL_GROUP,
};
