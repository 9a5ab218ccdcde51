/**
 * Layers of kernels in tfjs's registry. registerTrainingKernels and
 * registerSparseKernels each put a kernel config over the one registered
 * before and remember it (the "replaced" config), so one kernel name may
 * hold a chain: sparse -> training -> stock, or training -> sparse -> stock.
 * Either layer can be removed in any order: the top one by registering what
 * it replaced, a buried one by unlinking it from the layer above.
 *
 * The sparse layer stays on top: registerTrainingKernels, called after it,
 * slips its layer under it ({@link insertUnderSparse}), since a training
 * kernel on top would run every product itself, sparse weights included.
 *
 * A sparse layer calls the config it replaced through its record at every
 * call, so unlinking or inserting below it takes effect at once. A training layer
 * keeps the function it replaced (built into its own); a sparse layer
 * unlinked from below it is therefore also switched off, passing every call
 * straight through to its own replaced config.
 */
import type {KernelConfig} from '@tensorflow/tfjs-core';

/** The record registerSparseKernels keeps on its configs. */
export const SPARSE = Symbol.for('tfjs-model-optimization.sparseKernel');
/** The record registerTrainingKernels keeps on its configs (see ../index.ts). */
const TRAINING = Symbol.for('tfjs-model-optimization.trainingKernel');

/** What a layer remembers. */
export interface LayerRecord {
  replaced: KernelConfig | undefined;
}

/** A sparse layer's record: also whether it still runs sparse products. */
export interface SparseRecord extends LayerRecord {
  active: boolean;
}

export interface SparseKernelConfig extends KernelConfig {
  [SPARSE]: SparseRecord;
}

type Layered = KernelConfig & {[SPARSE]?: SparseRecord; [TRAINING]?: LayerRecord};

export function isSparseConfig(config: KernelConfig | undefined): config is SparseKernelConfig {
  return config != null && SPARSE in config;
}

/** A config's layer record, when it is one of this package's layers. */
function recordOf(config: KernelConfig | undefined): LayerRecord | undefined {
  if (config == null) return undefined;
  const layered = config as Layered;
  return layered[SPARSE] ?? layered[TRAINING];
}

/** Whether a config below `top` (or `top` itself) satisfies `test`. */
export function chainHas(top: KernelConfig | undefined, test: (config: KernelConfig) => boolean): boolean {
  for (let config = top; config != null; config = recordOf(config)?.replaced) {
    if (test(config)) return true;
  }
  return false;
}

/**
 * Unlinks the first config below `top` (not `top` itself) that satisfies
 * `test` from the layer above it. Returns whether one was found.
 */
export function unlinkBuried(top: KernelConfig | undefined, test: (config: KernelConfig) => boolean): boolean {
  for (let above = top; above != null;) {
    const record = recordOf(above);
    const below = record?.replaced;
    if (record === undefined || below == null) return false;
    if (test(below)) {
      record.replaced = recordOf(below)!.replaced;
      if (isSparseConfig(below)) below[SPARSE].active = false;
      return true;
    }
    above = below;
  }
  return false;
}

/**
 * When `top` is an active sparse layer, puts the config `make` builds (over
 * the one the sparse layer replaced) under it, and returns true; otherwise
 * does nothing and returns false.
 */
export function insertUnderSparse(
    top: KernelConfig | undefined, make: (replaced: KernelConfig | undefined) => KernelConfig): boolean {
  if (!isSparseConfig(top) || !top[SPARSE].active) return false;
  top[SPARSE].replaced = make(top[SPARSE].replaced);
  return true;
}
