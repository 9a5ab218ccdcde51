/**
 * UnsortedSegmentSum, the Embedding gradient: stock wasm has none; stock cpu
 * is O(numSegments * size). Float32 output, as the stock cpu kernel gives.
 * Segment ids of rank above 1 are flattened, as in TensorFlow (the stock cpu
 * kernel throws for them): the output is `[numSegments, ...x.shape.slice(ids.rank)]`.
 */
import {UnsortedSegmentSum, util} from '@tensorflow/tfjs-core';
import type {TensorInfo, UnsortedSegmentSumAttrs} from '@tensorflow/tfjs-core';

import {unsortedSegmentSum} from '../impl/segment_sum_impl';
import {delegate, onCpuAndWasm} from '../kernel_util';
import type {KernelDefinition} from '../kernel_util';

export const unsortedSegmentSumConfig: KernelDefinition = onCpuAndWasm(UnsortedSegmentSum, (io) => (replaced) => (args) => {
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
});
