/**
 * How the elements of a weight group into channels. A weight is seen as
 * `outer x channels x inner` in row-major order: the element at flat index
 * `(o * channels + c) * inner + k` belongs to channel `c`. Per-tensor
 * quantization is the layout `1 x 1 x n`.
 */

/** The grouping of a weight's elements into channels (see the module comment). */
export interface ChannelLayout {
  readonly outer: number;
  readonly channels: number;
  readonly inner: number;
}

/** Number of elements of a shape (1 for a scalar). */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** The layout of a weight quantized per tensor (`axis` null) or per index along `axis`. */
export function channelLayout(shape: readonly number[], axis: number | null): ChannelLayout {
  const n = elementCount(shape);
  if (axis === null) return {outer: 1, channels: 1, inner: n};
  return {
    outer: elementCount(shape.slice(0, axis)),
    channels: shape[axis],
    inner: elementCount(shape.slice(axis + 1)),
  };
}
