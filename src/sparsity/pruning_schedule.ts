/**
 * Pruning schedules: when to recompute the masks and at what sparsity.
 * Mirrors tfmot's `pruning_schedule.py` (ConstantSparsity, PolynomialDecay);
 * their saved form is in schedule_serialization.ts.
 */
import * as tf from '@tensorflow/tfjs-core';

import {hasBrand, packageBrand, registerPackageClass, setBrand} from '../util/registry';
import {argumentMessage, checkFiniteNumber, checkInteger, checkKnownKeys, checkOptionsObject} from '../util/validation';

export {deserializeSchedule, serializeSchedule} from './schedule_serialization';
export type {SerializedSchedule} from './schedule_serialization';

/** The largest float32 value below 1 (1 - 2^-24): the largest sparsity a schedule can return. */
const LARGEST_SPARSITY = 1 - 2 ** -24;
/** The smallest positive float32 value (2^-149). */
const SMALLEST_FLOAT32 = 2 ** -149;
/** The largest finite float32 value. */
const LARGEST_FLOAT32 = (2 - 2 ** -23) * 2 ** 127;

/** The brand of every schedule, in every build of this package (see util/registry.ts). */
const SCHEDULE_BRAND = packageBrand('PruningSchedule');

/** What a schedule decides for one training step. */
export interface PruningDecision {
  /** Whether the masks are recomputed at this step. */
  shouldPrune: boolean;
  /** The sparsity (fraction of zeros, in [0, 1)) to aim for, as a float32 value. */
  sparsity: number;
}

/**
 * Base class of every pruning schedule. A schedule maps a training step (an
 * integer) to a {@link PruningDecision}.
 *
 * To write your own schedule, subclass it, implement `call` and `getConfig`,
 * give the class a `static className` and register it with
 * `tf.serialization.registerClass` so that pruned models using it can be
 * saved and loaded. The protected helpers `shouldPruneInStep`,
 * `validateStep` and `validateSparsity` give custom schedules the same rules
 * as the built-in ones.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import {PruningSchedule} from 'tfjs-model-optimization';
 *
 * // Prunes to `sparsity` on every even step from step 0 on.
 * class EveryOtherStep extends PruningSchedule {
 *   static className = 'EveryOtherStep';
 *   constructor(private readonly args: {sparsity: number}) {
 *     super();
 *     PruningSchedule.validateSparsity('EveryOtherStep', 'sparsity', args.sparsity);
 *   }
 *   call(step: number) {
 *     return {shouldPrune: PruningSchedule.shouldPruneInStep(step, 0, -1, 2), sparsity: this.args.sparsity};
 *   }
 *   getConfig() {
 *     return {sparsity: this.args.sparsity};
 *   }
 * }
 * tf.serialization.registerClass(EveryOtherStep);
 * new EveryOtherStep({sparsity: 0.5}).call(4); // {shouldPrune: true, sparsity: 0.5}
 * ```
 *
 * @category Schedules
 */
export abstract class PruningSchedule extends tf.serialization.Serializable {
  /**
   * `value instanceof PruningSchedule` holds for the schedules of every build
   * of this package loaded in the process (its ESM and its CJS build), not
   * only for this build's. Subclasses keep the usual `instanceof`.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return this === PruningSchedule ? isPruningSchedule(value) : Function.prototype[Symbol.hasInstance].call(this, value);
  }

  /**
   * Returns the decision for `step`.
   *
   * @param step The training step, an integer (the k-th training batch runs at step k).
   * @returns Whether to recompute the masks at this step, and the sparsity to aim for.
   */
  abstract call(step: number): PruningDecision;

  /** Returns every constructor argument, so that `fromConfig(getConfig())` rebuilds an equal schedule. */
  abstract override getConfig(): tf.serialization.ConfigDict;

  /**
   * The should-prune rule shared by tfmot's schedules:
   * `step >= beginStep && (step <= endStep || endStep < 0) && (step - beginStep) mod frequency == 0`
   * (floor modulo).
   *
   * @param step The training step.
   * @param beginStep First step at which pruning may happen.
   * @param endStep Last step at which pruning may happen, or -1 for no end.
   * @param frequency Prune every `frequency` steps from `beginStep` on.
   * @returns Whether masks should be recomputed at `step`.
   */
  protected static shouldPruneInStep(step: number, beginStep: number, endStep: number, frequency: number): boolean {
    const inRange = step >= beginStep && (step <= endStep || endStep < 0);
    const floorMod = (((step - beginStep) % frequency) + frequency) % frequency;
    return inRange && floorMod === 0;
  }

