/**
 * The two records a quantization dtype is made of:
 *
 * - a {@link CodeFormat} per `quantization.dtype` it writes in the manifest
 *   (`'uint8'`, `'uint8-per-channel'`, `'float16'`...): the bytes of a code, the
 *   highest code, the checks a reader runs on the entry and on its codes, and
 *   the decoding back to float32;
 * - a {@link Codec} per `dtype` option (`'int8'`, `'uint8'`, `'uint16'`,
 *   `'float16'`): how float32 weights become codes, in which formats (per tensor,
 *   and per channel when it has a scale per channel), and which stored entries
 *   it wrote (int8 and uint8 share the uint8 formats).
 *
 * Each dtype lives in its own file of this folder; index.ts lists them.
 */
import type * as tf from '@tensorflow/tfjs-core';

/** The `quantization` field of a manifest entry (tfjs's type lists only its own dtypes). */
export type ManifestQuantization = NonNullable<tf.io.WeightsManifestEntry['quantization']>;

/** The weight being encoded, for error messages: `${caller}: weight '${name}' ...`. */
export interface WeightName {
  readonly caller: string;
  readonly name: string;
}

/**
 * One `quantization.dtype` of the weights manifest: what its codes are and how a
 * reader checks and decodes them. The methods take entries that passed the
 * structural checks of manifest_check.ts (a string name, a valid shape, a weight
 * dtype in `weightDtypes`).
 */
export interface CodeFormat<D extends string = string> {
  /** The `quantization.dtype` as written in the manifest. */
  readonly dtype: D;
  /** Bytes of one stored code (little-endian). */
  readonly bytesPerElement: number;
  /** The highest integer code, or null when codes are bit patterns (float16). */
  readonly highestCode: number | null;
  /** Whether the entry has one scale per index along an `axis` (stock tfjs cannot decode those). */
  readonly perChannel: boolean;
  /** The weight dtypes an entry of this format may declare. */
  readonly weightDtypes: readonly string[];
  /**
   * Throws unless every field of the entry's `quantization` is one a codec writes (a
   * finite float32 scale > 0 ...). Messages start with `caller` and name the weight.
   */
  checkEntry(caller: string, spec: tf.io.WeightsManifestEntry): void;
  /** Throws unless every stored code (`codes`, the entry's bytes) decodes to a finite value. */
  checkCodes(caller: string, spec: tf.io.WeightsManifestEntry, codes: Uint8Array): void;
  /** The float32 values of a float32 entry stored as `codes` (the entry's bytes; any alignment). */
  decode(spec: tf.io.WeightsManifestEntry, codes: Uint8Array): Float32Array;
}

/** One value of the `dtype` option: how float32 weights become codes. */
export interface Codec<N extends string = string, C extends string = string> {
  /** The name users pass as `dtype` (quantizeDynamicRange, quantizeArtifacts, the command line). */
  readonly name: N;
  /** Bytes of one stored code. */
  readonly bytesPerElement: number;
  /** The format written per tensor. */
  readonly perTensor: CodeFormat;
  /** The format written with one scale per channel, or null when there is no scale to choose (float16). */
  readonly perChannel: CodeFormat<C> | null;
  /** Whether a checked entry of one of its formats holds codes this codec wrote. */
  wrote(quantization: ManifestQuantization): boolean;
  /**
   * Writes the codes of `values` (a weight of `shape`) into `out` (`bytesPerElement`
   * bytes an element, any alignment), per tensor (`axis` null) or per index along
   * `axis`, and returns the entry's `quantization` field.
   *
   * @throws RangeError naming the weight when its values cannot be stored; NonFiniteValueError
   *     (from the kernels; see encodeWeightCodes) on NaN or an infinity.
   */
  encode(values: Float32Array, shape: readonly number[], axis: number | null, out: Uint8Array,
      weight: WeightName): ManifestQuantization;
}

/** A Uint16Array view of `bytes` when it is 2-byte aligned, else a copy (codes may start at an odd offset). */
export function uint16Codes(bytes: Uint8Array): Uint16Array {
  if (bytes.byteOffset % 2 === 0) return new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
  return new Uint16Array(bytes.slice().buffer);
}

/** A Uint16Array view of `out` when it is aligned, else a scratch array that `flush` copies into `out`. */
export function uint16Target(out: Uint8Array, n: number): {codes: Uint16Array; flush: () => void} {
  if (out.byteOffset % 2 === 0) return {codes: new Uint16Array(out.buffer, out.byteOffset, n), flush: () => {}};
  const codes = new Uint16Array(n);
  return {codes, flush: () => out.set(new Uint8Array(codes.buffer))};
}
