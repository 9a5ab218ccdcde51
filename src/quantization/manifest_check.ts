/**
 * Checks of a weights manifest and of its weight data against what the codecs
 * of this package (and tfjs's converter) can write. One module for every
 * reader and writer: `loadQuantizedLayersModel` runs them before decoding, and
 * the Node `fileSystem` handler before it writes anything and after it reads.
 *
 * A quantized weight is accepted only when every value it stores decodes to a
 * finite float32 (the weight's dtype, for tfjs's int32 codes): `scale` is a
 * finite number > 0 that float32 holds, the step of the highest code
 * (`255 * scale` or `65535 * scale`) is not 0 in float32, `min` is finite, and
 * the lowest and the highest code present decode to finite values. These are
 * exactly the entries a codec writes: tfjs decodes in float64 and stores
 * float32, so a scale that is subnormal in float32 (written for a weight of
 * subnormal values) is valid, while 1e-50 (`255 * 1e-50` is 0 in float32:
 * every code would decode to `min`) or 1e300 (Infinity) is not. Codes that
 * are absent are not judged: symmetric int8 never writes code 0, whose value
 * may lie beyond float32 for a weight next to ±3.4e38.
 *
 * Entries of a kind nobody here knows (a quantization dtype from a newer
 * format) are left to tfjs when `strict` is false, which rejects them with its
 * own message; a writer passes `strict` true and refuses them.
 */
import type * as tf from '@tensorflow/tfjs-core';

import {describeValue, hasOwnKey} from '../util/validation';
import {FORMATS, formatOf} from './codecs';
import {elementCount, specByteLength} from './manifest';

/** The dtypes of unquantized weights that tfjs reads and writes. */
const PLAIN_DTYPES: readonly string[] = ['float32', 'int32', 'bool', 'string', 'complex64'];

/** The quantization dtypes the codecs write (codecs/index.ts). */
const QUANTIZATION_DTYPES: readonly string[] = FORMATS.map((format) => format.dtype);

/** Bytes of the length prefix of each element of a string weight (little-endian uint32). */
const STRING_LENGTH_BYTES = 4;

/** A manifest entry and the bytes it occupies in the weight data. */
export interface WeightSlot {
  readonly spec: tf.io.WeightsManifestEntry;
  /** Offset of the entry's first byte in the weight data. */
  readonly offset: number;
  readonly byteLength: number;
}

/** How many bytes a manifest says its weights occupy, as far as the manifest alone tells. */
export interface DeclaredLength {
  /** The byte length, or (when `exact` is false) a lower bound of it. */
  readonly bytes: number;
  /**
   * False when an entry's length is in the data (string weights, counted here with
   * empty strings) or its dtype is unknown (counted as 0).
   */
  readonly exact: boolean;
}

/** The value for a message: short arrays of primitives as JSON, everything else as describeValue does. */
function show(value: unknown): string {
  if (Array.isArray(value) && value.length <= 8 && value.every((v) => v === null || typeof v !== 'object')) {
    return `[${value.map((v) => (typeof v === 'number' ? String(v) : JSON.stringify(v) ?? String(v))).join(', ')}]`;
  }
  return describeValue(value);
}

function weightLabel(spec: {name?: unknown}, index: number): string {
  return typeof spec.name === 'string' ? `weight '${spec.name}'` : `weight spec ${index}`;
}

/**
 * Throws unless every entry of `specs` is well formed: an object with a string
 * `name`, a `shape` of integers >= 0, a string `dtype`, and (when present) a
 * `quantization` whose every field a codec could have written (see the module
 * comment). Messages name the weight, the field and the value received.
 *
 * @param caller The start of every message, e.g. `'loadQuantizedLayersModel'`.
 * @param strict Refuse dtypes and quantization dtypes this package does not
 *     know (a writer); otherwise leave them to tfjs (a reader).
 */
export function checkWeightSpecs(
    caller: string, specs: unknown, strict: boolean): asserts specs is tf.io.WeightsManifestEntry[] {
  if (!Array.isArray(specs)) {
    throw new TypeError(`${caller}: the weight specs must be an array, but got ${describeValue(specs)}.`);
  }
  specs.forEach((spec: unknown, index) => checkSpec(caller, spec, index, strict));
}

function checkSpec(caller: string, spec: unknown, index: number, strict: boolean): void {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new TypeError(`${caller}: weight spec ${index} must be an object, but got ${describeValue(spec)}.`);
  }
  const entry = spec as Record<string, unknown>;
  const label = weightLabel(entry, index);
  if (typeof entry['name'] !== 'string') {
    throw new TypeError(`${caller}: ${label}: name must be a string, but got ${describeValue(entry['name'])}.`);
  }
  const shape = entry['shape'];
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0) ||
      !Number.isSafeInteger(elementCount(shape))) {
    throw new TypeError(`${caller}: ${label}: shape must be an array of integers >= 0, but got ${show(shape)}.`);
  }
  const dtype = entry['dtype'];
  if (typeof dtype !== 'string' || (strict && !PLAIN_DTYPES.includes(dtype))) {
    throw new TypeError(`${caller}: ${label}: dtype must be one of ${PLAIN_DTYPES.join(', ')}, but got ` +
        `${describeValue(dtype)}.`);
  }
  if (!hasOwnKey(entry, 'quantization') || entry['quantization'] === undefined) return;
  const quantization = entry['quantization'];
  if (quantization === null || typeof quantization !== 'object' || Array.isArray(quantization)) {
    throw new TypeError(`${caller}: ${label}: quantization must be an object, but got ${describeValue(quantization)}.`);
  }
  const kind = (quantization as Record<string, unknown>)['dtype'];
  const format = formatOf(kind);
  if (typeof kind !== 'string' || format === undefined) {
    if (!strict) return; // tfjs names the weight and the dtypes it knows
    throw new TypeError(`${caller}: ${label}: quantization.dtype must be one of ${QUANTIZATION_DTYPES.join(', ')}, ` +
        `but got ${describeValue(kind)}.`);
  }
  if (!format.weightDtypes.includes(dtype)) {
    throw new TypeError(`${caller}: ${label}: quantization.dtype ${kind} needs the dtype ` +
        `${format.weightDtypes.join(' or ')}, but the weight's dtype is ${describeValue(dtype)}.`);
  }
  format.checkEntry(caller, entry as unknown as tf.io.WeightsManifestEntry);
}

