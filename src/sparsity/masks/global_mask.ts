/** Global magnitude masks: one threshold over several weights taken together. */
import {keepCount, radixSelect} from './radix_select';

/** Masks of several weights cut at one threshold (global pruning). */
export interface GlobalMaskResult {
  /** One mask per weight, in the order given. */
  masks: Float32Array[];
  /** The k-th largest magnitude over all weights (0 when they are all empty). */
  threshold: number;
}

/**
 * Global magnitude pruning: one threshold for several weights taken
 * together. `k = keepCount(total size, sparsity)` weights are kept over all
 * of them (ties at the threshold kept), so each weight ends at its own
 * sparsity while the total reaches the target by the k-rule.
 *
 * @param arrays The weights' values (not modified).
 * @param sparsity Target fraction of zeros over all weights, in [0, 1).
 * @param names One name per weight, used in error messages.
 * @throws PruningError when a value is NaN or infinite.
 */
export function globalMagnitudeMasks(
    arrays: readonly Float32Array[], sparsity: number, names: readonly string[] = []): GlobalMaskResult {
  const total = arrays.reduce((sum, values) => sum + values.length, 0);
  if (total === 0) return {masks: arrays.map(() => new Float32Array(0)), threshold: 0};
  const masks = arrays.map((values) => new Float32Array(values.length));
  const threshold = radixSelect(arrays, keepCount(total, sparsity), names, masks);
  return {masks, threshold: threshold.value};
}
