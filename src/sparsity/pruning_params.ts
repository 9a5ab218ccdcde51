/**
 * The mask options shared by {@link pruneLowMagnitude} and the
 * {@link PruneLowMagnitude} wrapper (block sparsity, M-by-N sparsity, global
 * pruning): their types, defaults and checks.
 *
 * Porting note: tfmot checks these in the wrapper's constructor; here both
 * entry points check them, so that each error names the function called.
 */
import type {ChannelImportance} from '../channels/channel_masks';
import {describeValue} from '../util/validation';

/**
 * How block sparsity pools the magnitudes of a block: their average or their
 * maximum (tfmot's `'AVG'` and `'MAX'`).
 *
 * Porting note: lowercase, because tfjs snake-cases string values when it
 * saves a config (`'AVG'` would load back as `'avg'`).
 *
 * @category Pruning
 */
export type BlockPoolingType = 'avg' | 'max';

/**
 * Structured-sparsity options of {@link pruneLowMagnitude} and {@link PruneLowMagnitude}.
 * See docs/structured-sparsity.md.
 *
 * @category Pruning
 */
export interface StructuredSparsityParams {
  /**
   * Block shape `[height, width]` for block sparsity (tfmot's `block_size`):
   * weights are kept or pruned a whole block at a time, by the pooled |w| of
   * the block. Only for rank-2 weights (Dense kernels, embeddings, recurrent
   * kernels). Default `[1, 1]` (no blocks).
   */
  blockSize?: [number, number];
  /** How a block's magnitudes are pooled: `'avg'` or `'max'` (tfmot's `block_pooling_type`). Default `'avg'`. */
  blockPoolingType?: BlockPoolingType;
  /**
   * `[m, n]`: m zeros in every n consecutive weights along the input-channel
   * axis (tfmot's `sparsity_m_by_n`, e.g. `[2, 4]`), computed once at the
   * first training step (the schedule is ignored). Only for rank-2 and rank-4
   * weights. Default: none.
   */
  sparsityMByN?: [number, number];
}

/** The mask options after checks, with their defaults filled in. */
export interface ResolvedMaskParams {
  blockSize: [number, number];
  blockPoolingType: BlockPoolingType;
  sparsityMByN: [number, number] | null;
  globalPruning: boolean;
  /** Channel pruning (masks of whole channels, cut by UpdatePruningStep for the model): how channels are ranked. */
  channelImportance: ChannelImportance | null;
}

/** Renders a value for a message; small arrays of primitives by their content (`[2, 1.5]`). */
export function describeParam(value: unknown): string {
  if (Array.isArray(value) && value.length <= 8 &&
      value.every((v) => v === null || ['number', 'string', 'boolean'].includes(typeof v))) {
    return `[${value.map((v) => describeValue(v)).join(', ')}]`;
  }
  return describeValue(value);
}

/** Whether `value` is an array of exactly two integers. */
function isIntegerPair(value: unknown): value is [number, number] {
  return Array.isArray(value) && value.length === 2 && value.every((v) => Number.isInteger(v));
}

/**
 * Checks an `[m, n]` pair: two integers (else TypeError) with `1 <= m < n`
 * (else RangeError).
 *
 * @returns A copy of the pair.
 */
export function checkMByN(caller: string, arg: string, value: unknown): [number, number] {
  if (!isIntegerPair(value)) {
    throw new TypeError(`${caller}: '${arg}' must be an array of two integers [m, n], but got ${describeParam(value)}.`);
  }
  const [m, n] = value;
  if (!(m >= 1 && m < n)) {
    throw new RangeError(`${caller}: '${arg}' must satisfy 1 <= m < n, but got ${describeParam(value)}.`);
  }
  return [m, n];
}

/**
 * Checks the mask options and fills in their defaults. The arrays returned
 * are copies (the caller's arrays are never kept).
 *
 * @param caller The public function or class, for error messages.
 * @param params The options as received.
 * @throws TypeError for a value of the wrong type; RangeError for a value out
 *   of range or options that cannot be combined.
 */
