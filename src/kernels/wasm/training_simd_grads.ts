/**
 * More SIMD gradients of training/*.wat on tfjs-backend-wasm's heap (NHWC,
 * float32): max pooling's input gradient, and the input gradient of any
 * convolution as a product (`dy · filterᵀ`, the patch gradients) scattered
 * back onto the input. Like those of training_simd.ts, each returns a new
 * tensor on the heap, or null when it cannot run (no SIMD, fewer than 4
 * channels, no room for scratch): the caller then takes another path.
 */
import type {backend_util, TensorInfo} from '@tensorflow/tfjs-core';

import {addTaps, address, MAX_TAP_PIXELS, packPanels, scratch, trainingSimd, withNhwcSimd} from './training_simd';
import type {Backend, TrainingExports} from './training_simd';

/**
 * The max-pooling input gradient (`MaxPoolGrad`) with the rules of
 * `maxPoolGradient` (impl/pool_impl.ts): each window's dy goes to its
 * largest input, the first in row-major order on ties, nowhere when every
 * input is NaN or -Infinity. Any window, stride, dilation and padding; null
 * when it cannot run (fewer than 4 channels among the reasons).
 */
export function simdMaxPoolGradient(
    backend: object, x: TensorInfo, dy: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo | null {
  return withNhwcSimd(backend, info, info.inChannels, (simd, heap) => {
    const channels = info.inChannels;
    const {batchSize, inHeight, inWidth, outHeight, outWidth, strideHeight, strideWidth} = info;
    const {dilationHeight, dilationWidth, effectiveFilterHeight, effectiveFilterWidth} = info;
    const block = scratch(heap, 8 * outWidth);
    if (block === null) return null;
    try {
      const dx = heap.makeOutput(info.inShape, 'float32');
      const buffer = heap.wasm.HEAPU8.buffer;
      new Float32Array(buffer, address(heap, dx), info.inShape.reduce((a, b) => a * b, 1)).fill(0);
      // Per output column: the byte offset of the window's first input column, and its column count.
      const cols = new Int32Array(buffer, block, 2 * outWidth);
      for (let ow = 0; ow < outWidth; ow++) {
        const start = ow * strideWidth - info.padInfo.left;
        let first = start;
        while (first < 0) first += dilationWidth;
        const end = Math.min(inWidth, start + effectiveFilterWidth);
        cols[2 * ow] = 4 * first * channels;
        cols[2 * ow + 1] = Math.max(0, Math.ceil((end - first) / dilationWidth));
      }
      const xAt = address(heap, x);
      const dyAt = address(heap, dy);
      const dxAt = address(heap, dx);
      const rowStep = 4 * dilationHeight * inWidth * channels;
      for (let b = 0; b < batchSize; b++) {
        for (let oh = 0; oh < outHeight; oh++) {
          const start = oh * strideHeight - info.padInfo.top;
          let first = start;
          while (first < 0) first += dilationHeight;
          const rows = Math.max(0, Math.ceil((Math.min(inHeight, start + effectiveFilterHeight) - first) / dilationHeight));
          if (rows === 0) continue;
          const xRow = 4 * (b * inHeight + first) * inWidth * channels;
          simd.maxPoolGrad(xAt + xRow, dyAt + 4 * (b * outHeight + oh) * outWidth * channels, dxAt + xRow,
              channels, rows, rowStep, block, outWidth, 4 * dilationWidth * channels);
        }
      }
      return dx;
    } finally {
      heap.wasm._free(block);
    }
  });
}

/** Bytes of patch gradients computed at once (one chunk of output rows of one image). */
const PATCH_CHUNK_BYTES = 1 << 18;

/**
 * The convolution input gradient (`Conv2DBackpropInput`, NHWC float32) for
 * any strides, dilations and padding: for each chunk of output rows of one
 * image, the patch gradients `dy · filterᵀ` (training/*.wat's `gemm`, or with
 * `sparse` its `sparseGemm`, which skips dy's zeros), then added back onto
 * the input tap by tap (`scatterTaps`). Null when it cannot run (a patch
 * shorter than 4 among the reasons).
 */
export function simdInputGradientByProduct(
    backend: object, dy: TensorInfo, filter: TensorInfo, info: backend_util.Conv2DInfo,
    sparse = false): TensorInfo | null {
  const simd = trainingSimd(backend);
  const {inChannels, outChannels, outHeight, outWidth, filterHeight, filterWidth} = info;
  const length = filterHeight * filterWidth * inChannels;
  if (simd === null || length < 4 || info.dataFormat !== 'channelsLast') return null;
  const heap = backend as Backend;
  const panels = Math.ceil(length / 8);
  const rows = Math.max(1, Math.min(outHeight, Math.floor(PATCH_CHUNK_BYTES / (4 * length * outWidth))));
  const taps = filterHeight * filterWidth;
  // The right operand filterᵀ ([co, length]): packed in panels for gemm; as it is, then the list of a
  // row's nonzero dy entries, for sparseGemm.
  const packedBytes = sparse ? 4 * length * outChannels + 8 * outChannels : 32 * panels * outChannels;
  const productBytes = 4 * length * rows * outWidth;
  const block = scratch(heap, packedBytes + productBytes + 20 * taps);
  if (block === null) return null;
  try {
    const dx = heap.makeOutput(info.inShape, 'float32');
    const buffer = heap.wasm.HEAPU8.buffer;
    new Float32Array(buffer, address(heap, dx), info.inShape.reduce((a, b) => a * b, 1)).fill(0);
    // B(k, n) = filterᵀ[k, n] = filter[n * co + k].
    const source = heap.typedArrayFromHeap(filter) as Float32Array;
    const packed = new Float32Array(buffer, block, sparse ? length * outChannels : 8 * panels * outChannels);
    if (sparse) {
      for (let n = 0; n < length; n++) {
        for (let k = 0; k < outChannels; k++) packed[k * length + n] = source[n * outChannels + k];
      }
    }
    if (!sparse) packPanels(source, packed, length, outChannels, panels);
    const product = block + packedBytes;
    const table = product + productBytes;
    const dyAt = address(heap, dy);
    const dxAt = address(heap, dx);
    const pPix = 4 * length;
    for (let b = 0; b < info.batchSize; b++) {
      for (let oh = 0; oh < outHeight; oh += rows) {
        const oh1 = Math.min(outHeight, oh + rows);
        const firstPixel = (b * outHeight + oh) * outWidth;
        const dyRows = dyAt + 4 * firstPixel * outChannels;
        if (sparse) {
          simd.sparseGemm(dyRows, 4 * outChannels, block, pPix, product, pPix, (oh1 - oh) * outWidth, length, outChannels,
              block + 4 * length * outChannels);
        } else {
          simd.gemm(dyRows, 4 * outChannels, block, product, pPix, (oh1 - oh) * outWidth, length, outChannels);
        }
        // Taps as (dx offset, product offset, rows, cols, 8 * tap): the product's offset made relative
        // to the chunk and moved to the tap's columns.
        const entries: number[] = [];
        addTaps(entries, info, b, oh, oh1, inChannels, length, 1);
        for (let e = 0; e < entries.length; e += 5) {
          entries[e + 1] += -4 * firstPixel * length + (entries[e + 4] / 8) * 4 * inChannels;
        }
        if (entries.length === 0) continue;
        new Int32Array(heap.wasm.HEAPU8.buffer, table, entries.length).set(entries);
        simd.scatterTaps(product, dxAt, inChannels, 4 * info.strideWidth * inChannels,
            4 * info.strideHeight * info.inWidth * inChannels, pPix, pPix * outWidth, table, entries.length / 5);
      }
    }
    return dx;
  } finally {
    heap.wasm._free(block);
  }
}

/** Whether a float32 tensor on the heap holds no NaN and no infinity. */
export function allFinite(simd: TrainingExports, backend: Backend, info: TensorInfo): boolean {
  return simd.allFinite(address(backend, info), info.shape.reduce((a, b) => a * b, 1)) === 1;
}

/**
 * The convolution filter gradient (`Conv2DBackpropFilter`, NHWC float32)
 * over dy's nonzero entries only (training/*.wat's `sparseFilter`), for any
 * strides, dilations and padding: each nonzero dy adds its multiples of the
 * input channels of its pixel at every tap. The sums run in float32 over at
 * most {@link MAX_TAP_PIXELS} output pixels, then in float64. Null when it
 * cannot run, and when x holds a NaN or an infinity (which a zero dy must
 * turn into NaN, as in the dense kernels).
 */
export function simdSparseFilterGradient(
    backend: object, x: TensorInfo, dy: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo | null {
  const simd = trainingSimd(backend);
  if (simd === null || info.dataFormat !== 'channelsLast') return null;
  const heap = backend as Backend;
  if (!allFinite(simd, heap, x)) return null;
  const {inChannels, outChannels, outHeight, outWidth} = info;
  const taps = info.filterHeight * info.filterWidth;
  const accElements = taps * inChannels * outChannels;
  // Segments of output rows of one image, grouped up to MAX_TAP_PIXELS pixels a call.
  const rows = Math.max(1, Math.min(outHeight, Math.floor(MAX_TAP_PIXELS / outWidth)));
  const segmentPixels = rows * outWidth;
  const perCall = Math.max(1, Math.floor(MAX_TAP_PIXELS / segmentPixels));
  const tableBytes = 20 * taps * perCall;
  const callPixels = perCall * segmentPixels;
  const block = scratch(heap, 8 * accElements + 4 * accElements + tableBytes + 4 * (callPixels + 1) +
    8 * callPixels * outChannels);
  if (block === null) return null;
  const acc = block;
  const sums = block + 8 * accElements;
  const table = sums + 4 * accElements;
  const starts = table + tableBytes;
  const pairs = starts + 4 * (callPixels + 1);
  try {
    const out = heap.makeOutput(info.filterShape, 'float32');
    new Float64Array(heap.wasm.HEAPU8.buffer, acc, accElements).fill(0);
    new Float32Array(heap.wasm.HEAPU8.buffer, sums, accElements).fill(0);
    const xAt = address(heap, x);
    const dyAt = address(heap, dy);
    const xPix = 4 * info.strideWidth * inChannels;
    const xRow = 4 * info.strideHeight * info.inWidth * inChannels;
    let entries: number[] = [];
    let first = 0;
    let pixels = 0;
    // Runs the segments gathered since output pixel `first`: their dy listed, their taps summed.
    const run = () => {
      if (entries.length > 0) {
        simd.listNonzeros(dyAt + 4 * first * outChannels, pixels, outChannels, inChannels, starts, pairs);
        // addTaps's dy byte offsets as pixel indices from `first`.
        for (let e = 1; e < entries.length; e += 5) entries[e] = entries[e] / (4 * outChannels) - first;
        new Int32Array(heap.wasm.HEAPU8.buffer, table, entries.length).set(entries);
        simd.sparseFilter(xAt, starts, inChannels, outWidth, xPix, xRow, table, entries.length / 5, sums);
        simd.flushSums(sums, acc, accElements, inChannels, outChannels);
      }
      entries = [];
      first += pixels;
      pixels = 0;
    };
    for (let b = 0; b < info.batchSize; b++) {
      for (let oh = 0; oh < outHeight; oh += rows) {
        const oh1 = Math.min(outHeight, oh + rows);
        addTaps(entries, info, b, oh, oh1, inChannels, outChannels, inChannels * outChannels);
        pixels += (oh1 - oh) * outWidth;
        if (pixels + segmentPixels > callPixels) run();
      }
    }
    run();
    const values = heap.typedArrayFromHeap(out) as Float32Array;
    values.set(new Float64Array(heap.wasm.HEAPU8.buffer, acc, accElements));
    return out;
  } finally {
    heap.wasm._free(block);
  }
}
