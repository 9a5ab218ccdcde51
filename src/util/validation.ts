/**
 * Argument checks shared by the public API. Every message names the caller,
 * the argument, the rule and the value received, in the style of tfjs-core's
 * op checks: `ConstantSparsity: 'beginStep' must be >= 0, but got -1.`
 */

/** Renders a received value for an error message (strings quoted, objects by kind). */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === 'function') return `a function${value.name ? ` (${value.name})` : ''}`;
  const name = (value as object).constructor?.name;
  return name && name !== 'Object' ? `an instance of ${name}` : 'an object';
}

/** Builds the message for an argument that breaks a rule. */
export function argumentMessage(caller: string, arg: string, rule: string, value: unknown): string {
  return `${caller}: '${arg}' ${rule}, but got ${describeValue(value)}.`;
}

/** Throws a TypeError unless `value` is a finite number. */
export function checkFiniteNumber(caller: string, arg: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(argumentMessage(caller, arg, 'must be a finite number', value));
  }
}

/** Throws a TypeError unless `value` is an integer (a finite number with no fraction). */
export function checkInteger(caller: string, arg: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(argumentMessage(caller, arg, 'must be an integer', value));
  }
}

/**
 * Throws a TypeError naming the first key of `object` that is not in `known`
 * (a typo, or a config written by a newer version), in the style of
 * `pruneLowMagnitude: unknown parameter 'x' (received 1); the parameters are a, b.`
 *
 * @param what The kind of key, singular (`'argument'`, `'config key'`).
 * @param hint A sentence appended to the message.
 */
export function checkKnownKeys(
    caller: string, what: string, object: object, known: readonly string[], hint = ''): void {
  for (const [key, value] of Object.entries(object)) {
    if (!known.includes(key)) {
      throw new TypeError(
          `${caller}: unknown ${what} '${key}' (received ${describeValue(value)}); the ${what}s are ` +
          `${known.join(', ')}.${hint === '' ? '' : ` ${hint}`}`);
    }
  }
}

/** Throws a TypeError unless `value` is a plain object (or undefined when optional). */
export function checkOptionsObject(caller: string, arg: string, value: unknown, optional: boolean): void {
  if (value === undefined && optional) return;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(argumentMessage(caller, arg, 'must be an object', value));
  }
}

/**
 * The options object as a record, after rejecting unknown keys (a TypeError
 * naming the key, its value and the known options).
 */
export function optionRecord(caller: string, options: unknown, known: readonly string[], optional: boolean):
    Record<string, unknown> {
  checkOptionsObject(caller, 'options', options, optional);
  const o = (options ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!known.includes(key)) {
      throw new TypeError(`${caller}: unknown option '${key}' (received ${describeValue(o[key])}); ` +
          `the options are ${known.join(', ')}.`);
    }
  }
  return o;
}

/** Whether `object` has an own property `key` (`Object.hasOwn`, which ES2020 lacks). */
export function hasOwnKey(object: object, key: PropertyKey): boolean {
  return Object.prototype.hasOwnProperty.call(object, key);
}

/**
 * A deep copy of a JSON-like config (plain objects, arrays, primitives). Every
 * key becomes an own data property of the copy: a `__proto__` key (which
 * `JSON.parse` creates as an own property) stays an inert own property instead
 * of becoming the copy's prototype, whose keys would then be read as if the
 * config held them.
 * Porting note: not `structuredClone`, whose arrays come from the calling
 * realm and then fail tfjs's `instanceof Array` checks in sandboxed contexts.
 */
export function deepCopy<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => deepCopy(v)) as T;
  if (value !== null && typeof value === 'object') {
    const copy: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      Object.defineProperty(copy, key, {value: deepCopy(v), enumerable: true, writable: true, configurable: true});
    }
    return copy as T;
  }
  return value;
}

/**
 * Throws a TypeError when a config (plain objects and arrays, at any depth)
 * holds a `__proto__` key. No config this package or tfjs writes has one; in
 * a parsed file it is an attempt to give an object hidden keys.
 *
 * @param arg The config's name in the message, e.g. `'layer'`.
 */
export function checkNoProtoKeys(caller: string, arg: string, value: unknown): void {
  const visit = (v: unknown, path: string): void => {
    if (Array.isArray(v)) {
      v.forEach((item, i) => visit(item, `${path}[${i}]`));
    } else if (v !== null && typeof v === 'object') {
      if (hasOwnKey(v, '__proto__')) {
        throw new TypeError(
            `${caller}: '${path}' holds a "__proto__" key, which a config never holds (it would change an ` +
            "object's prototype); the config is corrupt or hostile.");
      }
      for (const [key, item] of Object.entries(v)) visit(item, `${path}.${key}`);
    }
  };
  visit(value, arg);
}
