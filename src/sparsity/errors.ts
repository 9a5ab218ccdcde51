import {isBrandedInstance, packageBrand, setBrand} from '../util/registry';

/** The brand of PruningError, in every build of this package (see util/registry.ts). */
const ERROR_BRAND = packageBrand('PruningError');

/**
 * A failure of the pruning domain rather than a bad argument: training a
 * pruned model without {@link UpdatePruningStep}, a layer that cannot be
 * pruned, a weight that holds NaN. Bad arguments throw `TypeError` or
 * `RangeError` instead.
 *
 * @example
 * ```ts
 * import {PruningError} from 'tfjs-model-optimization';
 *
 * try {
 *   await prunedModel.fit(xs, ys); // forgot the callback
 * } catch (e) {
 *   if (e instanceof PruningError) console.log(e.message);
 * }
 * ```
 *
 * @category Errors
 */
export class PruningError extends Error {
  /**
   * @param message What went wrong and how to fix it.
   */
  constructor(message: string) {
    super(message);
    this.name = 'PruningError';
    Object.setPrototypeOf(this, new.target.prototype);
  }

  /**
   * `error instanceof PruningError` holds for the errors of every build of
   * this package loaded in the process (its ESM and its CJS build), not only
   * for this build's. Subclasses keep the usual `instanceof`.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBrandedInstance(this, PruningError, ERROR_BRAND, value);
  }
}
setBrand(PruningError.prototype, ERROR_BRAND);
