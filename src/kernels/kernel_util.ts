/**
 * What the training kernels need from a backend, described by shape rather
 * than imported: the cpu and wasm backends are dev-only dependencies of this
 * package, and the kernels must load (and do nothing) without them.
 */
import {getKernel} from '@tensorflow/tfjs-core';
import type {DataId, DataType, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo} from '@tensorflow/tfjs-core';

/**
 * How a kernel function is made for one backend. `replaced` is the kernel
 * registered before (the stock one), if any: the new kernel hands it the
 * inputs it does not cover (NCHW data, for instance).
 */
export type KernelBuilder = (replaced: KernelFunc | undefined) => KernelFunc;

/**
 * One kernel name's functions, per backend that gets one (tfjs's
 * `KernelConfig`, for the backends this package serves): one file per kernel
 * name in `kernels/` exports one, `register_all_kernels.ts` lists them.
 */
export interface KernelDefinition {
  /** The kernel's name in tfjs's registry (`'Conv2DBackpropFilter'`). */
  readonly kernelName: string;
  readonly cpu?: KernelBuilder;
  readonly wasm?: KernelBuilder;
}

/** The arguments tfjs passes to a kernel function. */
export interface KernelArgs {
  inputs: NamedTensorInfoMap;
  backend: object;
  attrs?: NamedAttrMap;
}

/** The part of tfjs-backend-cpu's `MathBackendCPU` the kernels use. */
export interface CpuBackendLike {
  data: {get(dataId: DataId): {values?: unknown}};
  makeTensorInfo(shape: number[], dtype: DataType, values?: Float32Array | Int32Array): TensorInfo;
  disposeIntermediateTensorInfo(info: TensorInfo): void;
}

/** The part of tfjs-backend-wasm's `BackendWasm` the kernels use. */
export interface WasmBackendLike {
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
  makeOutput(shape: number[], dtype: DataType, memoryOffset?: number, values?: Float32Array | Int32Array): TensorInfo;
  disposeData(dataId: DataId, force?: boolean): boolean;
}

/** Returns `values` as a Float32Array, copying only when it is another kind of array. */
export function asFloat32(values: unknown): Float32Array {
  if (values instanceof Float32Array) return values;
  return Float32Array.from(values as ArrayLike<number>);
}

/** Returns `values` as an Int32Array, copying only when it is another kind of array. */
export function asInt32(values: unknown): Int32Array {
  if (values instanceof Int32Array) return values;
  return Int32Array.from(values as ArrayLike<number>);
}

/** Reads a cpu tensor's values as float32. */
export function cpuFloats(backend: CpuBackendLike, info: TensorInfo): Float32Array {
  return asFloat32(backend.data.get(info.dataId).values);
}

/** Reads a wasm tensor's values as float32 (a view of the wasm heap when it already is float32). */
export function wasmFloats(backend: WasmBackendLike, info: TensorInfo): Float32Array {
  return asFloat32(backend.typedArrayFromHeap(info));
}

/** Reads a kernel's inputs as typed arrays. */
export interface InputReader {
  floats(info: TensorInfo): Float32Array;
  ints(info: TensorInfo): Int32Array;
}

/**
 * Runs a kernel whose math is plain JavaScript over typed arrays on one
 * backend, so that the same math serves cpu and wasm.
 */
export interface BackendIO {
  backendName: 'cpu' | 'wasm';
  /**
   * Makes a zero-filled float32 output of `shape` and calls `fill` with a
   * view of it and a reader for the inputs. Read the inputs inside `fill`:
   * on wasm they are views of the heap, which the output's allocation may
   * have moved. On wasm the output is written in place on the heap.
   */
  produce(backend: object, shape: number[], fill: (out: Float32Array, read: InputReader) => void): TensorInfo;
  /**
   * A reader for the inputs outside `produce` (checks that decide whether a
   * kernel runs at all); on wasm its arrays are valid until the next allocation.
   */
  reader(backend: object): InputReader;
}

/**
 * The definition of a kernel whose function is one piece of JavaScript over
 * typed arrays, made for the cpu and the wasm backend through their
 * {@link BackendIO}.
 */
export function onCpuAndWasm(kernelName: string, make: (io: BackendIO) => KernelBuilder): KernelDefinition {
  return {kernelName, cpu: make(CPU_IO), wasm: make(WASM_IO)};
}

/**
 * `builder`'s kernel with `fast` tried first: `fast` returns null where it
 * does not apply (no SIMD, for one), and the kernel runs instead.
 */
export function withFastPath(
    builder: KernelBuilder, fast: (args: KernelArgs) => TensorInfo | TensorInfo[] | null): KernelBuilder {
  return (replaced) => {
    const fallback = builder(replaced);
    return (args) => fast(args as KernelArgs) ?? fallback(args);
  };
}

/** Whether every tensor is float32. */
export const allFloat32 = (...tensors: TensorInfo[]) => tensors.every((t) => t.dtype === 'float32');

export const CPU_IO: BackendIO = {
  backendName: 'cpu',
  produce: (backend, shape, fill) => {
    const cpu = backend as CpuBackendLike;
    const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
    fill(out, CPU_IO.reader(cpu));
    return cpu.makeTensorInfo(shape, 'float32', out);
  },
  reader: (backend) => {
    const cpu = backend as CpuBackendLike;
    return {
      floats: (info) => cpuFloats(cpu, info),
      ints: (info) => asInt32(cpu.data.get(info.dataId).values),
    };
  },
};

export const WASM_IO: BackendIO = {
  backendName: 'wasm',
  produce: (backend, shape, fill) => {
    const wasm = backend as WasmBackendLike;
    const output = wasm.makeOutput(shape, 'float32');
    try {
      const out = wasm.typedArrayFromHeap(output) as Float32Array;
      out.fill(0);
      fill(out, WASM_IO.reader(wasm));
    } catch (error) {
      wasm.disposeData(output.dataId);
      throw error;
    }
    return output;
  },
  reader: (backend) => {
    const wasm = backend as WasmBackendLike;
    return {
      floats: (info) => wasmFloats(wasm, info),
      ints: (info) => asInt32(wasm.typedArrayFromHeap(info)),
    };
  },
};

/**
 * Runs another kernel of the same backend, as registered now (so a kernel
 * composed from `'Conv2D'` uses whichever Conv2D the backend has).
 */
export function runKernel(kernelName: string, backendName: string, args: KernelArgs): TensorInfo {
  const config = getKernel(kernelName, backendName);
  if (config == null) {
    throw new Error(
        `registerTrainingKernels: the ${backendName} backend has no '${kernelName}' kernel, ` +
        `which the training kernels build on.`);
  }
  return config.kernelFunc(args) as TensorInfo;
}

/**
 * Hands the call to the kernel that was registered before, or throws when
 * there was none (a kernel that the backend never had).
 */
export function delegate(
    replaced: KernelFunc | undefined, args: KernelArgs, kernelName: string, backendName: string,
    reason: string): TensorInfo | TensorInfo[] {
  if (replaced == null) {
    throw new Error(`The ${kernelName} kernel that registerTrainingKernels added to the ` +
        `${backendName} backend does not support ${reason}.`);
  }
  return replaced(args);
}
