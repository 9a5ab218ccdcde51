/**
 * The warning UpdatePruningStep prints at the end of a training that leaves
 * pruning short of what the schedule describes.
 */
import type {PruningSchedule} from './pruning_schedule';
import type {PruneLowMagnitude} from './pruning_wrapper';

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
    if (!wrapper.maskKind.followsSchedule || steps === null || steps.endStep < 0 || step >= steps.endStep) continue;
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
