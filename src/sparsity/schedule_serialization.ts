/**
 * Schedules in the form they take inside a saved model's config
 * (`{className, config}`), and the comparison of two schedules.
 */
import * as tf from '@tensorflow/tfjs-core';

import {lookupRegisteredClass} from '../util/registry';
import {argumentMessage, checkNoProtoKeys, checkOptionsObject} from '../util/validation';
import {PruningSchedule, isPruningSchedule} from './pruning_schedule';

/** A schedule in the form it takes inside a saved model's config. */
export interface SerializedSchedule {
  /** The registered class name, e.g. `'PolynomialDecay'`. */
  className: string;
  /** The schedule's `getConfig()`. */
  config: tf.serialization.ConfigDict;
}

/**
 * Serializes a schedule to `{className, config}`, the form it takes inside a
 * saved model.
 *
 * @param schedule Any registered schedule.
 * @returns `{className, config}`.
 * @category Schedules
 */
export function serializeSchedule(schedule: PruningSchedule): SerializedSchedule {
  return {className: schedule.getClassName(), config: schedule.getConfig()};
}

/**
 * Rebuilds a schedule from `{className, config}` using tfjs's class registry.
 *
 * @param serialized The output of {@link serializeSchedule} (or of a saved model's config).
 * @returns A new schedule.
 * @throws TypeError when the input is not `{className, config}`, holds a
 *   `__proto__` key, or names a registered class that is not a schedule
 *   (checked before anything is built); Error when the class is not registered.
 * @category Schedules
 */
export function deserializeSchedule(serialized: unknown): PruningSchedule {
  checkOptionsObject('deserializeSchedule', 'serialized', serialized, false);
  const {className, config} = serialized as {className?: unknown; config?: unknown};
  if (typeof className !== 'string') {
    throw new TypeError(argumentMessage('deserializeSchedule', 'serialized.className', 'must be a string', className));
  }
  checkOptionsObject('deserializeSchedule', 'serialized.config', config, false);
  checkNoProtoKeys('deserializeSchedule', 'serialized.config', config);
  const entry = lookupRegisteredClass(className);
  if (entry === undefined) {
    throw new Error(
        `deserializeSchedule: unknown schedule class "${className}". Register custom schedules with ` +
        'tf.serialization.registerClass(YourSchedule) before loading.');
  }
  // Checked on the class, before building: building a registered model class would allocate its weights.
  if (!isPruningSchedule(entry.cls.prototype)) {
    throw new TypeError(`deserializeSchedule: class "${className}" is registered but is not a PruningSchedule.`);
  }
  const schedule = entry.fromConfig(entry.cls, {...(config as tf.serialization.ConfigDict)});
  if (!isPruningSchedule(schedule)) {
    throw new TypeError(`deserializeSchedule: class "${className}" is registered but its fromConfig did not return ` +
        'a PruningSchedule.');
  }
  return schedule;
}

/**
 * Whether two schedules decide alike: the same object, or the same class with
 * equal configs (compared value by value, not as JSON text).
 */
export function sameSchedule(a: PruningSchedule, b: PruningSchedule): boolean {
  return a === b || (a.getClassName() === b.getClassName() && sameValue(a.getConfig(), b.getConfig()));
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b || (Number.isNaN(a) && Number.isNaN(b))) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const keysB = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return keysA.length === keysB.length && keysA.every((k, n) => k === keysB[n] &&
    sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