  /**
   * Checks `beginStep`, `endStep` and `frequency` in tfmot's order, plus this
   * package's type checks (integers only).
   *
   * @param caller Class name used in error messages.
   * @param allowNoEnd Whether `endStep` may be -1 (no end).
   * @throws TypeError when a value is not an integer; RangeError when it breaks a rule.
   */
  protected static validateStep(
      caller: string, beginStep: unknown, endStep: unknown, frequency: unknown, allowNoEnd: boolean): void {
    checkInteger(caller, 'beginStep', beginStep);
    checkInteger(caller, 'endStep', endStep);
    checkInteger(caller, 'frequency', frequency);
    if (beginStep < 0) {
      throw new RangeError(argumentMessage(caller, 'beginStep', 'must be >= 0', beginStep));
    }
    if (!allowNoEnd && endStep === -1) {
      throw new RangeError(argumentMessage(
          caller, 'endStep', 'cannot be -1 (this schedule needs an end step to decay towards)', endStep));
    }
    if (endStep !== -1) {
      if (endStep < 0) {
        throw new RangeError(argumentMessage(caller, 'endStep', 'must be -1 or >= 0', endStep));
      }
      if (endStep < beginStep) {
        throw new RangeError(argumentMessage(
            caller, 'endStep', `must be >= beginStep (${beginStep}) unless it is -1`, endStep));
      }
    }
    if (frequency <= 0) {
      throw new RangeError(argumentMessage(caller, 'frequency', 'must be > 0', frequency));
    }
  }

  /**
   * Checks that a sparsity is a number in [0, 1), also once rounded to
   * float32 (the precision schedules compute in): 0.99999999 rounds to 1.
   *
   * @throws TypeError when it is not a finite number; RangeError when it is outside [0, 1).
   */
  protected static validateSparsity(caller: string, name: string, sparsity: unknown): void {
    checkFiniteNumber(caller, name, sparsity);
    if (!(sparsity >= 0 && sparsity < 1)) {
      throw new RangeError(argumentMessage(caller, name, 'must be in the range [0, 1)', sparsity));
    }
    if (Math.fround(sparsity) >= 1) {
      throw new RangeError(argumentMessage(
          caller, name, `must be in the range [0, 1) in float32 too (at most ${LARGEST_SPARSITY}; ` +
          'larger values round to 1)', sparsity));
    }
  }

  /** Checks the `step` passed to `call`. */
  protected static validateCallStep(caller: string, step: unknown): void {
    checkInteger(`${caller}.call`, 'step', step);
  }
}

setBrand(PruningSchedule.prototype, SCHEDULE_BRAND);

/**
 * Whether `value` is a {@link PruningSchedule} of any build of this package
 * (`instanceof` sees only one build's classes).
 */
export function isPruningSchedule(value: unknown): value is PruningSchedule {
  return hasBrand(value, SCHEDULE_BRAND);
}

/** Arguments of {@link ConstantSparsity}. */
export interface ConstantSparsityArgs {
  /** The sparsity to prune to, in [0, 1). */
  targetSparsity: number;
  /** First step at which masks are computed. Default 0. */
  beginStep?: number;
  /** Last step at which masks may be recomputed, or -1 to keep pruning forever. Default -1. */
  endStep?: number;
  /** Recompute the masks every `frequency` steps from `beginStep` on. Default 100. */
  frequency?: number;
}

/**
 * Prunes to a constant sparsity every `frequency` steps from `beginStep` to
 * `endStep`.
 *
 * `call(step)` returns `sparsity = targetSparsity` at every step (before,
 * inside and after the range) and
 * `shouldPrune = step >= beginStep && (step <= endStep || endStep == -1) && (step - beginStep) % frequency == 0`.
 * The sparsity is returned as a float32 value, as tfmot computes it.
 *
 * @example
 * ```ts
 * import {ConstantSparsity} from 'tfjs-model-optimization';
 *
 * const schedule = new ConstantSparsity({targetSparsity: 0.5, frequency: 10});
 * schedule.call(20); // {shouldPrune: true, sparsity: 0.5}
 * schedule.call(25); // {shouldPrune: false, sparsity: 0.5}
 * ```
 *
 * @category Schedules
 */
