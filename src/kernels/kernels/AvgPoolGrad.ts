/** AvgPoolGrad: stock cpu reads through TensorBuffer.get. */
import {AvgPoolGrad, backend_util} from '@tensorflow/tfjs-core';
import type {AvgPoolGradAttrs, TensorInfo} from '@tensorflow/tfjs-core';

import {avgPoolGradient} from '../impl/pool_impl';
import {allFloat32, delegate, onCpuAndWasm} from '../kernel_util';
import type {KernelDefinition} from '../kernel_util';

export const avgPoolGradConfig: KernelDefinition = onCpuAndWasm(AvgPoolGrad, (io) => (replaced) => (args) => {
  const {dy, input} = args.inputs as {dy: TensorInfo; input: TensorInfo};
  const attrs = args.attrs as unknown as AvgPoolGradAttrs;
  if (!allFloat32(dy)) return delegate(replaced, args, AvgPoolGrad, io.backendName, 'non-float32 data');
  const info = backend_util.computePool2DInfo(input.shape as [number, number, number, number], attrs.filterSize,
      attrs.strides, 1, attrs.pad);
  return io.produce(args.backend, input.shape, (out, read) => avgPoolGradient(read.floats(dy), info, out));
});
