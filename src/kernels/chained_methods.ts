/**
 * The chained tensor methods tfjs-layers calls but only the umbrella
 * `@tensorflow/tfjs` package installs. tfjs-layers' Orthogonal initializer (the
 * default recurrent initializer of LSTM, GRU and SimpleRNN) calls
 * `tensor.flatten().stridedSlice(...)`, `.sign()`, `.transpose()` and
 * `.reshape()`; with tfjs-core and tfjs-layers alone, building those layers
 * fails with `rMat.flatten is not a function` on every backend.
 *
 * Porting note: tfjs-core's own module that installs them
 * (`dist/public/chained_ops/register_all_chained_ops`) is ESM with
 * extensionless imports and cannot be loaded by Node; these delegate to the
 * same public ops.
 */
import * as tf from '@tensorflow/tfjs-core';

type Method = (this: tf.Tensor, ...args: never[]) => tf.Tensor;

const METHODS: Readonly<Record<string, Method>> = {
  flatten(this: tf.Tensor) {
    return tf.reshape(this, [this.size]);
  },
  reshape(this: tf.Tensor, shape: number[]) {
    return tf.reshape(this, shape);
  },
  sign(this: tf.Tensor) {
    return tf.sign(this);
  },
  transpose(this: tf.Tensor, perm?: number[]) {
    return tf.transpose(this, perm);
  },
  stridedSlice(this: tf.Tensor, begin: number[], end: number[], strides?: number[]) {
    return tf.stridedSlice(this, begin, end, strides);
  },
};

/** Methods installed by this module (and so removable by it). */
const installed = new Set<string>();

/**
 * Installs each missing method on `tf.Tensor.prototype`; methods that exist
 * (the umbrella package's) are left alone.
 */
export function installChainedMethods(): void {
  const prototype = tf.Tensor.prototype as unknown as Record<string, unknown>;
  for (const [name, method] of Object.entries(METHODS)) {
    if (typeof prototype[name] === 'function') continue;
    Object.defineProperty(prototype, name, {value: method, configurable: true, writable: true});
    installed.add(name);
  }
}

/** Removes the methods {@link installChainedMethods} installed. */
export function uninstallChainedMethods(): void {
  const prototype = tf.Tensor.prototype as unknown as Record<string, unknown>;
  for (const name of installed) {
    if (prototype[name] === METHODS[name]) delete prototype[name];
  }
  installed.clear();
}
