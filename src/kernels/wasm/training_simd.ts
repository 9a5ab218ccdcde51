/**
 * The SIMD training kernels of training/*.wat on tfjs-backend-wasm's heap: the
 * two depthwise convolution gradients, the convolution filter gradient and
 * the input gradient of 1x1 convolutions (NHWC, float32); ReLU6's and
 * BatchNormalization's gradients and per-channel sums and means are in
 * training_simd_channels.ts.
 * Each function returns the gradient as a new tensor on the heap, or null
 * when it cannot run (no SIMD, the heap's memory not found, fewer than 4
 * channels, no room for scratch): the caller then takes its JavaScript or
 * XNNPACK path.
 *
 * The filter gradients sum each rectangle of at most {@link MAX_TAP_PIXELS}
 * output pixels (or one output row, when a row is longer) in float32, and
 * add the rectangles' sums in float64.
 */
import type {backend_util, TensorInfo} from '@tensorflow/tfjs-core';

import type {WasmBackendLike} from '../kernel_util';
import {TRAINING_WASM, TRAINING_WASM_SHARED} from './training_module';
import {heapAllocate, instantiateOnHeap, isWasmHeapBackend} from './wasm_instance';
import type {WasmHeapBackend} from './wasm_instance';

/** The exports of training/*.wat (pointers and offsets in bytes; see the .wat file for the tables). */
export interface TrainingExports {
  dwFilter(x: number, dy: number, c: number, m: number, xPix: number, xRow: number, dyPix: number, dyRow: number,
    taps: number, nTaps: number, acc: number, tmp: number): void;
  dwInput(dy: number, f: number, dx: number, c: number, m: number, inH: number, inW: number, hTab: number,
    wTab: number, stride: number): void;
  convFilter(x: number, dy: number, ci: number, co: number, xPix: number, xRow: number, dyPix: number, dyRow: number,
    taps: number, nTaps: number, acc: number, tmp: number): void;
  convFilterNarrow(x: number, dy: number, ci: number, co: number, xPix: number, xRow: number, dyPix: number,
    dyRow: number, taps: number, nTaps: number, acc: number, tmp: number): void;
  maxPoolGrad(x: number, dy: number, dx: number, c: number, nRows: number, rowStep: number, cols: number,
    outW: number, colStep: number): void;
  scatterTaps(p: number, dx: number, c: number, dxPix: number, dxRow: number, pPix: number, pRow: number,
    taps: number, nTaps: number): void;
  listNonzeros(dy: number, m: number, co: number, ci: number, starts: number, pairs: number): void;
  sparseFilter(x: number, starts: number, ci: number, outW: number, xPix: number, xRow: number, taps: number,
    nTaps: number, sums: number): void;
  flushSums(sums: number, acc: number, n: number, ci: number, co: number): void;
  allFinite(p: number, n: number): number;
  sparseGemm(a: number, lda: number, b: number, ldb: number, c: number, ldc: number, m: number, n: number, k: number,
    list: number): void;
  gemm(a: number, lda: number, b: number, c: number, ldc: number, m: number, n: number, k: number): void;
  clipGrad(x: number, dy: number, out: number, n: number, lo: number, hi: number): void;
  colSums(x: number, rows: number, c: number, sums: number): void;
  bnForward(x: number, out: number, rows: number, c: number, params: number): void;
  bnGrad(x: number, dy: number, dx: number, rows: number, c: number, mean: number, q: number, t: number,
    sums: number): void;
}

/** The backend: tfjs-backend-wasm's `BackendWasm`, as the kernels and the heap see it. */
export type Backend = WasmBackendLike & WasmHeapBackend;

/** Longest float32 sum of the filter gradients: output pixels per rectangle (then float64). */
export const MAX_TAP_PIXELS = 1024;

/**
 * Bytes of x and dy a convolution filter gradient works on at once: every
 * 4 x 8 tile passes over them, so they should stay in cache (64 KB: the
 * fastest of 16-256 KB on MobileNetV2's layers, 20-35% ahead of 256 KB).
 */
