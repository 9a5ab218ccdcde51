/**
 * The second moments of a kernel's inputs, `H = sum of x x^T` over every
 * vector the kernel multiplies (a row of a MatMul's activations, a patch of a
 * convolution's), which GPTQ needs: `w^T H w` is the summed square of the
 * outputs a kernel column `w` produces on the calibration inputs, so the
 * rounding that keeps `(w - q)^T H (w - q)` small keeps the op's outputs.
 *
 * Rows of H follow the kernel's own flattening: a convolution filter
 * `[kh, kw, in, out]` has rows `(ky * kw + kx) * in + c`; a depthwise filter
 * `[kh, kw, channels, multiplier]` has one H per channel, rows `ky * kw + kx`.
 */
import {dot} from './dot';

/** How a graph op or layer applies a kernel: the geometry the Hessian needs. */
export type KernelOp =
  | {kind: 'matmul'}
  | {kind: 'conv2d' | 'depthwise'; strides: [number, number]; dilations: [number, number]; padding: Padding};

/** `'same'`, `'valid'`, or explicit `[[top, bottom], [left, right]]`. */
export type Padding = 'same' | 'valid' | [[number, number], [number, number]];

/** H of one kernel, summed over calibration batches. */
export interface Hessian {
  /** Rows (and columns) of one block. */
  d: number;
  /** Blocks: 1, or the channels of a depthwise filter. */
  blocks: number;
  /** `blocks` row-major d x d matrices. */
  h: Float64Array;
  /** Vectors summed. */
  count: number;
}

export function newHessian(d: number, blocks = 1): Hessian {
  return {d, blocks, h: new Float64Array(blocks * d * d), count: 0};
}

/**
 * Vectors summed per batch at most: beyond, an evenly spaced subset (starting
 * at a different vector each batch). Neighbouring patches of a feature map are
 * close to each other, and GPTQ's H needs its directions, not every sample;
 * this keeps a 128x128 feature map from costing `16384 x d^2` per image.
 */
export const MAX_ROWS_PER_BATCH = 4096;

/** The stride and first index of the vectors summed among `total`, for a Hessian that has summed `count`. */
function sampling(total: number, count: number, maxRows: number): {step: number; first: number} {
  const step = Math.max(1, Math.ceil(total / maxRows));
  return {step, first: count % step};
}

/** Adds `v v^T` (upper triangle only; see {@link symmetrize}) to the block at `offset`. */
function addOuter(h: Float64Array, offset: number, v: Float64Array, d: number): void {
  for (let i = 0; i < d; i++) {
    const vi = v[i];
    if (vi === 0) continue;
    const row = offset + i * d;
    for (let j = i; j < d; j++) h[row + j] += vi * v[j];
  }
}

/** Vectors gathered before they are added to H together: H is then read once per this many vectors. */
const BLOCK = 32;

/**
 * Vectors of length d gathered column by column (`t[i * BLOCK + r]`) and added
 * to the upper triangle of H a block at a time: a rank-one update per vector
 * reads and writes all of H, which for a few thousand inputs is far beyond the
 * caches; a block of dot products reads it once per {@link BLOCK} vectors.
 */
class BlockedSum {
  private readonly t: Float64Array;
  private filled = 0;

  constructor(private readonly h: Float64Array, private readonly d: number) {
    this.t = new Float64Array(d * BLOCK);
  }

  add(v: ArrayLike<number>): void {
    const {t, d} = this;
    const r = this.filled;
    for (let i = 0; i < d; i++) t[i * BLOCK + r] = v[i];
    if (++this.filled === BLOCK) this.flush();
  }

  flush(): void {
    const {t, d, h} = this;
    const n = this.filled;
    if (n === 0) return;
    for (let i = 0; i < d; i++) {
      const row = i * d;
      for (let j = i; j < d; j++) {
        h[row + j] += dot(t, i * BLOCK, t, j * BLOCK, n);
      }
    }
    this.filled = 0;
  }
}

