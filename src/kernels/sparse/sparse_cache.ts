/**
 * Which weights are static, and their sparse forms. tfjs gives every tensor's
 * data an identity object (its `dataId`) that never changes its values: a
 * weight that reaches a kernel a second time under the same `dataId` is a
 * static weight (a layer's variable between updates, a graph model's
 * constant), and only then is it scanned for zeros. Activations are new data
 * on every call and are never scanned. Sightings are counted in a WeakMap, so
 * they cost no memory once their tensor is gone; a built entry is dropped as
 * soon as a sweep finds its tensor disposed (sweeps run whenever a new weight
 * is seen, and every few hundred calls), which frees its copy on the wasm
 * heap.
 */
import type {DataId, TensorInfo} from '@tensorflow/tfjs-core';

import {choosePath} from './plan';
import type {SparsePath} from './plan';
import type {SparseForm} from './sparse_format';

/** What the cache keeps for one weight. */
export interface CacheEntry<Extra> {
  /** Null when the weight is too dense to ever run sparse (nothing else is kept). */
  form: SparseForm | null;
  /** The weight's layout when the form was built: `[n, k]` (true) or `[k, n]`. */
  transposed: boolean;
  /** Backend-side data (the wasm heap copy), freed with the entry. */
  extra: Extra | null;
  /** The path last chosen, for products of `rows` rows (a model predicts at one batch size). */
  plan?: {rows: number; path: SparsePath};
}

/** How a backend's cache builds and frees entries. */
export interface CacheHooks<Extra> {
  /** Whether the backend still holds the data of `dataId` (false once its tensor is disposed). */
  holds(dataId: DataId): boolean;
  /** Builds the entry for a weight seen twice. */
  build(weight: TensorInfo, transposed: boolean): CacheEntry<Extra>;
  /** Frees what `build` allocated. */
  free(entry: CacheEntry<Extra>): void;
}

/**
 * The weights found too dense to ever run sparse, on any backend (a `dataId`
 * never changes its values): their products go straight to the stock kernel.
 */
export const denseWeights = new WeakSet<DataId>();

/**
 * Per weight, the size of the activations with which the cost model last
 * chose the stock kernel: the next call of that size goes straight to it.
 */
export const stockAtSize = new WeakMap<DataId, number>();

/** Calls between two sweeps that no new weight triggered. */
const SWEEP_EVERY = 256;

/** The sparse forms of one backend's weights. */
export class SparseCache<Extra> {
  private readonly sightings = new WeakMap<DataId, number>();
  private readonly entries = new Map<DataId, CacheEntry<Extra>>();
  private calls = 0;

  constructor(private readonly hooks: CacheHooks<Extra>) {}

  /**
   * The entry of `weight`: built on its second sighting, null before. A
   * weight used in both layouts (a Dense kernel in the forward and backward
   * products of training) keeps the layout it was first built in; the
   * caller checks `transposed`.
   */
  lookup(weight: TensorInfo, transposed: boolean): CacheEntry<Extra> | null {
    if (++this.calls % SWEEP_EVERY === 0) this.sweep();
    const {dataId} = weight;
    const entry = this.entries.get(dataId);
    if (entry !== undefined) return entry;
    const seen = (this.sightings.get(dataId) ?? 0) + 1;
    this.sightings.set(dataId, seen);
    if (seen === 1) {
      // A new weight (or an activation): earlier ones may have been disposed.
      this.sweep();
      return null;
    }
    const built = this.hooks.build(weight, transposed);
    this.entries.set(dataId, built);
    if (built.form === null) denseWeights.add(dataId);
    return built;
  }

  /** Drops the entries whose tensors were disposed. */
  sweep(): void {
    for (const [dataId, entry] of this.entries) {
      if (!this.hooks.holds(dataId)) {
        this.entries.delete(dataId);
        this.hooks.free(entry);
      }
    }
  }

  /** Drops every entry (on unregister). */
  clear(): void {
    for (const entry of this.entries.values()) this.hooks.free(entry);
    this.entries.clear();
  }

  /** How many weights have an entry (after a sweep). */
  get size(): number {
    this.sweep();
    return this.entries.size;
  }
}

/** The path of `entry`'s form for `rows` rows (see choosePath), remembered for the next call. */
export function planOf<Extra>(
    entry: CacheEntry<Extra>, rows: number, backend: 'wasm' | 'cpu', threads = 1): SparsePath {
  if (entry.plan === undefined || entry.plan.rows !== rows) {
    entry.plan = {rows, path: choosePath(entry.form!, rows, backend, threads)};
  }
  return entry.plan.path;
}

/** The number of values of a tensor. */
export function sizeOf(info: TensorInfo): number {
  let size = 1;
  for (const d of info.shape) size *= d;
  return size;
}