const CHUNK_BYTES = 1 << 16;

/** training/*.wat on `backend`'s heap, or null where it cannot run. */
export function trainingSimd(backend: object): TrainingExports | null {
  if (!isWasmHeapBackend(backend)) return null;
  return instantiateOnHeap<TrainingExports>(backend, TRAINING_WASM, TRAINING_WASM_SHARED);
}

/**
 * `run(simd, heap)` for a channels-last call whose SIMD lanes run over
 * `lanes` channels; null (the caller's other path) when training.wat cannot
 * run here or there are fewer than 4 lanes.
 */
export function withNhwcSimd(
    backend: object, info: backend_util.Conv2DInfo, lanes: number,
    run: (simd: TrainingExports, heap: Backend) => TensorInfo | null): TensorInfo | null {
  const simd = trainingSimd(backend);
  if (simd === null || lanes < 4 || info.dataFormat !== 'channelsLast') return null;
  return run(simd, backend as Backend);
}

/**
 * Packs `source`ᵀ (`source` is `[rows, cols]`, rows >= 4) into `panels`
 * panels of 8 of its rows, as the gemm of training/*.wat takes its right
 * operand: panel j holds, per column, rows 8j..8j+3 then 8j+4..8j+7 (clamped
 * to the last 4 rows, so a partial panel repeats rows the caller ignores).
 */
export function packPanels(
    source: Float32Array, packed: Float32Array, rows: number, cols: number, panels: number): void {
  for (let j = 0; j < panels; j++) {
    const c0 = Math.min(8 * j, rows - 4);
    const c1 = Math.min(8 * j + 4, rows - 4);
    for (let o = 0; o < cols; o++) {
      const at = (j * cols + o) * 8;
      for (let l = 0; l < 4; l++) {
        packed[at + l] = source[(c0 + l) * cols + o];
        packed[at + 4 + l] = source[(c1 + l) * cols + o];
      }
    }
  }
}

/** Byte offset of a tensor's data on the heap. */
export function address(backend: Backend, info: TensorInfo): number {
  return backend.typedArrayFromHeap(info).byteOffset;
}

/** A scratch block on the heap, freed by `free`; its offsets are stable, its views are not. */
export function scratch(backend: Backend, bytes: number): number | null {
  return heapAllocate(backend.wasm, Math.max(16, bytes));
}

const ceilDiv = (a: number, b: number) => Math.ceil(a / b);
const floorDiv = (a: number, b: number) => Math.floor(a / b);

/**
 * The taps of the output pixels `[b, oh0 .. oh1)`: for each filter position,
 * the rectangle of those pixels that reads inside the input (5 x i32 each, as
 * training/*.wat's filter gradients take them), appended to `taps`.
 */
export function addTaps(
    taps: number[], info: backend_util.Conv2DInfo, b: number, oh0: number, oh1: number, xChannels: number,
    dyChannels: number, accPerTap: number): void {
  const {inHeight, inWidth, outHeight, outWidth, strideHeight, strideWidth, dilationHeight, dilationWidth} = info;
  for (let kh = 0; kh < info.filterHeight; kh++) {
    const offH = kh * dilationHeight - info.padInfo.top;
    const lo = Math.max(oh0, ceilDiv(-offH, strideHeight));
    const hi = Math.min(oh1, floorDiv(inHeight - 1 - offH, strideHeight) + 1);
    if (lo >= hi) continue;
    for (let kw = 0; kw < info.filterWidth; kw++) {
      const offW = kw * dilationWidth - info.padInfo.left;
      const left = Math.max(0, ceilDiv(-offW, strideWidth));
      const right = Math.min(outWidth, floorDiv(inWidth - 1 - offW, strideWidth) + 1);
      if (left >= right) continue;
      const xPixel = (b * inHeight + lo * strideHeight + offH) * inWidth + left * strideWidth + offW;
      const dyPixel = (b * outHeight + lo) * outWidth + left;
      taps.push(4 * xPixel * xChannels, 4 * dyPixel * dyChannels, hi - lo, right - left,
          8 * (kh * info.filterWidth + kw) * accPerTap);
    }
  }
}