/** Copies the upper triangle of each block to its lower one (the accumulators fill the upper one). */
export function symmetrize(hessian: Hessian): void {
  const {d, h} = hessian;
  for (let b = 0; b < hessian.blocks; b++) {
    const o = b * d * d;
    for (let i = 0; i < d; i++) for (let j = i + 1; j < d; j++) h[o + j * d + i] = h[o + i * d + j];
  }
}

/** Adds the rows of `x` (any shape whose last axis is `hessian.d`): a MatMul's activations. */
export function addMatMulInputs(hessian: Hessian, x: Float32Array, maxRows = MAX_ROWS_PER_BATCH): void {
  const {d} = hessian;
  const sum = new BlockedSum(hessian.h, d);
  const rows = Math.floor(x.length / d);
  const {step, first} = sampling(rows, hessian.count, maxRows);
  for (let r = first; r < rows; r += step) {
    sum.add(x.subarray(r * d, (r + 1) * d));
    hessian.count++;
  }
  sum.flush();
}

/** The output size and leading padding of one spatial axis, as TensorFlow computes them. */
function axisGeometry(size: number, k: number, stride: number, dilation: number, padding: Padding, axis: 0 | 1):
    {out: number; before: number} {
  const span = (k - 1) * dilation + 1;
  if (padding === 'same') {
    const out = Math.ceil(size / stride);
    return {out, before: Math.floor(Math.max((out - 1) * stride + span - size, 0) / 2)};
  }
  const [before, after] = padding === 'valid' ? [0, 0] : padding[axis];
  return {out: Math.max(Math.floor((size + before + after - span) / stride) + 1, 0), before};
}

/**
 * Adds the patches of NHWC activations `x` (`shape` `[batch, height, width,
 * channels]`) read by a `[kh, kw]` window: one vector of `kh * kw * channels`
 * per output position (kind `'conv2d'`), or per channel one of `kh * kw`
 * (kind `'depthwise'`, one H block per channel).
 */
export function addConvInputs(hessian: Hessian, x: Float32Array, shape: readonly number[], kh: number, kw: number,
    op: Extract<KernelOp, {kind: 'conv2d' | 'depthwise'}>, maxRows = MAX_ROWS_PER_BATCH): void {
  const [batch, height, width, channels] = shape;
  const rows = axisGeometry(height, kh, op.strides[0], op.dilations[0], op.padding, 0);
  const cols = axisGeometry(width, kw, op.strides[1], op.dilations[1], op.padding, 1);
  const depthwise = op.kind === 'depthwise';
  const d = hessian.d;
  const patch = new Float64Array(depthwise ? kh * kw * channels : d);
  const v = new Float64Array(d);
  const sum = depthwise ? null : new BlockedSum(hessian.h, d);
  const perImage = rows.out * cols.out;
  const {step, first} = sampling(batch * perImage, hessian.count, maxRows);
  for (let p = first; p < batch * perImage; p += step) {
    const b = Math.floor(p / perImage);
    const oy = Math.floor((p % perImage) / cols.out);
    const ox = p % cols.out;
    let at = 0;
    for (let ky = 0; ky < kh; ky++) {
      const iy = oy * op.strides[0] + ky * op.dilations[0] - rows.before;
      for (let kx = 0; kx < kw; kx++) {
        const ix = ox * op.strides[1] + kx * op.dilations[1] - cols.before;
        const inside = iy >= 0 && iy < height && ix >= 0 && ix < width;
        const base = ((b * height + iy) * width + ix) * channels;
        for (let c = 0; c < channels; c++) patch[at++] = inside ? x[base + c] : 0;
      }
    }
    if (depthwise) {
      // Per channel: its kh * kw values, every `channels` entries of the patch.
      for (let c = 0; c < channels; c++) {
        for (let i = 0; i < d; i++) v[i] = patch[i * channels + c];
        addOuter(hessian.h, c * d * d, v, d);
      }
    } else {
      sum!.add(patch);
    }
    hessian.count++;
  }
  sum?.flush();
}
