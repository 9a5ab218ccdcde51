/**
 * tfjs-model-optimization/node: the parts of the package that need Node's
 * file system. Import the rest from `tfjs-model-optimization`.
 *
 * @packageDocumentation
 */
export {fileSystem} from './io/file_system';
export type {FileSystemHandler} from './io/file_system';
export {useWasmThreads} from './kernels/threads/use_wasm_threads';
export type {WasmThreadsOptions} from './kernels/threads/use_wasm_threads';