/** Output rows per chunk: rectangles of at most `pixels` (and {@link MAX_TAP_PIXELS}) output pixels. */
function rowsPerChunk(info: backend_util.Conv2DInfo, pixels: number): number {
  return Math.max(1, Math.floor(Math.min(pixels, MAX_TAP_PIXELS) / info.outWidth));
}

/** Whether output pixel `p` reads input pixel `p` alone (a 1x1, stride-1, unpadded convolution). */
export function isPointwise(info: backend_util.Conv2DInfo): boolean {
  return info.filterHeight === 1 && info.filterWidth === 1 && info.strideHeight === 1 && info.strideWidth === 1 &&
    info.padInfo.top === 0 && info.padInfo.left === 0 && info.outHeight === info.inHeight && info.outWidth === info.inWidth;
}

/**
 * Runs a filter gradient chunk by chunk: `run(taps, nTaps)` sums one chunk's
 * rectangles into the float64 accumulators `acc` (`accElements` of them),
 * which are then written to a new float32 tensor by `finish`.
 */
function filterGradient(
    backend: Backend, info: backend_util.Conv2DInfo, xChannels: number, dyChannels: number, accPerTap: number,
    chunkPixels: number, kernel: (taps: number, nTaps: number, acc: number, tmp: number) => void,
    finish: (sums: Float64Array, out: Float32Array) => void): TensorInfo | null {
  const taps = info.filterHeight * info.filterWidth;
  const accElements = taps * accPerTap;
  const tableBytes = 20 * taps;
  const block = scratch(backend, 16 + tableBytes + 8 * accElements);
  if (block === null) return null;
  const tmp = block;
  const table = block + 16;
  const acc = (table + tableBytes + 7) & ~7;
  try {
    const out = backend.makeOutput(info.filterShape, 'float32');
    new Float64Array(backend.wasm.HEAPU8.buffer, acc, accElements).fill(0);
    const run = (entries: number[]) => {
      if (entries.length === 0) return;
      new Int32Array(backend.wasm.HEAPU8.buffer, table, entries.length).set(entries);
      kernel(table, entries.length / 5, acc, tmp);
    };
    if (isPointwise(info)) {
      // One long row of pixels across the batch.
      const pixels = info.batchSize * info.outHeight * info.outWidth;
      const step = Math.min(chunkPixels, MAX_TAP_PIXELS);
      for (let p = 0; p < pixels; p += step) {
        run([4 * p * xChannels, 4 * p * dyChannels, 1, Math.min(step, pixels - p), 0]);
      }
    } else {
      const rows = rowsPerChunk(info, chunkPixels);
      for (let b = 0; b < info.batchSize; b++) {
        for (let oh = 0; oh < info.outHeight; oh += rows) {
          const entries: number[] = [];
          addTaps(entries, info, b, oh, Math.min(info.outHeight, oh + rows), xChannels, dyChannels, accPerTap);
          run(entries);
        }
      }
    }
    const buffer = backend.wasm.HEAPU8.buffer;
    finish(new Float64Array(buffer, acc, accElements), backend.typedArrayFromHeap(out) as Float32Array);
    return out;
  } finally {
    backend.wasm._free(block);
  }
}

/**
 * The depthwise filter gradient (`DepthwiseConv2dNativeBackpropFilter`, NHWC
 * float32): `dFilter[kh, kw, c, m] = sum of x[b, ih, iw, c] * dy[b, oh, ow, c * M + m]`
 * for any strides, dilations, padding and multiplier M. Null when it cannot
 * run (fewer than 4 input channels among the reasons).
 */
