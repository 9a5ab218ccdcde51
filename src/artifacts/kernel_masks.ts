/**
 * The masks of one-shot pruning for kernels read from artifacts, cut by the
 * functions of sparsity/pruning_impl.ts on each kernel's `[inputs, outputs]`
 * view: a kernel whose outputs are its last axis is that matrix already (in
 * row-major order), a MatMul matrix stored `[out, in]` is transposed first
 * and its mask transposed back.
 */
import {
  blockMagnitudeMask,
  globalMagnitudeMasks,
  magnitudeMask,
  mByNMask,
} from '../sparsity/pruning_impl';
import type {BlockPoolingType} from '../sparsity/pruning_params';
import type {KernelLayout} from './weight_role';

/** A kernel to prune: where it is in the artifacts and its float32 values. */
export interface KernelMask {
  index: number;
  name: string;
  shape: readonly number[];
  layout: KernelLayout;
  values: Float32Array;
}

/** What decides a kernel's mask. */
export interface MaskOptions {
  sparsity: number;
  block: [number, number] | null;
  blockPooling: BlockPoolingType;
  mByN: [number, number] | null;
}

/** The transpose of a row-major `rows x cols` matrix. */
function transpose(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c];
  }
  return out;
}

/**
 * The kernel as `values` of the matrix `[inputs, outputs]` and a function that
 * turns a mask of that matrix back into the kernel's own order; null when the
 * kernel has no such view (depthwise and transposed-convolution kernels).
 */
function matrixView(kernel: KernelMask):
    {values: Float32Array; rows: number; cols: number; back: (mask: Float32Array) => Float32Array} | null {
  const {shape, values} = kernel;
  if (kernel.layout === 'inputs-outputs') {
    const cols = shape[shape.length - 1];
    return {values, rows: values.length / cols, cols, back: (mask) => mask};
  }
  if (kernel.layout === 'outputs-inputs' && shape.length === 2) {
    const [out, inputs] = shape;
    return {values: transpose(values, out, inputs), rows: inputs, cols: out, back: (mask) => transpose(mask, inputs, out)};
  }
  return null;
}

/**
 * The mask of one kernel (1 keeps a weight, 0 prunes it), or null when the options
 * need a matrix view the kernel does not have (it is then left as it is).
 *
 * @throws PruningError when the kernel holds NaN or an infinity.
 */
export function kernelMask(kernel: KernelMask, options: MaskOptions): Float32Array | null {
  if (options.block === null && options.mByN === null) {
    return magnitudeMask(kernel.values, options.sparsity, kernel.name).mask;
  }
  const view = matrixView(kernel);
  if (view === null) return null;
  if (options.block !== null) {
    return view.back(blockMagnitudeMask(view.values, [view.rows, view.cols], options.block, options.blockPooling,
        options.sparsity, kernel.name).mask);
  }
  // M-by-N groups run along the input channels: `[outer, in, out]` with the outer axes (h, w) first.
  const {shape} = kernel;
  const grouped = kernel.layout === 'inputs-outputs' && shape.length > 2 ?
    [1, view.rows / shape[shape.length - 2], shape[shape.length - 2], view.cols] : [view.rows, view.cols];
  return view.back(mByNMask(view.values, grouped, options.mByN!, kernel.name).mask);
}

/** One threshold over all kernels (global pruning): one mask per kernel, in order. */
export function globalKernelMasks(kernels: readonly KernelMask[], sparsity: number): Float32Array[] {
  return globalMagnitudeMasks(kernels.map((k) => k.values), sparsity, kernels.map((k) => k.name)).masks;
}

/** The values with the mask applied: a pruned weight becomes +0 (never -0). Modifies and returns `values`. */
export function applyMask(values: Float32Array, mask: Float32Array): Float32Array {
  for (let i = 0; i < values.length; i++) if (mask[i] === 0) values[i] = 0;
  return values;
}