/**
 * The byte length the entries declare, without the data: exact unless an entry is a
 * string weight (counted with empty strings) or of an unknown dtype (counted as 0).
 * Call {@link checkWeightSpecs} first.
 */
export function declaredByteLength(specs: readonly tf.io.WeightsManifestEntry[]): DeclaredLength {
  let bytes = 0;
  let exact = true;
  for (const spec of specs) {
    const length = specByteLength(spec);
    if (length !== null) {
      bytes += length;
    } else {
      exact = false;
      if (spec.dtype === 'string' && spec.quantization == null) bytes += STRING_LENGTH_BYTES * elementCount(spec.shape);
    }
  }
  return {bytes, exact};
}

function endsBefore(caller: string, spec: tf.io.WeightsManifestEntry, available: number, needed: number): Error {
  return new Error(`${caller}: the weight data ends before weight '${spec.name}' ` +
      `(${available} bytes, the manifest needs at least ${needed}).`);
}

/** Length of a string weight at `offset`: per element, a 4-byte little-endian length and that many bytes. */
function stringWeightByteLength(
    caller: string, spec: tf.io.WeightsManifestEntry, bytes: Uint8Array, offset: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = elementCount(spec.shape);
  let at = offset;
  for (let i = 0; i < count; i++) {
    if (at + STRING_LENGTH_BYTES > bytes.byteLength) throw endsBefore(caller, spec, bytes.byteLength, at + STRING_LENGTH_BYTES);
    at += STRING_LENGTH_BYTES + view.getUint32(at, true);
  }
  if (at > bytes.byteLength) throw endsBefore(caller, spec, bytes.byteLength, at);
  return at - offset;
}

/**
 * Where each entry lies in `bytes` (string weights included, read from their length
 * prefixes). Stops before the first entry of an unknown dtype (`complete` false).
 * Call {@link checkWeightSpecs} first.
 *
 * @throws Error when the data ends before an entry, or (all entries known) holds more
 *     bytes than the entries.
 */
export function weightSlots(caller: string, specs: readonly tf.io.WeightsManifestEntry[], bytes: Uint8Array):
    {slots: WeightSlot[]; complete: boolean} {
  const slots: WeightSlot[] = [];
  let offset = 0;
  for (const spec of specs) {
    let byteLength = specByteLength(spec);
    if (byteLength === null) {
      if (spec.dtype !== 'string' || spec.quantization != null) return {slots, complete: false};
      byteLength = stringWeightByteLength(caller, spec, bytes, offset);
    }
    if (offset + byteLength > bytes.byteLength) throw endsBefore(caller, spec, bytes.byteLength, offset + byteLength);
    slots.push({spec, offset, byteLength});
    offset += byteLength;
  }
  if (offset !== bytes.byteLength) {
    throw new Error(`${caller}: the weight data holds ${bytes.byteLength} bytes, but the manifest lists ${offset}; ` +
        'the weights do not belong to this model.');
  }
  return {slots, complete: true};
}

/**
 * Throws unless every code stored for a quantized entry decodes to a finite value of
 * the weight's dtype (float16: no infinity or NaN pattern; uint8/uint16: the lowest and
 * highest code present; per channel: the lowest and highest of each channel). Call
 * {@link checkWeightSpecs} first; entries that are not quantized pass.
 */
export function checkWeightCodes(caller: string, slot: WeightSlot, bytes: Uint8Array): void {
  const {spec} = slot;
  if (spec.quantization == null) return;
  const codes = bytes.subarray(slot.offset, slot.offset + slot.byteLength);
  formatOf(spec.quantization.dtype)?.checkCodes(caller, spec, codes);
}

/**
 * All checks at once: the entries ({@link checkWeightSpecs}), their places in `bytes`
 * ({@link weightSlots}) and the codes of every quantized entry ({@link checkWeightCodes}).
 *
 * @returns The slots, and whether they cover every entry (false only when `strict` is
 *     false and an entry has a dtype this package does not know).
 */
export function checkWeights(caller: string, specs: unknown, bytes: Uint8Array, strict: boolean):
    {slots: WeightSlot[]; complete: boolean} {
  checkWeightSpecs(caller, specs, strict);
  const layout = weightSlots(caller, specs, bytes);
  for (const slot of layout.slots) checkWeightCodes(caller, slot, bytes);
  return layout;
}
