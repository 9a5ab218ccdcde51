/**
 * MaxPoolGrad: stock cpu reads through TensorBuffer.get; stock wasm is slower than this. On wasm,
 * the SIMD kernel of wasm/training/*.wat (4 channels or more), else the JavaScript loops of impl/pool_impl.ts.
 */
import {backend_util, MaxPoolGrad} from '@tensorflow/tfjs-core';
import type {MaxPoolGradAttrs, TensorInfo} from '@tensorflow/tfjs-core';

import {maxPoolGradient} from '../impl/pool_impl';
import {allFloat32, CPU_IO, delegate, WASM_IO} from '../kernel_util';
import type {BackendIO, KernelBuilder, KernelDefinition} from '../kernel_util';
import {simdMaxPoolGradient} from '../wasm/training_simd_grads';

const kernel = (io: BackendIO): KernelBuilder => (replaced) => (args) => {
  const {dy, input} = args.inputs as {dy: TensorInfo; input: TensorInfo};
  const attrs = args.attrs as unknown as MaxPoolGradAttrs;
  if (!allFloat32(dy, input)) return delegate(replaced, args, MaxPoolGrad, io.backendName, 'non-float32 data');
  const info = backend_util.computePool2DInfo(input.shape as [number, number, number, number], attrs.filterSize,
      attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const simd = io.backendName === 'wasm' ? simdMaxPoolGradient(args.backend, input, dy, info) : null;
  if (simd !== null) return simd;
  return io.produce(args.backend, input.shape, (out, read) => maxPoolGradient(read.floats(input), read.floats(dy), info, out));
};

export const maxPoolGradConfig: KernelDefinition = {kernelName: MaxPoolGrad, cpu: kernel(CPU_IO), wasm: kernel(WASM_IO)};
