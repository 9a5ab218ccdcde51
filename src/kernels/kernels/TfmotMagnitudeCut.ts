/**
 * The magnitude mask update on tfjs-backend-wasm, without taking the weights
 * out of the wasm heap: a kernel (`TfmotMagnitudeCut`) that finds the k-th
 * largest |w| and writes the mask and the masked weight with two SIMD passes
 * of magnitude.wat, plus a selection in JavaScript over a few percent of the
 * weights.
 *
 * The threshold is found like this (Floyd and Rivest's selection):
 * 1. a fixed, stratified sample of the |w| bit patterns gives, through its
 *    order statistics around the target rank, a bracket `(lo, hi]` that holds
 *    the k-th largest with near certainty;
 * 2. one pass counts the weights above `hi` (and spots infinite or NaN ones)
 *    and copies the patterns inside the bracket to a scratch buffer;
 * 3. when the k-th largest is inside the bracket (the counts tell, exactly),
 *    it is selected among the copied patterns; otherwise (an unlucky sample,
 *    or a bracket that cuts through a run of equal values) the radix selection
 *    runs on all the weights.
 * The result is always exact, the threshold {@link kthLargestMagnitude}
 * returns; only the time depends on the sample. The second pass writes
 * `mask = |w| >= threshold` and `masked = mask ? w : +0`.
 *
 * Nothing here branches on the weights' values in a loop over all of them:
 * every update sees new weights, and a branch taken for a few percent of them
 * at random costs more than a whole pass (comparison sorts are avoided for the
 * same reason).
 *
 * Heap addresses are unsigned: Emscripten's `_malloc` returns an int32,
 * negative above 2 GiB, so every pointer goes through `>>> 0` (as in
 * tfjs-backend-wasm) before it offsets a view or reaches magnitude.wat. When
 * the heap has no room for the scratch, the threshold is found by the radix
 * selection instead, which needs none; nothing is written at address 0.
 */
import * as tf from '@tensorflow/tfjs-core';
import type {DataId, DataType, KernelFunc, NamedAttrMap, TensorInfo} from '@tensorflow/tfjs-core';

import {kthLargestMagnitude} from '../../sparsity/pruning_impl';
import {orderStatistics, sampleBracket, WEIGHT_SAMPLE} from '../impl/magnitude_cut_impl';
import {MAGNITUDE_WASM, MAGNITUDE_WASM_SHARED} from '../wasm/magnitude_module';
import {heapAllocate, instantiateOnHeap, isWasmHeapBackend} from '../wasm/wasm_instance';
import type {WasmHeapBackend} from '../wasm/wasm_instance';

export {heapAllocate} from '../wasm/wasm_instance';

/** The kernel's name in tfjs's registry. */
export const MAGNITUDE_CUT = 'TfmotMagnitudeCut';

/** Below this many weights the radix selection runs on all of them (sampling would not pay). */
const MIN_SAMPLED = 16384;
/** Sample size from a bracket's patterns: the next bracket holds about 13% of them. */
const BRACKET_SAMPLE = 512;
/** At most this many patterns in a bracket are resolved directly (by a histogram) rather than bracketed again. */
const DIRECT = 2048;
/** The largest finite float32 pattern; larger |w| patterns are infinities and NaNs. */
const MAX_FINITE_BITS = 0x7f7fffff;

/** The exports of magnitude.wat. */
export interface MagnitudeExports {
  initTable(table: number): void;
  bracket(w: number, n: number, lo: number, hi: number, out: number, table: number): number;
  above(): number;
  maxBits(): number;
  cut(w: number, n: number, threshold: number, mask: number, masked: number): void;
}

/** magnitude.wat instantiated on one backend's heap, with its shuffle table there. */
interface Instance {
  exports: MagnitudeExports;
  table: number;
}

/** The part of tfjs-backend-wasm's `BackendWasm` this kernel uses. */
interface WasmBackend extends WasmHeapBackend {
  dataIdMap: {get(dataId: DataId): {memoryOffset: number} | undefined};
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  disposeData(dataId: DataId, force?: boolean): boolean;
}

