// Runs kernel functions directly on a backend, outside the engine, so that a
// training kernel and the stock kernel it replaces see the same inputs and
// every intermediate buffer a kernel leaks shows in the backend's data count.
import * as tf from '@tensorflow/tfjs-core';

/** The backend methods the harness uses (cpu and wasm both have them). */
interface RawBackend {
  write(values: Float32Array | Int32Array, shape: number[], dtype: tf.DataType): object;
  readSync(dataId: object): ArrayLike<number>;
  disposeData(dataId: object, force?: boolean): boolean;
  numDataIds(): number;
}

/** A kernel input: values, shape and (default float32) dtype. */
export interface RawInput {
  values: Float32Array | Int32Array;
  shape: number[];
  dtype?: tf.DataType;
}

/** A kernel output, copied out of the backend. */
export interface RawOutput {
  values: Float32Array;
  shape: number[];
  dtype: tf.DataType;
}

/** Deterministic values in [-1, 1) from a seed (mulberry32). */
export function uniform(size: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  }
  return out;
}

/** A float32 input of `shape` with values from {@link uniform}. */
export function randomInput(shape: number[], seed: number): RawInput {
  return {values: uniform(shape.reduce((a, b) => a * b, 1), seed), shape};
}

function rawBackend(backendName: string): RawBackend {
  return tf.findBackend(backendName) as unknown as RawBackend;
}

/** The number of data buffers a backend holds (to catch buffers a kernel leaks). */
export function dataIdCount(backendName: string): number {
  return rawBackend(backendName).numDataIds();
}

/**
 * Calls `kernel` on `backendName` with copies of `inputs`, returns a copy of
 * its output and frees everything. Throws if the kernel changed an input or
 * left a buffer behind.
 */
export function runKernel(
    kernel: tf.KernelConfig, backendName: string, inputs: Record<string, RawInput>,
    attrs: tf.NamedAttrMap = {}): RawOutput {
  const backend = rawBackend(backendName);
  const before = backend.numDataIds();
  const infos: Record<string, tf.TensorInfo> = {};
  for (const [name, input] of Object.entries(inputs)) {
    const dtype = input.dtype ?? 'float32';
    const copy = dtype === 'int32' ? Int32Array.from(input.values) : Float32Array.from(input.values);
    infos[name] = {dataId: backend.write(copy, input.shape, dtype), shape: input.shape, dtype};
  }
  const output = kernel.kernelFunc({inputs: infos, backend, attrs}) as tf.TensorInfo;
  const result: RawOutput = {
    values: Float32Array.from(backend.readSync(output.dataId)),
    shape: output.shape,
    dtype: output.dtype,
  };
  for (const [name, input] of Object.entries(inputs)) {
    const after = backend.readSync(infos[name].dataId);
    if (!Array.from(after).every((v, i) => Object.is(v, input.values[i]))) {
      throw new Error(`the kernel changed its input '${name}'`);
    }
  }
  backend.disposeData(output.dataId, true);
  for (const info of Object.values(infos)) backend.disposeData(info.dataId, true);
  const leaked = backend.numDataIds() - before;
  if (leaked !== 0) throw new Error(`the kernel left ${leaked} buffer(s) behind on ${backendName}`);
  return result;
}

/**
 * Checks `actual` against `expected` relative to the output's scale:
 * `max|actual - expected| <= tolerance * max|expected|`, with equal shapes.
 */
export function expectClose(actual: RawOutput, expected: RawOutput, tolerance = 1e-5): void {
  expect(actual.shape).toEqual(expected.shape);
  expect(actual.values.length).toBe(expected.values.length);
  let maxDiff = 0;
  let scale = 0;
  for (let i = 0; i < expected.values.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(actual.values[i] - expected.values[i]));
    scale = Math.max(scale, Math.abs(expected.values[i]));
  }
  expect(Number.isFinite(maxDiff)).toBe(true);
  expect(maxDiff).toBeLessThanOrEqual(tolerance * scale);
}

/** Checks that `actual` has NaN and infinities where `expected` has them, and is close elsewhere. */
export function expectSameSpecials(actual: RawOutput, expected: RawOutput): void {
  const kind = (v: number) => (Number.isNaN(v) ? 'nan' : v === Infinity ? '+inf' : v === -Infinity ? '-inf' : 'finite');
  expect(Array.from(actual.values, kind)).toEqual(Array.from(expected.values, kind));
  const finite = (o: RawOutput): RawOutput => ({...o, values: o.values.map((v) => (Number.isFinite(v) ? v : 0))});
  expectClose(finite(actual), finite(expected));
}

/** `input` with `value` at the flat indices `at`. */
export function poison(input: RawInput, at: number[], value: number): RawInput {
  return {...input, values: input.values.map((v, i) => (at.includes(i) ? value : v))};
}

/** Every combination of the given option lists, as rows for `it.each`. */
export function cross<T extends unknown[][]>(...lists: T): {[K in keyof T]: T[K][number]}[] {
  return lists.reduce<unknown[][]>(
      (rows, list) => rows.flatMap((row) => list.map((item) => [...row, item])), [[]]) as never;
}
