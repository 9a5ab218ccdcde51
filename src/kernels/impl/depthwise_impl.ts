/**
 * The two gradients of an NHWC depthwise convolution over typed arrays.
 * Output channel `c * multiplier + m` reads input channel `c` through filter
 * entry `[kh, kw, c, m]`, so both gradients walk the output pixels once and
 * touch contiguous channel runs. Shared by the cpu and wasm kernels;
 * backend-independent. Supports any strides, dilations and padding.
 */
import type {backend_util} from '@tensorflow/tfjs-core';

/**
 * The filter gradient: `dFilter[kh, kw, c, m] = sum over batch and output
 * pixels of x[b, ih, iw, c] * dy[b, oh, ow, c * multiplier + m]`, summed in
 * double precision.
 *
 * @param x Input values, `[batch, inHeight, inWidth, inChannels]`.
 * @param dy Output gradient values, `[batch, outHeight, outWidth, inChannels * multiplier]`.
 * @param info The geometry from `computeConv2DInfo(..., depthwise = true)`.
 * @param out Receives the filter gradient, `[filterHeight, filterWidth, inChannels, multiplier]`.
 */
export function depthwiseFilterGradient(
    x: Float32Array, dy: Float32Array, info: backend_util.Conv2DInfo, out: Float32Array): void {
  const {batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels} = info;
  const {filterHeight, filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth} = info;
  const multiplier = outChannels / inChannels;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  const sums = new Float64Array(filterHeight * filterWidth * outChannels);
  for (let b = 0; b < batchSize; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        const dyBase = ((b * outHeight + oh) * outWidth + ow) * outChannels;
        for (let kh = 0; kh < filterHeight; kh++) {
          const ih = oh * strideHeight - padTop + kh * dilationHeight;
          if (ih < 0 || ih >= inHeight) continue;
          for (let kw = 0; kw < filterWidth; kw++) {
            const iw = ow * strideWidth - padLeft + kw * dilationWidth;
            if (iw < 0 || iw >= inWidth) continue;
            const xBase = ((b * inHeight + ih) * inWidth + iw) * inChannels;
            const sumBase = (kh * filterWidth + kw) * outChannels;
            if (multiplier === 1) {
              for (let c = 0; c < inChannels; c++) {
                sums[sumBase + c] += x[xBase + c] * dy[dyBase + c];
              }
            } else {
              for (let c = 0; c < inChannels; c++) {
                const value = x[xBase + c];
                const o = c * multiplier;
                for (let m = 0; m < multiplier; m++) {
                  sums[sumBase + o + m] += value * dy[dyBase + o + m];
                }
              }
            }
          }
        }
      }
    }
  }
  out.set(sums);
}

/**
 * The input gradient: `dx[b, ih, iw, c] = sum over the output pixels that
 * read it and over m of dy[b, oh, ow, c * multiplier + m] * filter[kh, kw, c, m]`.
 *
 * @param dy Output gradient values, `[batch, outHeight, outWidth, inChannels * multiplier]`.
 * @param filter Filter values, `[filterHeight, filterWidth, inChannels, multiplier]`.
 * @param info The geometry from `computeConv2DInfo(..., depthwise = true)`.
 * @param dx Receives the input gradient, `[batch, inHeight, inWidth, inChannels]`; starts zeroed.
 */
export function depthwiseInputGradient(
    dy: Float32Array, filter: Float32Array, info: backend_util.Conv2DInfo, dx: Float32Array): void {
  const {batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels} = info;
  const {filterHeight, filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth} = info;
  const multiplier = outChannels / inChannels;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  for (let b = 0; b < batchSize; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        const dyBase = ((b * outHeight + oh) * outWidth + ow) * outChannels;
        for (let kh = 0; kh < filterHeight; kh++) {
          const ih = oh * strideHeight - padTop + kh * dilationHeight;
          if (ih < 0 || ih >= inHeight) continue;
          for (let kw = 0; kw < filterWidth; kw++) {
            const iw = ow * strideWidth - padLeft + kw * dilationWidth;
            if (iw < 0 || iw >= inWidth) continue;
            const dxBase = ((b * inHeight + ih) * inWidth + iw) * inChannels;
            const filterBase = (kh * filterWidth + kw) * outChannels;
            if (multiplier === 1) {
              for (let c = 0; c < inChannels; c++) {
                dx[dxBase + c] += dy[dyBase + c] * filter[filterBase + c];
              }
            } else {
              for (let c = 0; c < inChannels; c++) {
                const o = c * multiplier;
                let sum = 0;
                for (let m = 0; m < multiplier; m++) {
                  sum += dy[dyBase + o + m] * filter[filterBase + o + m];
                }
                dx[dxBase + c] += sum;
              }
            }
          }
        }
      }
    }
  }
}