/** Per backend object: the instance, or null where there can be none (no SIMD, no memory found). */
const instances = new WeakMap<object, Instance | null>();

/** Whether `backend` looks like tfjs-backend-wasm's `BackendWasm`. */
function isWasmBackend(backend: unknown): backend is WasmBackend {
  const candidate = backend as Partial<WasmBackend> | null;
  return isWasmHeapBackend(backend) && typeof candidate?.makeOutput === 'function' && candidate.dataIdMap != null;
}

function instantiate(backend: WasmBackend): Instance | null {
  if (instances.has(backend)) return instances.get(backend)!;
  // Null where the engine has no SIMD or the heap's memory is not found. A module this small
  // compiles synchronously everywhere (browsers allow it on the main thread below 4 KB).
  const exports = instantiateOnHeap<MagnitudeExports>(backend, MAGNITUDE_WASM, MAGNITUDE_WASM_SHARED);
  let instance: Instance | null = null;
  if (exports !== null) {
    // 256 bytes for the life of the backend. Without them (a full heap) there is no instance this
    // time, and the caller takes the portable path; the next call tries again.
    const table = heapAllocate(backend.wasm, 256);
    if (table === null) return null;
    backend.wasm.HEAPU8.fill(0, table, table + 256);
    exports.initTable(table);
    instance = {exports, table};
  }
  instances.set(backend, instance);
  return instance;
}

/**
 * The value of ascending rank `rank` among the `count` patterns at byte
 * offset `at`, all in `(lo, hi]`: bracketed again (sample, then a pass of
 * `bracket` that copies the patterns inside to `at + count + 4`) until few
 * are left, then resolved directly.
 */
function rankInBracket(
    instance: Instance, backend: WasmBackend, at: number, count: number, rank: number, lo: number,
    hi: number): number {
  const view = () => new Uint32Array(backend.wasm.HEAPU8.buffer, at, count);
  if (count > DIRECT) {
    const inner = sampleBracket(view(), rank, BRACKET_SAMPLE, lo, hi);
    const next = at + (count + 4) * 4;
    const innerCount = instance.exports.bracket(at, count, inner.lo, inner.hi, next, instance.table);
    const below = count - instance.exports.above() - innerCount;
    // Recursing only into brackets at most half as full bounds the scratch space by 2 * count.
    if (below <= rank && rank < below + innerCount && innerCount <= count / 2) {
      return rankInBracket(instance, backend, next, innerCount, rank - below, inner.lo, inner.hi);
    }
  }
  return orderStatistics(view(), [rank], lo + 1, hi - lo - 1)[0];
}

/**
 * Writes the mask and the masked weight of the n floats at byte offset `w`
 * into `mask` and `masked`, keeping the k largest |w|; returns the
 * threshold's bit pattern.
 */
function cutInHeap(
    instance: Instance, backend: WasmBackend, w: number, n: number, k: number, mask: number, masked: number,
    name: string): number {
  const {exports} = instance;
  const heap = () => backend.wasm.HEAPU8.buffer;
  const cut = (threshold: number) => {
    exports.cut(w, n, threshold, mask, masked);
    return threshold;
  };
  // The portable path's radix selection, on the weight where it lies; needs no heap. Also names the
  // first NaN or infinite value in its error.
  const exact = () => cut(kthLargestMagnitude(new Float32Array(heap(), w, n), k, name).bits);
  if (n < MIN_SAMPLED) return exact();
  // The patterns in the bracket, then those of the brackets inside it: at most 2n, plus 4 per level.
  const scratch = heapAllocate(backend.wasm, (2 * n + 4 * 32) * 4);
  if (scratch === null) return exact();
  const {lo, hi} = sampleBracket(new Uint32Array(heap(), w, n), n - k, WEIGHT_SAMPLE, -1, MAX_FINITE_BITS);
  try {
    const count = exports.bracket(w, n, lo, hi, scratch, instance.table);
    const above = exports.above();
    if (exports.maxBits() > MAX_FINITE_BITS) return exact();
    if (above < k && k <= above + count) {
      return cut(rankInBracket(instance, backend, scratch, count, count - (k - above), lo, hi));
    }
    // Fewer than k weights are non-zero: every weight is kept.
    if (lo === 0 && k > above + count) return cut(0);
    return exact();
  } finally {
    backend.wasm._free(scratch);
  }
}

