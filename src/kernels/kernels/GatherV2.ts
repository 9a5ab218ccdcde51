/**
 * GatherV2 of float32 data without batch dimensions (how `model.fit` slices
 * each batch out of its inputs and labels), as row copies on cpu and wasm
 * (impl/gather_impl.ts). Other dtypes, `batchDims` and indices out of range
 * (whose error the stock kernel gives) go to the stock kernel.
 */
import {GatherV2, util} from '@tensorflow/tfjs-core';
import type {GatherV2Attrs, TensorInfo} from '@tensorflow/tfjs-core';

import {gatherRows, indicesInRange} from '../impl/gather_impl';
import {delegate, onCpuAndWasm} from '../kernel_util';
import type {KernelDefinition} from '../kernel_util';

export const gatherV2Config: KernelDefinition = onCpuAndWasm(GatherV2, (io) => (replaced) => (args) => {
  const {x, indices} = args.inputs as {x: TensorInfo; indices: TensorInfo};
  const {axis, batchDims} = args.attrs as unknown as GatherV2Attrs;
  const rank = x.shape.length;
  const parsedAxis = typeof axis === 'number' && Number.isInteger(axis) ? (axis < 0 ? axis + rank : axis) : -1;
  if (x.dtype !== 'float32' || indices.dtype !== 'int32' || (batchDims ?? 0) !== 0 || parsedAxis < 0 ||
      parsedAxis >= rank) {
    return delegate(replaced, args, GatherV2, io.backendName, `${x.dtype} data, these indices or batchDims`);
  }
  const axisSize = x.shape[parsedAxis];
  if (!indicesInRange(io.reader(args.backend).ints(indices), axisSize)) {
    return delegate(replaced, args, GatherV2, io.backendName, 'indices out of range');
  }
  const outer = util.sizeFromShape(x.shape.slice(0, parsedAxis));
  const inner = util.sizeFromShape(x.shape.slice(parsedAxis + 1));
  const outShape = [...x.shape.slice(0, parsedAxis), ...indices.shape, ...x.shape.slice(parsedAxis + 1)];
  return io.produce(args.backend, outShape, (out, read) =>
    gatherRows(read.floats(x), read.ints(indices), outer, axisSize, inner, out));
});
