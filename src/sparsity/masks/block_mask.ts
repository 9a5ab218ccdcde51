/** The block-sparsity mask (tfmot's `block_size` and `block_pooling_type`). */
import {describeParam} from '../pruning_params';
import type {BlockPoolingType} from '../pruning_params';
import {magnitudeMask} from './magnitude_mask';
import {type MaskResult, assertFinite} from './radix_select';

/**
 * The block-sparsity mask (tfmot's `block_size` / `block_pooling_type`) of a
 * rank-2 weight: |w| is pooled over non-overlapping `bh x bw` blocks (the
 * average or the maximum of what each block holds), the k-rule of
 * {@link magnitudeMask} is applied to the pooled values, and each block's
 * 0/1 is spread back over its weights.
 *
 * Porting note: blocks start at index 0 and a last block that does not fit
 * is partial (it pools only the weights it holds). tfmot pads the pooling
 * windows and the mask blocks differently when a dimension is not a multiple
 * of the block, so its mask is shifted against its pooling there.
 *
 * @param values The weight's values, row-major (not modified).
 * @param shape The weight's shape `[rows, cols]`.
 * @param blockSize `[bh, bw]`, integers >= 1.
 * @param pooling `'avg'` or `'max'`.
 * @param sparsity Target fraction of zeroed blocks, in [0, 1).
 * @param weightName Used in error messages.
 * @returns The mask (shaped like `values`) and the threshold on the pooled magnitudes.
 * @throws PruningError when a value is NaN or infinite.
 */
export function blockMagnitudeMask(
    values: Float32Array, shape: readonly number[], blockSize: readonly [number, number], pooling: BlockPoolingType,
    sparsity: number, weightName = 'weight'): MaskResult {
  if (shape.length !== 2) {
    throw new RangeError(`blockMagnitudeMask: 'shape' must have rank 2, but got ${describeParam(shape)}.`);
  }
  assertFinite(values, weightName);
  const [rows, cols] = shape;
  const [bh, bw] = blockSize;
  const blockRows = Math.ceil(rows / bh);
  const blockCols = Math.ceil(cols / bw);
  const pooled = new Float32Array(blockRows * blockCols);
  if (pooling === 'max') {
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const b = Math.floor(r / bh) * blockCols + Math.floor(c / bw);
        pooled[b] = Math.max(pooled[b], Math.abs(values[r * cols + c]));
      }
    }
  } else {
    const sums = new Float64Array(pooled.length);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) sums[Math.floor(r / bh) * blockCols + Math.floor(c / bw)] += Math.abs(values[r * cols + c]);
    }
    for (let br = 0; br < blockRows; br++) {
      const height = Math.min(bh, rows - br * bh);
      for (let bc = 0; bc < blockCols; bc++) {
        const width = Math.min(bw, cols - bc * bw);
        pooled[br * blockCols + bc] = sums[br * blockCols + bc] / (height * width);
      }
    }
  }
  const {mask: blockMask, threshold} = magnitudeMask(pooled, sparsity, weightName);
  const mask = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) mask[r * cols + c] = blockMask[Math.floor(r / bh) * blockCols + Math.floor(c / bw)];
  }
  return {mask, threshold};
}