/**
 * Inputs `{x}` (float32, at least one value); attrs `{k, name}`; outputs `[mask, masked, threshold]`.
 * Throws, with the heap as it was, when tfjs could not allocate the outputs.
 */
const magnitudeCutKernel: KernelFunc = ({inputs, backend, attrs}) => {
  const wasm = backend as WasmBackend;
  const instance = instantiate(wasm)!;
  const x = inputs.x as TensorInfo;
  const {k, name} = attrs as NamedAttrMap & {k: number; name: string};
  const n = x.shape.reduce((a, b) => a * b, 1);
  const outputs = [wasm.makeOutput(x.shape, 'float32'), wasm.makeOutput(x.shape, 'float32'), wasm.makeOutput([], 'float32')];
  try {
    // Offsets stay put when the heap grows; views of it are made after every allocation.
    const offset = (info: TensorInfo) => wasm.dataIdMap.get(info.dataId)!.memoryOffset >>> 0;
    // tfjs-backend-wasm does not check its own _malloc: on a full heap an output lies at 0. The
    // portable path would need more room still (its tf ops keep five tensors of the weight's size).
    if (outputs.some((output) => offset(output) === 0)) {
      throw new Error(
          `Cannot update the mask of ${name}: the wasm heap has no room for the mask and the masked weight ` +
          `(2 x ${4 * n} bytes). Dispose of unused tensors or models first.`);
    }
    const threshold = cutInHeap(instance, wasm, offset(x), n, k, offset(outputs[0]), offset(outputs[1]), name);
    new Uint32Array(wasm.wasm.HEAPU8.buffer, offset(outputs[2]), 1)[0] = threshold;
    return outputs;
  } catch (error) {
    for (const output of outputs) wasm.disposeData(output.dataId);
    throw error;
  }
};

/** The result of {@link wasmMagnitudeCut}. */
export interface WasmCut {
  /** 1 where `|w| >= threshold`, else 0. */
  mask: tf.Tensor;
  /** The weight with the mask applied (+0 where pruned). */
  masked: tf.Tensor;
  /** The k-th largest |w|, a float32 scalar. */
  threshold: tf.Tensor;
}

/**
 * Cuts the magnitude mask of `weight`, keeping its `k` largest |w| (ties at
 * the threshold kept), on tfjs-backend-wasm: when that is the active backend
 * and the engine has WebAssembly SIMD. Returns null otherwise; the caller
 * then takes the portable path, which gives the same result.
 *
 * @param weight A float32 tensor with at least one value (not disposed).
 * @param k How many magnitudes to keep, in [1, weight.size].
 * @param weightName Used in the error for NaN or infinite weights.
 * @throws PruningError when the weight holds NaN or an infinite value.
 * @throws Error when the wasm heap has no room for the mask and the masked
 * weight (nothing is written then).
 */
export function wasmMagnitudeCut(weight: tf.Tensor, k: number, weightName: string): WasmCut | null {
  if (tf.getBackend() !== 'wasm' || weight.dtype !== 'float32' || weight.size === 0) return null;
  const backend = tf.backend();
  if (!isWasmBackend(backend) || instantiate(backend) === null) return null;
  if (tf.getKernel(MAGNITUDE_CUT, 'wasm') == null) {
    tf.registerKernel({kernelName: MAGNITUDE_CUT, backendName: 'wasm', kernelFunc: magnitudeCutKernel});
  }
  const [mask, masked, threshold] =
    tf.engine().runKernel(MAGNITUDE_CUT, {x: weight}, {k, name: weightName}) as tf.Tensor[];
  return {mask, masked, threshold};
}
