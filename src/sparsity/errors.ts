import {PackageError, brandErrorClass} from '../util/package_error';

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
export class PruningError extends PackageError {
  /**
   * @param message What went wrong and how to fix it.
   */
  constructor(message: string) {
    super(message, 'PruningError');
  }
}
brandErrorClass(PruningError, 'PruningError');
