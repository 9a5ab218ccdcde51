/**
 * tfjs's class registry, looked up safely, and the brands that recognize this
 * package's objects whichever build created them.
 *
 * Porting note: a process can load this package twice, as its ESM build and
 * as its CJS build (an ES module importing it next to a CommonJS dependency
 * requiring it). Each build has its own classes, so `instanceof` fails on the
 * other build's objects; and both register their classes under one name in
 * tfjs's registry. Objects are recognized by a brand instead (a property
 * keyed by a `Symbol.for` symbol, shared by every build), and a class is
 * registered only if no build of this package registered one of that name
 * before, so that every build loads saved models into the same classes.
 */
import * as tf from '@tensorflow/tfjs-core';

import {hasOwnKey} from './validation';

/** A class as tfjs's registry holds it, with the `fromConfig` tfjs calls to build it. */
export interface RegisteredClass {
  cls: tf.serialization.SerializableConstructor<tf.serialization.Serializable>;
  fromConfig: tf.serialization.FromConfigMethod<tf.serialization.Serializable>;
}

/**
 * The class registered under `className`, or undefined. Only the registry's
 * own entries count: a plain object lookup would find `Object.prototype`
 * members (`constructor`, `toString`, `__proto__`) under their names.
 */
export function lookupRegisteredClass(className: string): RegisteredClass | undefined {
  const map = tf.serialization.SerializationMap.getMap().classNameMap;
  if (!hasOwnKey(map, className)) return undefined;
  const [cls, fromConfig] = map[className];
  return {cls, fromConfig};
}

/**
 * Bumped when an object of one version of this package can no longer be used
 * by another: brands of another protocol are not recognized.
 */
const BRAND_PROTOCOL = 1;

/** The brand symbol of one of this package's concepts (the same symbol in every build). */
export function packageBrand(name: string): symbol {
  return Symbol.for(`tfjs-model-optimization.${name}`);
}

/** Marks `target` (a prototype or a class) with `brand`: a non-enumerable, read-only property. */
export function setBrand(target: object, brand: symbol): void {
  Object.defineProperty(target, brand, {value: BRAND_PROTOCOL});
}

/** Whether `value` carries `brand` (own or inherited). */
export function hasBrand(value: unknown, brand: symbol): boolean {
  return (typeof value === 'object' || typeof value === 'function') && value !== null &&
      (value as Record<symbol, unknown>)[brand] === BRAND_PROTOCOL;
}

/**
 * `value instanceof receiver` for a class branded with `brand`: when
 * `receiver` is `branded` itself, whether `value` carries the brand (so that
 * the objects of every build of this package loaded in the process pass, its
 * ESM and its CJS build); for a subclass, the usual prototype-chain test.
 * For a class's `static [Symbol.hasInstance]`.
 */
export function isBrandedInstance(receiver: object, branded: object, brand: symbol, value: unknown): boolean {
  return receiver === branded ? hasBrand(value, brand) :
    Function.prototype[Symbol.hasInstance].call(receiver as () => unknown, value);
}

/** Marks the classes this package registers (an own property of the class). */
const REGISTERED_BY_PACKAGE = packageBrand('registeredClass');

/**
 * Registers one of this package's classes with tfjs, unless another build of
 * this package has already registered a class of that name: then saved models
 * keep loading into that build's class, which every build recognizes by its
 * brand. Any other class of that name is replaced, as `registerClass` does.
 *
 * @param cls A class with a static `className`.
 */
export function registerPackageClass<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>): void {
  const existing = lookupRegisteredClass(cls.className);
  if (existing !== undefined && existing.cls !== (cls as unknown) && hasOwnKey(existing.cls, REGISTERED_BY_PACKAGE) &&
      hasBrand(existing.cls, REGISTERED_BY_PACKAGE)) {
    return;
  }
  setBrand(cls, REGISTERED_BY_PACKAGE);
  tf.serialization.registerClass(cls);
}
