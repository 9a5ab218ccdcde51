/**
 * Kernels whose math is plain JavaScript over typed arrays, defined once and
 * instantiated for the cpu and the wasm backend through a {@link BackendIO}:
 * the depthwise gradients, the pooling gradients, UnsortedSegmentSum and the
 * bias-gradient case of Sum. Stock wasm 4.22 has neither depthwise gradient
 * nor UnsortedSegmentSum; everywhere else these replace slow stock kernels.
 */
import {
  AvgPoolGrad, backend_util, DepthwiseConv2dNativeBackpropFilter, DepthwiseConv2dNativeBackpropInput, MaxPoolGrad,
  Sum, UnsortedSegmentSum, util,
} from '@tensorflow/tfjs-core';
import type {
  AvgPoolGradAttrs, DepthwiseConv2dNativeBackpropFilterAttrs, DepthwiseConv2dNativeBackpropInputAttrs,
  MaxPoolGradAttrs, SumAttrs, TensorInfo, UnsortedSegmentSumAttrs,
} from '@tensorflow/tfjs-core';

import {depthwiseFilterGradient, depthwiseInputGradient} from './depthwise_math';
import {delegate} from './kernel_util';
import type {BackendIO, TrainingKernel} from './kernel_util';
import {avgPoolGradient, maxPoolGradient} from './pool_math';
import {unsortedSegmentSum} from './segment_sum_math';

type Shape4 = [number, number, number, number];

const allFloat32 = (...tensors: TensorInfo[]) => tensors.every((t) => t.dtype === 'float32');

/**
 * A backend's own form of a depthwise gradient (wasm: the SIMD kernels of
 * `simd/training_simd.ts`), tried before the JavaScript math; null when it
 * does not apply to these inputs.
 */
export type DepthwiseGradientFast =
    (backend: object, a: TensorInfo, b: TensorInfo, info: backend_util.Conv2DInfo) => TensorInfo | null;

/**
 * DepthwiseConv2dNativeBackpropFilter (stock wasm has none; stock cpu reads
 * through TensorBuffer.get). `fast(backend, x, dy, info)`, when given, runs first.
 */
export function depthwiseFilterGradientKernel(io: BackendIO, fast?: DepthwiseGradientFast): TrainingKernel {
  return {
    kernelName: DepthwiseConv2dNativeBackpropFilter,
    build: (replaced) => (args) => {
      const {x, dy} = args.inputs as {x: TensorInfo; dy: TensorInfo};
      const attrs = args.attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
      if (!allFloat32(x, dy)) return delegate(replaced, args, DepthwiseConv2dNativeBackpropFilter, io.backendName, 'non-float32 data');
      const info = backend_util.computeConv2DInfo(
          x.shape as Shape4, attrs.filterShape, attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, true);
      const result = fast?.(args.backend, x, dy, info);
      if (result != null) return result;
      return io.produce(args.backend, info.filterShape,
          (out, read) => depthwiseFilterGradient(read.floats(x), read.floats(dy), info, out));
    },
  };
}

/**
 * DepthwiseConv2dNativeBackpropInput (stock wasm has none). Honours
 * dilations, which the stock cpu kernel ignores; tfjs never asks for a
 * dilated depthwise gradient. `fast(backend, dy, filter, info)`, when given, runs first.
 */
export function depthwiseInputGradientKernel(io: BackendIO, fast?: DepthwiseGradientFast): TrainingKernel {
  return {
    kernelName: DepthwiseConv2dNativeBackpropInput,
    build: (replaced) => (args) => {
      const {dy, filter} = args.inputs as {dy: TensorInfo; filter: TensorInfo};
      const attrs = args.attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
      if (!allFloat32(dy, filter)) return delegate(replaced, args, DepthwiseConv2dNativeBackpropInput, io.backendName, 'non-float32 data');
      const info = backend_util.computeConv2DInfo(
          attrs.inputShape, filter.shape as Shape4, attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, true);
      const result = fast?.(args.backend, dy, filter, info);
      if (result != null) return result;
      return io.produce(args.backend, info.inShape,
          (out, read) => depthwiseInputGradient(read.floats(dy), read.floats(filter), info, out));
    },
  };
}

/**
 * UnsortedSegmentSum, the Embedding gradient (stock wasm has none; stock cpu
 * is O(numSegments * size)). Float32 output, as the stock cpu kernel gives.
 * Segment ids of rank above 1 are flattened, as in TensorFlow (the stock cpu
 * kernel throws for them): the output is `[numSegments, ...x.shape.slice(ids.rank)]`.
 */
