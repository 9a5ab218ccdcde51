/**
 * The `{backends}` option of registerTrainingKernels and registerSparseKernels:
 * which of the backends the package has kernels for to register on.
 */
import {argumentMessage, checkOptionsObject} from '../util/validation';

/** The backends the package's kernels exist for. */
export type KernelBackend = 'wasm' | 'cpu';

/** Every such backend, in registration order. */
export const KERNEL_BACKENDS: readonly KernelBackend[] = ['wasm', 'cpu'];

/**
 * The backends `options` asks for (all of them when it has no `backends`), in the order of
 * {@link KERNEL_BACKENDS}.
 *
 * @throws TypeError when `options` is not an object, has another key, or `backends` is not an array;
 *   RangeError (TypeError for a non-string) for a backend name the package has no kernels for.
 */
export function resolveKernelBackends(caller: string, options: unknown): KernelBackend[] {
  checkOptionsObject(caller, 'options', options, true);
  const {backends, ...rest} = (options ?? {}) as {backends?: unknown};
  const unknownKey = Object.keys(rest)[0];
  if (unknownKey !== undefined) {
    throw new TypeError(`${caller}: 'options' may only have the key 'backends', but got the key '${unknownKey}'.`);
  }
  if (backends === undefined) return [...KERNEL_BACKENDS];
  if (!Array.isArray(backends)) {
    throw new TypeError(argumentMessage(caller, 'backends', "must be an array of 'wasm' and 'cpu'", backends));
  }
  for (const name of backends) {
    if (!KERNEL_BACKENDS.includes(name)) {
      const message = argumentMessage(caller, 'backends', "must only contain 'wasm' and 'cpu'", name);
      throw typeof name === 'string' ? new RangeError(message) : new TypeError(message);
    }
  }
  return KERNEL_BACKENDS.filter((name) => backends.includes(name));
}