export function simdDepthwiseFilterGradient(
    backend: object, x: TensorInfo, dy: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo | null {
  return withNhwcSimd(backend, info, info.inChannels, (simd, heap) => {
    const channels = info.inChannels;
    const multiplier = info.outChannels / channels;
    const xAt = address(heap, x);
    const dyAt = address(heap, dy);
    const xPix = 4 * info.strideWidth * channels;
    const xRow = 4 * info.strideHeight * info.inWidth * channels;
    const dyPix = 4 * info.outChannels;
    const dyRow = dyPix * info.outWidth;
    return filterGradient(heap, info, channels, info.outChannels, info.outChannels, MAX_TAP_PIXELS,
        (taps, nTaps, acc, tmp) =>
          simd.dwFilter(xAt, dyAt, channels, multiplier, xPix, xRow, dyPix, dyRow, taps, nTaps, acc, tmp),
        (sums, out) => {
          if (multiplier === 1) {
            out.set(sums);
            return;
          }
          // [tap, m, c] -> [tap, c, m].
          for (let t = 0; t < info.filterHeight * info.filterWidth; t++) {
            const base = t * info.outChannels;
            for (let m = 0; m < multiplier; m++) {
              for (let c = 0; c < channels; c++) out[base + c * multiplier + m] = sums[base + m * channels + c];
            }
          }
        });
  });
}

/**
 * The convolution filter gradient (`Conv2DBackpropFilter`, NHWC float32):
 * `dFilter[kh, kw, ci, co] = sum of x[b, ih, iw, ci] * dy[b, oh, ow, co]` as
 * rank-1 updates, for any strides, dilations and padding: tiles of 4 input
 * by 8 output channels, or (`narrow`, for fewer than 4 input channels) of 1
 * by 32. Null when it cannot run (fewer than 4 output channels among the reasons).
 */
export function simdConvFilterGradient(
    backend: object, x: TensorInfo, dy: TensorInfo, info: backend_util.Conv2DInfo, narrow = false): TensorInfo | null {
  const simd = trainingSimd(backend);
  const {inChannels, outChannels} = info;
  if (simd === null || outChannels < 4 || info.dataFormat !== 'channelsLast') return null;
  const heap = backend as Backend;
  const xAt = address(heap, x);
  const dyAt = address(heap, dy);
  const xPix = 4 * info.strideWidth * inChannels;
  const xRow = 4 * info.strideHeight * info.inWidth * inChannels;
  const dyPix = 4 * outChannels;
  const dyRow = dyPix * info.outWidth;
  const chunkPixels = Math.max(64, Math.floor(CHUNK_BYTES / (4 * (inChannels + outChannels))));
  return filterGradient(heap, info, inChannels, outChannels, inChannels * outChannels, chunkPixels,
      (taps, nTaps, acc, tmp) =>
        (narrow ? simd.convFilterNarrow : simd.convFilter)(
            xAt, dyAt, inChannels, outChannels, xPix, xRow, dyPix, dyRow, taps, nTaps, acc, tmp),
      (sums, out) => out.set(sums));
}

/**
 * One axis of the depthwise input gradient's tables: for each input index,
 * the count and the (dy offset, filter offset) pairs of the outputs and
 * filter positions that read it.
 */
function axisTable(
    table: Int32Array, at: number, stride: number, inSize: number, outSize: number, filterSize: number,
    step: number, dilation: number, pad: number, dyUnit: number, filterUnit: number): void {
  for (let i = 0; i < inSize; i++) {
    const entry = at + i * stride;
    let count = 0;
    for (let k = 0; k < filterSize; k++) {
      const numerator = i + pad - k * dilation;
      if (numerator < 0 || numerator % step !== 0) continue;
      const o = numerator / step;
      if (o >= outSize) continue;
      table[entry + 1 + 2 * count] = o * dyUnit;
      table[entry + 2 + 2 * count] = k * filterUnit;
      count++;
    }
    table[entry] = count;
  }
}

/**
 * The depthwise input gradient (`DepthwiseConv2dNativeBackpropInput`, NHWC
 * float32): `dx[b, ih, iw, c] = sum of dy[b, oh, ow, c * M + m] * filter[kh, kw, c, m]`
 * over the output pixels that read it, for any strides, dilations, padding
 * and multiplier M. Null when it cannot run (fewer than 4 channels among the reasons).
 */
export function simdDepthwiseInputGradient(
    backend: object, dy: TensorInfo, filter: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo | null {
  return withNhwcSimd(backend, info, info.inChannels, (simd, heap) => {
    const channels = info.inChannels;
    const {inHeight, inWidth, outHeight, outWidth, outChannels, filterHeight, filterWidth} = info;
    const multiplier = outChannels / channels;
    const stride = 1 + 2 * Math.max(filterHeight, filterWidth);
    const tableInts = stride * (inHeight + inWidth);
    const filterElements = multiplier === 1 ? 0 : filterHeight * filterWidth * outChannels;
    const block = scratch(heap, 4 * (tableInts + filterElements));
    if (block === null) return null;
    try {
      const dx = heap.makeOutput(info.inShape, 'float32');
      const buffer = heap.wasm.HEAPU8.buffer;
      const table = new Int32Array(buffer, block, tableInts);
      axisTable(table, 0, stride, inHeight, outHeight, filterHeight, info.strideHeight, info.dilationHeight,
          info.padInfo.top, 4 * outWidth * outChannels, 4 * filterWidth * outChannels);
      axisTable(table, stride * inHeight, stride, inWidth, outWidth, filterWidth, info.strideWidth, info.dilationWidth,
          info.padInfo.left, 4 * outChannels, 4 * outChannels);
      let filterAt = address(heap, filter);
      if (multiplier !== 1) {
        // [kh, kw, c, m] -> [kh, kw, m, c].
        const source = heap.typedArrayFromHeap(filter) as Float32Array;
        const filterAtT = block + 4 * tableInts;
        const transposed = new Float32Array(buffer, filterAtT, filterElements);
        for (let t = 0; t < filterHeight * filterWidth; t++) {
          const base = t * outChannels;
          for (let c = 0; c < channels; c++) {
            for (let m = 0; m < multiplier; m++) transposed[base + m * channels + c] = source[base + c * multiplier + m];
          }
        }
        filterAt = filterAtT;
      }
      const dyAt = address(heap, dy);
      const dxAt = address(heap, dx);
      const dyImage = 4 * outHeight * outWidth * outChannels;
      const dxImage = 4 * inHeight * inWidth * channels;
      for (let b = 0; b < info.batchSize; b++) {
        simd.dwInput(dyAt + b * dyImage, filterAt, dxAt + b * dxImage, channels, multiplier, inHeight, inWidth,
            block, block + 4 * stride * inHeight, 4 * stride);
      }
      return dx;
    } finally {
      heap.wasm._free(block);
    }
  });
}

/**
 * The input gradient of a 1x1, stride-1, unpadded convolution
 * (`Conv2DBackpropInput`, NHWC float32, see {@link isPointwise}) as one
 * matrix product, `dx[p, ci] = sum over co of dy[p, co] * filter[0, 0, ci, co]`.
 * Null when it cannot run (another geometry, or fewer than 4 input channels
 * among the reasons).
 */
export function simdPointwiseInputGradient(
    backend: object, dy: TensorInfo, filter: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo | null {
  const simd = trainingSimd(backend);
  const {inChannels, outChannels} = info;
  if (simd === null || inChannels < 4 || !isPointwise(info) || info.dataFormat !== 'channelsLast') return null;
  const heap = backend as Backend;
  const panels = Math.ceil(inChannels / 8);
  const block = scratch(heap, 32 * panels * outChannels);
  if (block === null) return null;
  try {
    const dx = heap.makeOutput(info.inShape, 'float32');
    // The right operand, filterᵀ ([co, ci]), packed in panels of 8 columns as gemm takes it.
    const source = heap.typedArrayFromHeap(filter) as Float32Array;
    const packed = new Float32Array(heap.wasm.HEAPU8.buffer, block, 8 * panels * outChannels);
    packPanels(source, packed, inChannels, outChannels, panels);
    const pixels = info.batchSize * info.inHeight * info.inWidth;
    simd.gemm(address(heap, dy), 4 * outChannels, block, address(heap, dx), 4 * inChannels, pixels, inChannels,
        outChannels);
    return dx;
  } finally {
    heap.wasm._free(block);
  }
}
