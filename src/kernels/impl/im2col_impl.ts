/**
 * Patch matrices for NHWC convolutions ("im2col"). Row `r` of the patch
 * matrix is the receptive field of output pixel `r` (pixels flattened as
 * batch, row, column), laid out as (filter row, filter column, input channel),
 * which is the row-major order of a `[filterHeight, filterWidth, inChannels,
 * outChannels]` filter. A convolution is then one matrix product with the
 * filter, and its gradients are products with dy.
 *
 * Rows are named by a list (an `Int32Array` of pixel indices), so that the
 * gradients can skip the pixels whose dy is zero: after ReLU and 2x2 max
 * pooling, three pixels in four or more.
 */
import type {backend_util} from '@tensorflow/tfjs-core';

// Module-level aliases: inside a vm context (Jest runs tests in one) every lookup of the global
// `Math` goes through an interceptor, which costs more than these loops' arithmetic.
const {floor} = Math;

/** Length of one patch row: filterHeight * filterWidth * inChannels. */
export function patchLength(info: backend_util.Conv2DInfo): number {
  return info.filterHeight * info.filterWidth * info.inChannels;
}

/** Number of patch rows: one per output pixel. */
export function patchCount(info: backend_util.Conv2DInfo): number {
  return info.batchSize * info.outHeight * info.outWidth;
}

/** The pixels `0 .. count - 1`, as a row list. */
export function allRows(count: number): Int32Array {
  const rows = new Int32Array(count);
  for (let i = 0; i < count; i++) rows[i] = i;
  return rows;
}

/**
 * The rows of a row-major `rows` x `cols` matrix that hold anything but
 * zeros (NaN counts as nonzero, so that it still propagates).
 */
export function nonzeroRows(values: Float32Array, offset: number, rows: number, cols: number): Int32Array {
  const found = new Int32Array(rows);
  let count = 0;
  for (let r = 0; r < rows; r++) {
    const base = offset + r * cols;
    for (let c = 0; c < cols; c++) {
      if (values[base + c] !== 0) {
        found[count++] = r;
        break;
      }
    }
  }
  return found.subarray(0, count);
}

/**
 * Copies the patch of output pixel `pixel` (its receptive field in `x`) to
 * `out[offset ..]`, with zeros where the window reaches into padding.
 */
export function gatherPatch(
    x: Float32Array, info: backend_util.Conv2DInfo, pixel: number, out: Float32Array, offset: number): void {
  const {outHeight, outWidth} = info;
  const ow = pixel % outWidth;
  const oh = floor(pixel / outWidth) % outHeight;
  gatherPatchAt(x, info, floor(pixel / (outWidth * outHeight)), oh, ow, out, offset);
}

/** {@link gatherPatch} for the output pixel at image `b`, row `oh`, column `ow`. */
export function gatherPatchAt(
    x: Float32Array, info: backend_util.Conv2DInfo, b: number, oh: number, ow: number, out: Float32Array,
    offset: number): void {
  const {inHeight, inWidth, inChannels, filterHeight, filterWidth} = info;
  const rowTop = oh * info.strideHeight - info.padInfo.top;
  const colLeft = ow * info.strideWidth - info.padInfo.left;
  let dst = offset;
  for (let kh = 0; kh < filterHeight; kh++) {
    const ih = rowTop + kh * info.dilationHeight;
    const inside = ih >= 0 && ih < inHeight;
    const rowBase = (b * inHeight + ih) * inWidth;
    for (let kw = 0; kw < filterWidth; kw++) {
      const iw = colLeft + kw * info.dilationWidth;
      if (inside && iw >= 0 && iw < inWidth) {
        const src = (rowBase + iw) * inChannels;
        for (let c = 0; c < inChannels; c++) out[dst + c] = x[src + c];
      } else {
        for (let c = 0; c < inChannels; c++) out[dst + c] = 0;
      }
      dst += inChannels;
    }
  }
}

/**
 * The adjoint of {@link gatherPatch}: adds the patch gradient at
 * `grads[offset ..]` onto the input positions of output pixel `pixel` in `dx`.
 * Entries that fall in padding are dropped.
 */
export function scatterAddPatch(
    grads: Float32Array | Float64Array, offset: number, info: backend_util.Conv2DInfo, pixel: number,
    dx: Float32Array): void {
  const {outHeight, outWidth} = info;
  const ow = pixel % outWidth;
  const oh = floor(pixel / outWidth) % outHeight;
  scatterAddPatchAt(grads, offset, info, floor(pixel / (outWidth * outHeight)), oh, ow, dx);
}

/** {@link scatterAddPatch} for the output pixel at image `b`, row `oh`, column `ow`. */
export function scatterAddPatchAt(
    grads: Float32Array | Float64Array, offset: number, info: backend_util.Conv2DInfo, b: number, oh: number,
    ow: number, dx: Float32Array): void {
  const {inHeight, inWidth, inChannels, filterHeight, filterWidth} = info;
  const rowTop = oh * info.strideHeight - info.padInfo.top;
  const colLeft = ow * info.strideWidth - info.padInfo.left;
  let src = offset;
  for (let kh = 0; kh < filterHeight; kh++) {
    const ih = rowTop + kh * info.dilationHeight;
    const inside = ih >= 0 && ih < inHeight;
    const rowBase = (b * inHeight + ih) * inWidth;
    for (let kw = 0; kw < filterWidth; kw++) {
      const iw = colLeft + kw * info.dilationWidth;
      if (inside && iw >= 0 && iw < inWidth) {
        const dst = (rowBase + iw) * inChannels;
        for (let c = 0; c < inChannels; c++) dx[dst + c] += grads[src + c];
      }
      src += inChannels;
    }
  }
}

/** Copies the patches of output pixels `rows[first] .. rows[first + count - 1]` into `patches`, one row each. */
export function gatherPatches(
    x: Float32Array, info: backend_util.Conv2DInfo, rows: Int32Array, first: number, count: number,
    patches: Float32Array): void {
  const length = patchLength(info);
  for (let i = 0; i < count; i++) gatherPatch(x, info, rows[first + i], patches, i * length);
}

/** Adds the `count` rows of `patchGrads` back onto the inputs of pixels `rows[first] ..`, in `dx`. */
export function scatterAddPatches(
    patchGrads: Float32Array, info: backend_util.Conv2DInfo, rows: Int32Array, first: number, count: number,
    dx: Float32Array): void {
  const length = patchLength(info);
  for (let i = 0; i < count; i++) scatterAddPatch(patchGrads, i * length, info, rows[first + i], dx);
}

/** Copies rows `rows[first] .. rows[first + count - 1]` of a row-major matrix with `cols` columns into `out`. */
export function gatherRows(
    values: Float32Array, cols: number, rows: Int32Array, first: number, count: number, out: Float32Array): void {
  for (let i = 0; i < count; i++) {
    const src = rows[first + i] * cols;
    const dst = i * cols;
    for (let c = 0; c < cols; c++) out[dst + c] = values[src + c];
  }
}