export function unsortedSegmentSumKernel(io: BackendIO): TrainingKernel {
  return {
    kernelName: UnsortedSegmentSum,
    build: (replaced) => (args) => {
      const {x, segmentIds} = args.inputs as {x: TensorInfo; segmentIds: TensorInfo};
      const {numSegments} = args.attrs as unknown as UnsortedSegmentSumAttrs;
      const idsRank = segmentIds.shape.length;
      if (x.dtype === 'complex64' || x.dtype === 'string' || idsRank < 1 ||
          !segmentIds.shape.every((size, axis) => size === x.shape[axis])) {
        return delegate(replaced, args, UnsortedSegmentSum, io.backendName, `these shapes or ${x.dtype} data`);
      }
      const rowShape = x.shape.slice(idsRank);
      return io.produce(args.backend, [numSegments, ...rowShape], (out, read) =>
        unsortedSegmentSum(read.floats(x), read.ints(segmentIds), numSegments, util.sizeFromShape(rowShape), out));
    },
  };
}

/** MaxPoolGrad (stock cpu reads through TensorBuffer.get; stock wasm is slower than this). */
export function maxPoolGradKernel(io: BackendIO): TrainingKernel {
  return {
    kernelName: MaxPoolGrad,
    build: (replaced) => (args) => {
      const {dy, input} = args.inputs as {dy: TensorInfo; input: TensorInfo};
      const attrs = args.attrs as unknown as MaxPoolGradAttrs;
      if (!allFloat32(dy, input)) return delegate(replaced, args, MaxPoolGrad, io.backendName, 'non-float32 data');
      const info = backend_util.computePool2DInfo(
          input.shape as Shape4, attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
      return io.produce(args.backend, input.shape,
          (out, read) => maxPoolGradient(read.floats(input), read.floats(dy), info, out));
    },
  };
}

/** AvgPoolGrad (stock cpu reads through TensorBuffer.get). */
export function avgPoolGradKernel(io: BackendIO): TrainingKernel {
  return {
    kernelName: AvgPoolGrad,
    build: (replaced) => (args) => {
      const {dy, input} = args.inputs as {dy: TensorInfo; input: TensorInfo};
      const attrs = args.attrs as unknown as AvgPoolGradAttrs;
      if (!allFloat32(dy)) return delegate(replaced, args, AvgPoolGrad, io.backendName, 'non-float32 data');
      const info = backend_util.computePool2DInfo(input.shape as Shape4, attrs.filterSize, attrs.strides, 1, attrs.pad);
      return io.produce(args.backend, input.shape, (out, read) => avgPoolGradient(read.floats(dy), info, out));
    },
  };
}

/**
 * Adds up the rows (`channels` long) of `x` into `out`, with double-precision
 * running sums, four rows per pass.
 */
function sumRows(x: Float32Array, channels: number, out: Float32Array): void {
  out.set(rowSums(x, channels));
}

/** The double-precision sums of the rows (`channels` long) of `x`, four rows per pass. */
export function rowSums(x: Float32Array, channels: number): Float64Array {
  const sums = new Float64Array(channels);
  const rows = x.length / channels;
  let r = 0;
  for (; r + 3 < rows; r += 4) {
    const b0 = r * channels;
    const b1 = b0 + channels;
    const b2 = b1 + channels;
    const b3 = b2 + channels;
    for (let c = 0; c < channels; c++) sums[c] += (x[b0 + c] + x[b1 + c]) + (x[b2 + c] + x[b3 + c]);
  }
  for (; r < rows; r++) {
    const b0 = r * channels;
    for (let c = 0; c < channels; c++) sums[c] += x[b0 + c];
  }
  return sums;
}

/**
 * Sum over every axis but the last of a float32 tensor (the bias gradient of
 * Dense and Conv layers), in one pass over the data; the stock kernels first
 * transpose the reduced axes innermost. Every other reduction goes to the
 * stock kernel.
 */
export function biasGradientSumKernel(io: BackendIO): TrainingKernel {
  return {
    kernelName: Sum,
    build: (replaced) => (args) => {
      const {x} = args.inputs as {x: TensorInfo};
      const {axis, keepDims} = args.attrs as unknown as SumAttrs;
      const rank = x.shape.length;
      const axes = [...new Set(util.parseAxisParam(axis, x.shape))].sort((a, b) => a - b);
      const leading = rank >= 2 && x.shape[rank - 1] > 0 && axes.length === rank - 1 && axes.every((a, i) => a === i);
      if (x.dtype !== 'float32' || !leading) return delegate(replaced, args, Sum, io.backendName, 'this reduction');
      const channels = x.shape[rank - 1];
      const shape = keepDims ? [...x.shape.slice(0, -1).map(() => 1), channels] : [channels];
      return io.produce(args.backend, shape, (out, read) => sumRows(read.floats(x), channels, out));
    },
  };
}