export class ConstantSparsity extends PruningSchedule {
  /** Name under which the class is registered for serialization (tfmot's name). */
  static className = 'ConstantSparsity';

  /** The sparsity pruned to. */
  readonly targetSparsity: number;
  /** First step at which masks are computed. */
  readonly beginStep: number;
  /** Last step at which masks may be recomputed (-1: no end). */
  readonly endStep: number;
  /** Masks are recomputed every `frequency` steps from `beginStep` on. */
  readonly frequency: number;

  /**
   * @param args See {@link ConstantSparsityArgs}.
   * @throws TypeError when an argument is not a number of the right kind, or is unknown;
   *   RangeError when a step, the frequency or the sparsity is out of range
   *   (checked in tfmot's order: steps, then frequency, then sparsity).
   */
  constructor(args: ConstantSparsityArgs) {
    super();
    checkOptionsObject('ConstantSparsity', 'args', args, false);
    checkKnownKeys('ConstantSparsity', 'argument', args, ['targetSparsity', 'beginStep', 'endStep', 'frequency']);
    const {targetSparsity, beginStep = 0, endStep = -1, frequency = 100} = args;
    PruningSchedule.validateStep('ConstantSparsity', beginStep, endStep, frequency, true);
    PruningSchedule.validateSparsity('ConstantSparsity', 'targetSparsity', targetSparsity);
    this.targetSparsity = targetSparsity;
    this.beginStep = beginStep;
    this.endStep = endStep;
    this.frequency = frequency;
  }

  /**
   * @param step The training step, an integer.
   * @returns `{shouldPrune, sparsity: targetSparsity}` (sparsity rounded to float32).
   * @throws TypeError when `step` is not an integer.
   */
  call(step: number): PruningDecision {
    PruningSchedule.validateCallStep('ConstantSparsity', step);
    return {
      shouldPrune: PruningSchedule.shouldPruneInStep(step, this.beginStep, this.endStep, this.frequency),
      sparsity: Math.fround(this.targetSparsity),
    };
  }

  /** @returns `{targetSparsity, beginStep, endStep, frequency}`. */
  override getConfig(): tf.serialization.ConfigDict {
    return {targetSparsity: this.targetSparsity, beginStep: this.beginStep, endStep: this.endStep, frequency: this.frequency};
  }
}
registerPackageClass(ConstantSparsity);

/** Arguments of {@link PolynomialDecay}. */
export interface PolynomialDecayArgs {
  /** Sparsity at `beginStep` (and before), in [0, 1). */
  initialSparsity: number;
  /** Sparsity at `endStep` (and after), in [0, 1). */
  finalSparsity: number;
  /** Step at which the decay starts; >= 0. */
  beginStep: number;
  /** Step at which the decay reaches `finalSparsity`; >= beginStep (-1 is not allowed). */
  endStep: number;
  /**
   * Exponent of the polynomial; > 0 and, as the schedule computes in float32,
   * a positive finite float32 value (about 1.4e-45 to 3.4e38). Default 3.
   */
  power?: number;
  /** Recompute the masks every `frequency` steps from `beginStep` on. Default 100. */
  frequency?: number;
}

/**
 * Raises the sparsity from `initialSparsity` to `finalSparsity` along a
 * polynomial curve between `beginStep` and `endStep`:
 *
 * ```
 * p        = clip((step - beginStep) / (endStep - beginStep), 0, 1)
 * sparsity = (initialSparsity - finalSparsity) * (1 - p) ** power + finalSparsity
 * ```
 *
 * computed in float32 exactly as tfmot does. Masks are recomputed when
 * `beginStep <= step <= endStep` and `(step - beginStep) % frequency == 0`.
 * When `endStep == beginStep` (where tfmot divides by zero) the sparsity is
 * `finalSparsity` from `beginStep` on.
 *
 * @example
 * ```ts
 * import {PolynomialDecay} from 'tfjs-model-optimization';
 *
 * const schedule = new PolynomialDecay({
 *   initialSparsity: 0.2, finalSparsity: 0.8, beginStep: 100, endStep: 110, frequency: 2,
 * });
 * schedule.call(102).sparsity; // 0.4928 (to float32 precision)
 * schedule.call(110);          // {shouldPrune: true, sparsity: 0.8 (as float32)}
 * ```
 *
 * @category Schedules
 */
