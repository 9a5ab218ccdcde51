/**
 * The cpu matrix product of BatchMatMul and _FusedMatMul on the blocked
 * product of `gemm_impl.ts` (about 5.5 GFLOP/s against about 1 for the stock
 * kernel, whose transposed operands are read with a stride).
 */
import {backend_util, util} from '@tensorflow/tfjs-core';
import type {TensorInfo} from '@tensorflow/tfjs-core';

import {cpuFloats} from '../kernel_util';
import type {CpuBackendLike, KernelArgs} from '../kernel_util';
import {multiplyTransposed, transposeInto} from './gemm_impl';

/**
 * The product as a cpu tensor, or null when the fast path does not cover it
 * (non-float32 data, or batch axes that broadcast other than one-to-many).
 * Batch indices wrap as in the stock kernel: product `i` reads batch
 * `i % batchA` of `a` and `i % batchB` of `b`.
 */
export function cpuMatMul(args: KernelArgs, transposeA: boolean, transposeB: boolean): TensorInfo | null {
  const {a, b} = args.inputs as {a: TensorInfo; b: TensorInfo};
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return null;
  const rankA = a.shape.length;
  const rankB = b.shape.length;
  const rows = transposeA ? a.shape[rankA - 1] : a.shape[rankA - 2];
  const depth = transposeA ? a.shape[rankA - 2] : a.shape[rankA - 1];
  const cols = transposeB ? b.shape[rankB - 2] : b.shape[rankB - 1];
  const depthB = transposeB ? b.shape[rankB - 1] : b.shape[rankB - 2];
  const batchA = util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = util.sizeFromShape(b.shape.slice(0, -2));
  if (depth !== depthB || (batchA !== batchB && batchA !== 1 && batchB !== 1)) return null;
  const outer = backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  if (util.sizeFromShape(outer) !== Math.max(batchA, batchB)) return null;
  const backend = args.backend as CpuBackendLike;
  const aValues = cpuFloats(backend, a);
  const bValues = cpuFloats(backend, b);
  const batch = Math.max(batchA, batchB);
  const out = new Float32Array(batch * rows * cols);
  // The product wants rows of `a` and rows of `bᵀ`, both `depth` long.
  const aRows = transposeA ? new Float32Array(rows * depth) : aValues;
  const bRows = transposeB ? bValues : new Float32Array(cols * depth);
  let aReady = -1;
  let bReady = -1;
  for (let i = 0; i < batch; i++) {
    const ia = i % batchA;
    const ib = i % batchB;
    if (transposeA && aReady !== ia) {
      transposeInto(aValues, ia * rows * depth, aRows, depth, rows);
      aReady = ia;
    }
    if (!transposeB && bReady !== ib) {
      transposeInto(bValues, ib * depth * cols, bRows, depth, cols);
      bReady = ib;
    }
    const aOffset = transposeA ? 0 : ia * rows * depth;
    const bOffset = transposeB ? ib * cols * depth : 0;
    multiplyTransposed(aRows, aOffset, bRows, bOffset, out, i * rows * cols, rows, cols, depth, false);
  }
  return backend.makeTensorInfo([...outer, rows, cols], 'float32', out);
}
