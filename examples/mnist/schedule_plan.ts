/**
 * The article's pruning schedule, sized to the run: PolynomialDecay from 40%
 * to 70% sparsity over every step of the pruning epochs.
 */
import {PolynomialDecay} from '../../src';

export const INITIAL_SPARSITY = 0.4;
export const FINAL_SPARSITY = 0.7;
export const POWER = 3;
/** tfmot's default mask update frequency, which the article keeps. */
export const ARTICLE_FREQUENCY = 100;
/** The automatic frequency leaves at least this many mask updates (the article's run has 9). */
export const MIN_UPDATES = 10;

/** The schedule's parameters and how they were derived. */
export interface SchedulePlan {
  initialSparsity: number;
  finalSparsity: number;
  power: number;
  beginStep: number;
  endStep: number;
  frequency: number;
  /** Training examples per epoch (what is left after the validation split). */
  trainCount: number;
  stepsPerEpoch: number;
  /** The steps at which masks are recomputed, in order. */
  updateSteps: number[];
  /** The target sparsity of the last mask update. */
  lastUpdateSparsity: number;
  /** Why this frequency (one sentence, printed and saved). */
  frequencyNote: string;
}

/** What tfjs keeps for training: `floor(samples * (1 - validationSplit))` (tfjs's own formula). */
export function trainingCount(samples: number, validationSplit: number): number {
  return Math.floor(samples * (1 - validationSplit));
}

/**
 * The largest frequency that makes the last mask update fall exactly on the
 * end step (a divisor of `span`), is at most the article's 100, and leaves at
 * least {@link MIN_UPDATES} updates when the span allows it.
 */
export function chooseFrequency(span: number): number {
  const cap = frequencyCap(span);
  for (let frequency = cap; frequency > 1; frequency--) {
    if (span % frequency === 0) return frequency;
  }
  return 1;
}

function frequencyCap(span: number): number {
  return Math.min(ARTICLE_FREQUENCY, Math.max(1, Math.floor(span / MIN_UPDATES)));
}

/** The schedule for a run; `frequency` overrides the automatic choice. */
export function planSchedule(args: {
  trainSamples: number;
  validationSplit: number;
  batchSize: number;
  pruningEpochs: number;
  frequency?: number;
  /** Final sparsity (default the article's {@link FINAL_SPARSITY}). */
  finalSparsity?: number;
}): SchedulePlan {
  const trainCount = trainingCount(args.trainSamples, args.validationSplit);
  const stepsPerEpoch = Math.ceil(trainCount / args.batchSize);
  const beginStep = 0;
  const endStep = stepsPerEpoch * args.pruningEpochs;
  const frequency = args.frequency ?? chooseFrequency(endStep - beginStep);
  const finalSparsity = args.finalSparsity ?? FINAL_SPARSITY;
  const initialSparsity = Math.min(INITIAL_SPARSITY, finalSparsity);
  const schedule = buildSchedule({beginStep, endStep, frequency, initialSparsity, finalSparsity});
  // Step 0 is never a training step: the k-th batch runs at step k.
  const updateSteps: number[] = [];
  for (let step = 1; step <= endStep; step++) {
    if (schedule.call(step).shouldPrune) updateSteps.push(step);
  }
  const last = updateSteps[updateSteps.length - 1];
  const lastUpdateSparsity = last === undefined ? 0 : schedule.call(last).sparsity;
  const plan = {
    initialSparsity, finalSparsity, power: POWER,
    beginStep, endStep, frequency, trainCount, stepsPerEpoch, updateSteps, lastUpdateSparsity,
  };
  return {...plan, frequencyNote: explainFrequency(plan, args.frequency !== undefined)};
}

/** The PolynomialDecay of a plan. */
export function buildSchedule(
    plan: Pick<SchedulePlan, 'beginStep' | 'endStep' | 'frequency'> &
      Partial<Pick<SchedulePlan, 'initialSparsity' | 'finalSparsity'>>): PolynomialDecay {
  return new PolynomialDecay({
    initialSparsity: plan.initialSparsity ?? INITIAL_SPARSITY,
    finalSparsity: plan.finalSparsity ?? FINAL_SPARSITY,
    beginStep: plan.beginStep,
    endStep: plan.endStep,
    power: POWER,
    frequency: plan.frequency,
  });
}

function explainFrequency(plan: Omit<SchedulePlan, 'frequencyNote'>, chosenByUser: boolean): string {
  const {endStep, frequency, updateSteps, lastUpdateSparsity} = plan;
  const last = updateSteps[updateSteps.length - 1];
  if (last === undefined) {
    return `frequency ${frequency} is larger than the ${endStep} training steps: the masks are never updated.`;
  }
  if (last !== endStep) {
    return `frequency ${frequency}: the last mask update is at step ${last}, before the end step ${endStep}, ` +
      `so the final sparsity is ${lastUpdateSparsity.toFixed(5)}, not ${plan.finalSparsity}.`;
  }
  const cap = frequencyCap(endStep);
  const source = chosenByUser ? 'given with --frequency' :
    `the largest divisor of ${endStep} not above ${cap} = min(${ARTICLE_FREQUENCY}, max(1, floor(${endStep}/${MIN_UPDATES})))`;
  const articleLast = Math.floor(endStep / ARTICLE_FREQUENCY) * ARTICLE_FREQUENCY;
  const article = articleLast === endStep ? '' : articleLast === 0 ?
    `; the article's ${ARTICLE_FREQUENCY} would never update the masks in ${endStep} steps` :
    `; the article's ${ARTICLE_FREQUENCY} would stop at step ${articleLast} and miss the final sparsity`;
  return `frequency ${frequency} (${source}): ${updateSteps.length} mask updates, the last exactly at ` +
    `step ${endStep}, where the target is ${plan.finalSparsity}${article}.`;
}
