/**
 * Instantiates this package's own WebAssembly modules on tfjs-backend-wasm's
 * heap: the module imports the backend's `WebAssembly.Memory` as
 * `env.memory`, so it reads and writes tensors in place. Each module comes
 * in two builds (scripts/build_wasm.ts): importing an ordinary memory, and a
 * shared one (the threaded build of tfjs-backend-wasm).
 *
 * Heap addresses are unsigned (`>>> 0`), as in tfjs-backend-wasm; views of
 * the heap must be made after every allocation, which may grow it.
 */

/** The part of tfjs-backend-wasm's `BackendWasm` used here. */
export interface WasmHeapBackend {
  wasm: {
    HEAPU8: Uint8Array;
    _malloc(bytes: number): number;
    _free(pointer: number): void;
    wasmMemory?: unknown;
    asm?: Record<string, unknown>;
    wasmExports?: Record<string, unknown>;
  };
}

/** Whether `backend` looks like tfjs-backend-wasm's `BackendWasm`. */
export function isWasmHeapBackend(backend: unknown): backend is WasmHeapBackend {
  const candidate = backend as Partial<WasmHeapBackend> | null;
  return candidate != null && candidate.wasm != null && candidate.wasm.HEAPU8 instanceof Uint8Array &&
    typeof candidate.wasm._malloc === 'function' && typeof candidate.wasm._free === 'function';
}

/**
 * The heap's `WebAssembly.Memory`: `wasmMemory` in the threaded build, one of
 * the exports (`asm` or `wasmExports`, by Emscripten version) otherwise.
 */
export function findHeapMemory(backend: WasmHeapBackend): WebAssembly.Memory | null {
  const {wasm} = backend;
  const candidates = [wasm.wasmMemory, ...Object.values(wasm.asm ?? {}), ...Object.values(wasm.wasmExports ?? {})];
  for (const value of candidates) {
    if (value instanceof WebAssembly.Memory && value.buffer === wasm.HEAPU8.buffer) return value;
  }
  return null;
}

const instances = new WeakMap<object, Map<Uint8Array<ArrayBuffer>, unknown>>();

/**
 * The exports of a module instantiated on `backend`'s heap, once per backend
 * and module; null where it cannot run (the engine has no SIMD, so the bytes
 * do not validate, or the heap's memory is not found), and also while a
 * module that could not be compiled synchronously (above 4 KB on a browser's
 * main thread) is compiled in the background.
 *
 * @param plain The module importing an ordinary `env.memory`.
 * @param shared The same module importing a shared `env.memory`.
 */
export function instantiateOnHeap<T>(
    backend: WasmHeapBackend, plain: Uint8Array<ArrayBuffer>, shared: Uint8Array<ArrayBuffer>): T | null {
  let byModule = instances.get(backend);
  if (byModule === undefined) {
    byModule = new Map();
    instances.set(backend, byModule);
  }
  if (byModule.has(plain)) return byModule.get(plain) as T | null;
  let exports: T | null = null;
  const memory = findHeapMemory(backend);
  if (memory !== null) {
    const isShared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const bytes = isShared ? shared : plain;
    if (WebAssembly.validate(bytes)) {
      try {
        exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), {env: {memory}}).exports as unknown as T;
      } catch {
        // Browsers refuse to compile modules above 4 KB synchronously on the main thread: compile
        // in the background, and take the callers' other paths (null) until it is done.
        const cache = byModule;
        WebAssembly.instantiate(bytes, {env: {memory}}).then(
            (result) => cache.set(plain, result.instance.exports),
            () => undefined);
      }
    }
  }
  byModule.set(plain, exports);
  return exports;
}

/** `bytes` from the heap's malloc, or null when it has no room (malloc returned 0 or threw). */
export function heapAllocate(wasm: Pick<WasmHeapBackend['wasm'], '_malloc'>, bytes: number): number | null {
  let pointer: number;
  try {
    pointer = wasm._malloc(bytes) >>> 0;
  } catch {
    return null;
  }
  return pointer === 0 ? null : pointer;
}
