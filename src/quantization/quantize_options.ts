/**
 * The options quantizeDynamicRange and quantizeArtifacts share: which codec
 * (`dtype`), per tensor or per channel (`perChannel`), and the smallest
 * weight to quantize (`minElements`). Messages name the function, the option,
 * the rule and the value received.
 */
import {argumentMessage} from '../util/validation';
import {CODECS, Codec, CodecName, codecNamed} from './codecs';

/** The resolved `dtype`, `perChannel` and `minElements` options. */
export interface CodecOptions {
  dtype: CodecName;
  codec: Codec;
  perChannel: boolean;
  minElements: number;
}

/** Reads `dtype` (default `'int8'`), `perChannel` (default false) and `minElements` (default 1024) from `o`. */
export function resolveCodecOptions(caller: string, o: Record<string, unknown>): CodecOptions {
  const dtype = o.dtype ?? 'int8';
  const codec = codecNamed(dtype);
  if (codec === undefined) {
    throw new TypeError(argumentMessage(
        caller, 'dtype', `must be one of ${CODECS.map((c) => `'${c.name}'`).join(', ')}`, dtype));
  }
  const perChannel = o.perChannel ?? false;
  if (typeof perChannel !== 'boolean') {
    throw new TypeError(argumentMessage(caller, 'perChannel', 'must be a boolean', perChannel));
  }
  if (perChannel && codec.perChannel === null) {
    throw new RangeError(`${caller}: 'perChannel' cannot be true with dtype '${codec.name}' ` +
        `(${codec.name} has no scale to choose per channel), but got perChannel true.`);
  }
  const minElements = o.minElements ?? 1024;
  if (typeof minElements !== 'number' || !Number.isInteger(minElements)) {
    throw new TypeError(argumentMessage(caller, 'minElements', 'must be an integer', minElements));
  }
  if (minElements < 0) throw new RangeError(argumentMessage(caller, 'minElements', 'must be >= 0', minElements));
  return {dtype: codec.name, codec, perChannel, minElements};
}

/** How the weights were stored, for `convertedBy`: `'int8, per tensor'`, `'float16'`... */
export function schemeLabel(options: CodecOptions): string {
  if (options.codec.perChannel === null) return options.codec.name;
  return `${options.codec.name}, ${options.perChannel ? 'per channel' : 'per tensor'}`;
}
