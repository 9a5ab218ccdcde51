/** MaxPoolGrad: stock cpu reads through TensorBuffer.get; stock wasm is slower than this. */
import {backend_util, MaxPoolGrad} from '@tensorflow/tfjs-core';
import type {MaxPoolGradAttrs, TensorInfo} from '@tensorflow/tfjs-core';

import {maxPoolGradient} from '../impl/pool_impl';
import {allFloat32, delegate, onCpuAndWasm} from '../kernel_util';
import type {KernelDefinition} from '../kernel_util';

export const maxPoolGradConfig: KernelDefinition = onCpuAndWasm(MaxPoolGrad, (io) => (replaced) => (args) => {
  const {dy, input} = args.inputs as {dy: TensorInfo; input: TensorInfo};
  const attrs = args.attrs as unknown as MaxPoolGradAttrs;
  if (!allFloat32(dy, input)) return delegate(replaced, args, MaxPoolGrad, io.backendName, 'non-float32 data');
  const info = backend_util.computePool2DInfo(input.shape as [number, number, number, number], attrs.filterSize,
      attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  return io.produce(args.backend, input.shape, (out, read) => maxPoolGradient(read.floats(input), read.floats(dy), info, out));
});
