/**
 * The gradients of 2D max and average pooling (NHWC) over typed arrays.
 * Each output pixel's window is visited once, a channel run at a time; the
 * stock cpu kernels instead visit every input pixel and look up each
 * candidate window through `TensorBuffer.get`. Backend-independent.
 */
import type {backend_util} from '@tensorflow/tfjs-core';

// Module-level aliases: inside a vm context (Jest runs tests in one) every lookup of the global
// `Math` goes through an interceptor, which costs more than these loops' arithmetic.
const {min} = Math;

/**
 * One 2x2 window (the common MaxPooling2D), unrolled: rows start at `top`
 * and `bottom`. Same rules as the general loop, about 1.5x faster.
 */
function maxOfFour(
    x: Float32Array, dy: Float32Array, dx: Float32Array, top: number, bottom: number, channels: number,
    dyBase: number): void {
  for (let c = 0; c < channels; c++) {
    const p0 = top + c;
    const p1 = p0 + channels;
    const p2 = bottom + c;
    const p3 = p2 + channels;
    let best = x[p0];
    let at = p0;
    // A NaN or -Infinity first element never wins (the general loop starts below it).
    if (!(best > -Infinity)) {
      best = -Infinity;
      at = -1;
    }
    const v1 = x[p1];
    if (v1 > best) {
      best = v1;
      at = p1;
    }
    const v2 = x[p2];
    if (v2 > best) {
      best = v2;
      at = p2;
    }
    if (x[p3] > best) at = p3;
    if (at >= 0) dx[at] += dy[dyBase + c];
  }
}

/**
 * The max-pooling input gradient: each window's dy goes to the window's
 * largest input, the first one in row-major order on ties, and nowhere when
 * every input is NaN or -Infinity (the stock cpu kernel's rules).
 *
 * @param x The pooling input values, `[batch, inHeight, inWidth, channels]`.
 * @param dy The output gradient values, `info.outShape`.
 * @param info The geometry from `computePool2DInfo`.
 * @param dx Receives the input gradient, the shape of `x`; starts zeroed.
 */
export function maxPoolGradient(x: Float32Array, dy: Float32Array, info: backend_util.Conv2DInfo, dx: Float32Array): void {
  const {batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth} = info;
  const {strideHeight, strideWidth, dilationHeight, dilationWidth, effectiveFilterHeight, effectiveFilterWidth} = info;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  const best = new Float64Array(channels);
  const bestAt = new Int32Array(channels);
  for (let b = 0; b < batchSize; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const rowStart = oh * strideHeight - padTop;
      let rowFirst = rowStart;
      while (rowFirst < 0) rowFirst += dilationHeight;
      const rowEnd = min(inHeight, rowStart + effectiveFilterHeight);
      for (let ow = 0; ow < outWidth; ow++) {
        const colStart = ow * strideWidth - padLeft;
        let colFirst = colStart;
        while (colFirst < 0) colFirst += dilationWidth;
        const colEnd = min(inWidth, colStart + effectiveFilterWidth);
        const dyBase = ((b * outHeight + oh) * outWidth + ow) * channels;
        if (rowEnd - rowFirst === 2 && colEnd - colFirst === 2 && dilationHeight === 1 && dilationWidth === 1) {
          const top = ((b * inHeight + rowFirst) * inWidth + colFirst) * channels;
          maxOfFour(x, dy, dx, top, top + inWidth * channels, channels, dyBase);
          continue;
        }
        best.fill(-Infinity);
        bestAt.fill(-1);
        for (let ih = rowFirst; ih < rowEnd; ih += dilationHeight) {
          for (let iw = colFirst; iw < colEnd; iw += dilationWidth) {
            const base = ((b * inHeight + ih) * inWidth + iw) * channels;
            for (let c = 0; c < channels; c++) {
              const value = x[base + c];
              if (value > best[c]) {
                best[c] = value;
                bestAt[c] = base + c;
              }
            }
          }
        }
        for (let c = 0; c < channels; c++) {
          const at = bestAt[c];
          if (at >= 0) dx[at] += dy[dyBase + c];
        }
      }
    }
  }
}

/**
 * The average-pooling input gradient: each window's dy, divided by the full
 * window size, goes to every input pixel of the window. Like the stock cpu
 * (and webgl) kernel, windows clipped by 'same' padding still divide by the
 * full size.
 *
 * @param dy The output gradient values, `info.outShape`.
 * @param info The geometry from `computePool2DInfo`.
 * @param dx Receives the input gradient, `info.inShape`; starts zeroed.
 */
export function avgPoolGradient(dy: Float32Array, info: backend_util.Conv2DInfo, dx: Float32Array): void {
  const {batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth} = info;
  const {strideHeight, strideWidth, dilationHeight, dilationWidth, effectiveFilterHeight, effectiveFilterWidth} = info;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  const scale = 1 / (info.filterHeight * info.filterWidth);
  // Disjoint windows (pool size <= stride): each input pixel takes one window's
  // dy, written once; otherwise sums are gathered first and scaled at the end.
  const disjoint = strideHeight >= effectiveFilterHeight && strideWidth >= effectiveFilterWidth;
  for (let b = 0; b < batchSize; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const rowStart = oh * strideHeight - padTop;
      let rowFirst = rowStart;
      while (rowFirst < 0) rowFirst += dilationHeight;
      const rowEnd = min(inHeight, rowStart + effectiveFilterHeight);
      for (let ow = 0; ow < outWidth; ow++) {
        const colStart = ow * strideWidth - padLeft;
        let colFirst = colStart;
        while (colFirst < 0) colFirst += dilationWidth;
        const colEnd = min(inWidth, colStart + effectiveFilterWidth);
        const dyBase = ((b * outHeight + oh) * outWidth + ow) * channels;
        for (let ih = rowFirst; ih < rowEnd; ih += dilationHeight) {
          for (let iw = colFirst; iw < colEnd; iw += dilationWidth) {
            const base = ((b * inHeight + ih) * inWidth + iw) * channels;
            if (disjoint) {
              for (let c = 0; c < channels; c++) dx[base + c] = dy[dyBase + c] * scale;
            } else {
              for (let c = 0; c < channels; c++) dx[base + c] += dy[dyBase + c];
            }
          }
        }
      }
    }
  }
  if (!disjoint) {
    for (let i = 0; i < dx.length; i++) dx[i] *= scale;
  }
}
