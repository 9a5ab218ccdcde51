/**
 * The base of the package's domain errors (PruningError, ClusteringError):
 * the error's name, and an `instanceof` that holds for the errors of every
 * build of this package loaded in the process (its ESM and its CJS build),
 * through a brand each error class registers with {@link brandErrorClass}.
 */
import {hasBrand, packageBrand, setBrand} from './registry';

/** The brand of each registered error class. */
const BRANDS = new WeakMap<object, symbol>();

/** An error of one of the package's domains; see the module comment. */
export class PackageError extends Error {
  /**
   * @param message What went wrong and how to fix it.
   * @param name The error class's name.
   */
  constructor(message: string, name: string) {
    super(message);
    this.name = name;
    Object.setPrototypeOf(this, new.target.prototype);
  }

  /**
   * For the package's own error classes: whether `value` carries the class's
   * brand, so that the errors of every build of this package loaded in the
   * process pass (its ESM and its CJS build); for any other subclass, the
   * usual prototype test.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    const brand = BRANDS.get(this);
    return brand !== undefined ? hasBrand(value, brand) : Function.prototype[Symbol.hasInstance].call(this, value);
  }
}

/** Brands `cls` (and its instances) as the package's error class `name`. */
export function brandErrorClass(cls: typeof PackageError, name: string): void {
  const brand = packageBrand(name);
  BRANDS.set(cls, brand);
  setBrand(cls.prototype, brand);
}