export class PolynomialDecay extends PruningSchedule {
  /** Name under which the class is registered for serialization (tfmot's name). */
  static className = 'PolynomialDecay';

  /** Sparsity at and before `beginStep`. */
  readonly initialSparsity: number;
  /** Sparsity at and after `endStep`. */
  readonly finalSparsity: number;
  /** First step at which masks are computed. */
  readonly beginStep: number;
  /** Last step at which masks may be recomputed (-1: no end). */
  readonly endStep: number;
  /** Exponent of the polynomial. */
  readonly power: number;
  /** Masks are recomputed every `frequency` steps from `beginStep` on. */
  readonly frequency: number;

  /**
   * @param args See {@link PolynomialDecayArgs}.
   * @throws TypeError when an argument is not a number of the right kind, or is unknown;
   *   RangeError when a value is out of range (checked in tfmot's order:
   *   steps, frequency, initialSparsity, finalSparsity; then power).
   */
  constructor(args: PolynomialDecayArgs) {
    super();
    checkOptionsObject('PolynomialDecay', 'args', args, false);
    checkKnownKeys('PolynomialDecay', 'argument', args,
        ['initialSparsity', 'finalSparsity', 'beginStep', 'endStep', 'power', 'frequency']);
    const {initialSparsity, finalSparsity, beginStep, endStep, power = 3, frequency = 100} = args;
    PruningSchedule.validateStep('PolynomialDecay', beginStep, endStep, frequency, false);
    PruningSchedule.validateSparsity('PolynomialDecay', 'initialSparsity', initialSparsity);
    PruningSchedule.validateSparsity('PolynomialDecay', 'finalSparsity', finalSparsity);
    checkFiniteNumber('PolynomialDecay', 'power', power);
    if (power <= 0) {
      throw new RangeError(argumentMessage('PolynomialDecay', 'power', 'must be > 0', power));
    }
    // The decay is computed in float32, where 1e-50 is 0 (the final sparsity would never be reached)
    // and 1e300 is Infinity (1 ** Infinity is NaN).
    const power32 = Math.fround(power);
    if (!(power32 > 0 && Number.isFinite(power32))) {
      throw new RangeError(argumentMessage(
          'PolynomialDecay', 'power', `must be a positive finite number in float32 too (from ${SMALLEST_FLOAT32} ` +
          `to ${LARGEST_FLOAT32}; ${power32 === 0 ? 'smaller values round to 0' : 'larger values round to Infinity'})`,
          power));
    }
    this.initialSparsity = initialSparsity;
    this.finalSparsity = finalSparsity;
    this.beginStep = beginStep as number;
    this.endStep = endStep as number;
    this.power = power;
    this.frequency = frequency;
  }

  /**
   * @param step The training step, an integer.
   * @returns Whether to prune at `step` and the decayed sparsity (a float32 value).
   * @throws TypeError when `step` is not an integer.
   */
  call(step: number): PruningDecision {
    PruningSchedule.validateCallStep('PolynomialDecay', step);
    const f = Math.fround;
    const span = this.endStep - this.beginStep;
    let p: number;
    if (span === 0) {
      // Porting note: tfmot divides by zero here; this port defines it.
      p = step >= this.beginStep ? 1 : 0;
    } else {
      p = f(f(step - this.beginStep) / f(span));
      p = Math.min(1, Math.max(0, p));
    }
    const amplitude = f(this.initialSparsity - this.finalSparsity);
    const decay = f(Math.pow(f(1 - p), f(this.power)));
    // Porting note: next to 1 the float32 sum can round up to 1 (tfmot then returns 1, outside its own
    // range); it is kept at the largest float32 below 1.
    const sparsity = Math.min(f(f(amplitude * decay) + f(this.finalSparsity)), LARGEST_SPARSITY);
    return {
      shouldPrune: PruningSchedule.shouldPruneInStep(step, this.beginStep, this.endStep, this.frequency),
      sparsity,
    };
  }

  /** @returns `{initialSparsity, finalSparsity, beginStep, endStep, power, frequency}`. */
  override getConfig(): tf.serialization.ConfigDict {
    return {
      initialSparsity: this.initialSparsity,
      finalSparsity: this.finalSparsity,
      beginStep: this.beginStep,
      endStep: this.endStep,
      power: this.power,
      frequency: this.frequency,
    };
  }
}
registerPackageClass(PolynomialDecay);