export function resolveMaskParams(
    caller: string,
    params: {blockSize?: unknown; blockPoolingType?: unknown; sparsityMByN?: unknown; globalPruning?: unknown;
      channelImportance?: unknown}):
    ResolvedMaskParams {
  let blockSize: [number, number] = [1, 1];
  if (params.blockSize !== undefined) {
    if (!isIntegerPair(params.blockSize)) {
      throw new TypeError(
          `${caller}: 'blockSize' must be an array of two integers [height, width], but got ` +
          `${describeParam(params.blockSize)}.`);
    }
    if (params.blockSize[0] < 1 || params.blockSize[1] < 1) {
      throw new RangeError(`${caller}: 'blockSize' must hold integers >= 1, but got ${describeParam(params.blockSize)}.`);
    }
    blockSize = [params.blockSize[0], params.blockSize[1]];
  }
  let blockPoolingType: BlockPoolingType = 'avg';
  if (params.blockPoolingType !== undefined) {
    const value = params.blockPoolingType;
    if (value !== 'avg' && value !== 'max') {
      const message = `${caller}: 'blockPoolingType' must be 'avg' or 'max', but got ${describeParam(value)}.`;
      throw typeof value === 'string' ? new RangeError(message) : new TypeError(message);
    }
    blockPoolingType = value;
  }
  const sparsityMByN = params.sparsityMByN === undefined ? null :
    checkMByN(caller, 'sparsityMByN', params.sparsityMByN);
  let globalPruning = false;
  if (params.globalPruning !== undefined) {
    if (typeof params.globalPruning !== 'boolean') {
      throw new TypeError(`${caller}: 'globalPruning' must be a boolean, but got ${describeParam(params.globalPruning)}.`);
    }
    globalPruning = params.globalPruning;
  }
  const blocks = blockSize[0] !== 1 || blockSize[1] !== 1;
  if (sparsityMByN !== null && blocks) {
    throw new RangeError(
        `${caller}: 'blockSize' must be [1, 1] when 'sparsityMByN' is set, but got ${describeParam(blockSize)}.`);
  }
  if (globalPruning && sparsityMByN !== null) {
    throw new RangeError(
        `${caller}: 'globalPruning' must be false when 'sparsityMByN' is set (M-by-N masks are per group), ` +
        'but got true.');
  }
  if (globalPruning && blocks) {
    throw new RangeError(
        `${caller}: 'blockSize' must be [1, 1] when 'globalPruning' is true, but got ${describeParam(blockSize)}.`);
  }
  const channelImportance = resolveChannelImportance(caller, params.channelImportance);
  if (channelImportance !== null && (blocks || sparsityMByN !== null || globalPruning)) {
    throw new RangeError(
        `${caller}: 'channelImportance' (channel pruning) cannot be combined with 'blockSize', 'sparsityMByN' or ` +
        `'globalPruning', but got ${describeParam(channelImportance)} with them.`);
  }
  return {blockSize, blockPoolingType, sparsityMByN, globalPruning, channelImportance};
}

/** Checks a channel importance: 'l2', 'l1', or absent (null: not channel pruning). */
function resolveChannelImportance(caller: string, value: unknown): ChannelImportance | null {
  if (value === undefined || value === null) return null;
  if (value === 'l2' || value === 'l1') return value;
  const message = `${caller}: 'channelImportance' must be 'l2' or 'l1', but got ${describeParam(value)}.`;
  throw typeof value === 'string' ? new RangeError(message) : new TypeError(message);
}

/** Whether the options ask for block sparsity (a block other than 1 x 1). */
export function usesBlocks(params: ResolvedMaskParams): boolean {
  return params.blockSize[0] !== 1 || params.blockSize[1] !== 1;
}
