/**
 * BatchMatMul. On cpu: the blocked product of impl/matmul_impl.ts (Dense
 * layers train through it: the seed CNN's 250 x 1600 x 256 products). On
 * wasm: stock wasm runs a product through XNNPACK only when neither operand
 * is transposed, and through a scalar loop otherwise (55-70 ms instead of
 * 6 ms for the Dense gradients of the seed's CNN); this kernel transposes the
 * operand with wasm's Transpose kernel and hands the untransposed product to
 * the stock kernel.
 */
import {BatchMatMul} from '@tensorflow/tfjs-core';
import type {BatchMatMulAttrs, TensorInfo} from '@tensorflow/tfjs-core';

import {cpuMatMul} from '../impl/matmul_impl';
import {delegate, runKernel} from '../kernel_util';
import type {KernelArgs, KernelBuilder, KernelDefinition, WasmBackendLike} from '../kernel_util';

const cpuKernel: KernelBuilder = (replaced) => (args) => {
  const {transposeA, transposeB} = args.attrs as unknown as BatchMatMulAttrs;
  return cpuMatMul(args as KernelArgs, transposeA, transposeB) ??
    delegate(replaced, args as KernelArgs, BatchMatMul, 'cpu', 'this product');
};

/** Swaps the last two axes of `x` with wasm's Transpose kernel. */
function swapLastAxes(backend: WasmBackendLike, x: TensorInfo): TensorInfo {
  const perm = x.shape.map((_, i) => i);
  const rank = perm.length;
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return runKernel('Transpose', 'wasm', {inputs: {x}, backend, attrs: {perm}});
}

/** The wasm BatchMatMul kernel: explicit transposes, then XNNPACK. */
const wasmKernel: KernelBuilder = (replaced) => (args) => {
  const {a, b} = args.inputs as {a: TensorInfo; b: TensorInfo};
  const {transposeA, transposeB} = args.attrs as unknown as BatchMatMulAttrs;
  if (replaced == null || (!transposeA && !transposeB) || a.dtype !== 'float32' || b.dtype !== 'float32') {
    return delegate(replaced, args, BatchMatMul, 'wasm', 'this product');
  }
  const backend = args.backend as WasmBackendLike;
  const a2 = transposeA ? swapLastAxes(backend, a) : a;
  const b2 = transposeB ? swapLastAxes(backend, b) : b;
  const product = replaced({inputs: {a: a2, b: b2}, backend, attrs: {transposeA: false, transposeB: false}});
  if (a2 !== a) backend.disposeData(a2.dataId);
  if (b2 !== b) backend.disposeData(b2.dataId);
  return product;
};

export const batchMatMulConfig: KernelDefinition = {kernelName: BatchMatMul, cpu: cpuKernel, wasm: wasmKernel};
