// Block, M-by-N and global masks as pure functions (SPEC section 7; section 4 for the k-rule).
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';

import {PruningError, isPrunedMByN} from '../../src';
import {
  blockMagnitudeMask,
  globalMagnitudeMasks,
  keepCount,
  mByNMask,
  magnitudeMask,
} from '../../src/sparsity/pruning_impl';

const f32 = (values: number[]) => Float32Array.from(values);
const flat = (rows: number[][]) => f32(rows.flat());
const asRows = (mask: Float32Array, cols: number) =>
  Array.from({length: mask.length / cols}, (_, r) => Array.from(mask.subarray(r * cols, (r + 1) * cols)));

describe('block sparsity (tfmot reference vectors, sparsity 0.5)', () => {
  it('avg pooling over 2x2 blocks keeps the two bottom blocks', () => {
    const w = [[.1, .1, .2, .2], [.1, .1, .2, .2], [.3, .3, .4, .4], [.3, .3, .4, .4]];
    const {mask} = blockMagnitudeMask(flat(w), [4, 4], [2, 2], 'avg', 0.5);
    expect(asRows(mask, 4)).toEqual([[0, 0, 0, 0], [0, 0, 0, 0], [1, 1, 1, 1], [1, 1, 1, 1]]);
  });

  it('max pooling over 2x2 blocks gives the same mask from sparse, signed blocks', () => {
    const w = [[.1, 0, .2, 0], [0, -.1, 0, -.2], [.3, 0, .4, 0], [0, -.3, 0, -.4]];
    const {mask} = blockMagnitudeMask(flat(w), [4, 4], [2, 2], 'max', 0.5);
    expect(asRows(mask, 4)).toEqual([[0, 0, 0, 0], [0, 0, 0, 0], [1, 1, 1, 1], [1, 1, 1, 1]]);
  });

  it('reports the threshold on the pooled magnitudes', () => {
    const w = [[.1, .1, .2, .2], [.1, .1, .2, .2], [.3, .3, .4, .4], [.3, .3, .4, .4]];
    expect(blockMagnitudeMask(flat(w), [4, 4], [2, 2], 'avg', 0.5).threshold).toBeCloseTo(0.3, 6);
  });

  it('starts blocks at index 0 and pools a partial last block over what it holds', () => {
    // 3x3 weight, 2x2 blocks: blocks hold 4, 2, 2 and 1 weights.
    // avg |w|: top-left (1+1+1+1)/4 = 1, top-right (5+5)/2 = 5, bottom-left (2+2)/2 = 2, bottom-right 3.
    const w = [[1, -1, 5], [1, 1, -5], [2, -2, 3]];
    const {mask} = blockMagnitudeMask(flat(w), [3, 3], [2, 2], 'avg', 0.5);
    expect(asRows(mask, 3)).toEqual([[0, 0, 1], [0, 0, 1], [0, 0, 1]]);
    const max = blockMagnitudeMask(flat([[1, -1, 5], [4, 1, -5], [2, -2, 3]]), [3, 3], [2, 2], 'max', 0.75);
    expect(asRows(max.mask, 3)).toEqual([[0, 0, 1], [0, 0, 1], [0, 0, 0]]);
  });

  it('applies the k-rule to the number of blocks (2 of 5 blocks kept at 0.5, half to even)', () => {
    // 1x5 weight, 1x1 blocks would keep 2; 1x2 blocks: 3 blocks (the last partial), keep round(1.5) = 2.
    const {mask} = blockMagnitudeMask(f32([1, 1, 3, 3, 2]), [1, 5], [1, 2], 'avg', 0.5);
    expect(Array.from(mask)).toEqual([0, 0, 1, 1, 1]);
  });

  it('is the unstructured mask when the block is 1x1', () => {
    fc.assert(fc.property(
        fc.float32Array({minLength: 12, maxLength: 12, noNaN: true, noDefaultInfinity: true}),
        fc.double({min: 0, max: 0.99, noNaN: true}), (values, s) => {
          expect(Array.from(blockMagnitudeMask(values, [3, 4], [1, 1], 'max', s).mask))
              .toEqual(Array.from(magnitudeMask(values, s).mask));
        }), {numRuns: 100});
  });

  it('keeps every block of an all-zero weight and rejects NaN with the flat index', () => {
    expect(Array.from(blockMagnitudeMask(new Float32Array(4), [2, 2], [2, 1], 'avg', 0.5).mask)).toEqual([1, 1, 1, 1]);
    expect(() => blockMagnitudeMask(f32([1, 2, NaN, 4]), [2, 2], [2, 2], 'avg', 0.5, 'weight "k"'))
        .toThrow(new PruningError('Cannot prune weight "k": it holds NaN (at flat index 2). Pruning needs finite ' +
                                  'weights; check the training for divergence.'));
  });
});

describe('M-by-N sparsity (tfmot reference vectors)', () => {
  it('2:4 on a Dense kernel [4, 2] keeps the two largest of each output\'s group', () => {
    const w = [[.74, .68], [-.89, -.45], [-1.68, 1.24], [.31, -.6]];
    expect(asRows(mByNMask(flat(w), [4, 2], [2, 4]).mask, 2)).toEqual([[0, 1], [1, 0], [1, 1], [0, 0]]);
  });

  it('2:4 on a Conv2D kernel [1, 1, 4, 2] groups along the input channels', () => {
    const w = [[-.36, -.77], [-.43, -.18], [.12, 1.36], [.77, .96]];
    expect(asRows(mByNMask(flat(w), [1, 1, 4, 2], [2, 4]).mask, 2)).toEqual([[0, 0], [1, 0], [0, 1], [1, 1]]);
  });

  it('1:2 on the same Conv2D kernel keeps the larger of each pair', () => {
    const w = [[-.36, -.77], [-.43, -.18], [.12, 1.36], [.77, .96]];
    expect(asRows(mByNMask(flat(w), [1, 1, 4, 2], [1, 2]).mask, 2)).toEqual([[0, 1], [1, 0], [0, 1], [1, 0]]);
  });

  it('2:4 on a Dense kernel with 3 inputs: the partial group keeps min(3, 2) = 2', () => {
    const w = [[1.92, -.21], [-.19, .57], [1.1, -.42]];
    expect(asRows(mByNMask(flat(w), [3, 2], [2, 4]).mask, 2)).toEqual([[1, 0], [0, 1], [1, 1]]);
  });

  it('2:4 on 7 input channels zeroes 3 of 7 = 0.428571 of a Conv2D kernel', () => {
    const shape = [3, 3, 7, 5];
    const values = tf.tidy(() => tf.randomUniform(shape, -1, 1, 'float32', 3).dataSync() as Float32Array);
    const {mask} = mByNMask(values, shape, [2, 4]);
    const zeros = mask.reduce((n, m) => n + (m === 0 ? 1 : 0), 0);
    expect(zeros / mask.length).toBeCloseTo(0.428571, 6);
  });

  it('breaks ties by keeping the lower index', () => {
    expect(Array.from(mByNMask(f32([2, 2, 2, 2]), [4, 1], [2, 4]).mask)).toEqual([1, 1, 0, 0]);
    expect(Array.from(mByNMask(f32([1, -3, 3, 0]), [4, 1], [3, 4]).mask)).toEqual([0, 1, 0, 0]);
  });

  it('lays out a rank-4 kernel [h, w, in, out] by (h, w, out), grouping along in', () => {
    // h=1, w=2, in=2, out=1: groups are (w0: in0, in1) and (w1: in0, in1).
    expect(Array.from(mByNMask(f32([1, 5, 6, 2]), [1, 2, 2, 1], [1, 2]).mask)).toEqual([0, 1, 1, 0]);
  });

  it('rejects NaN with the flat index', () => {
    expect(() => mByNMask(f32([1, Infinity]), [2, 1], [1, 2], 'weight "k"'))
        .toThrow('Cannot prune weight "k": it holds an infinite value (at flat index 1).');
  });
});

describe('isPrunedMByN', () => {
  it('accepts a 2:4 kernel and refuses it at 3:4', async () => {
    const kernel = tf.tensor2d([[0, 1], [2, 0], [0, 3], [4, 0]]);
    await expect(isPrunedMByN(kernel, [2, 4])).resolves.toBe(true);
    await expect(isPrunedMByN(kernel, [3, 4])).resolves.toBe(false);
    kernel.dispose();
  });

  it('agrees with the masks mByNMask produces, partial groups included (property)', async () => {
    await fc.assert(fc.asyncProperty(
        fc.integer({min: 1, max: 9}), fc.integer({min: 1, max: 3}), fc.integer({min: 1, max: 5}),
        fc.integer({min: 1, max: 4}), fc.nat(1000), async (inChannels, outChannels, n1, m1, seed) => {
          const n = n1 + 1;
          const m = Math.min(m1, n - 1);
          const shape = [inChannels, outChannels];
          const values = tf.tidy(() => tf.randomUniform(shape, -1, 1, 'float32', seed).dataSync() as Float32Array);
          const {mask} = mByNMask(values, shape, [m, n]);
          const masked = tf.tensor(values.map((v, i) => v * mask[i]), shape);
          const ok = await isPrunedMByN(masked, [m, n]);
          masked.dispose();
          expect(ok).toBe(true);
        }), {numRuns: 60});
  });

  it('checks rank-4 tensors along the input-channel axis', async () => {
    // [1, 1, 4, 1]: in = 4 -> one group; [1, 4, 1, 1]: in = 1 -> four groups of one, which keep 1 each.
    const sparse = tf.tensor4d([0, 0, 1, 1], [1, 1, 4, 1]);
    const alongWidth = tf.tensor4d([0, 0, 1, 1], [1, 4, 1, 1]);
    const oneZero = tf.tensor4d([0, 1, 1, 1], [1, 1, 4, 1]);
    await expect(isPrunedMByN(sparse, [2, 4])).resolves.toBe(true);
    await expect(isPrunedMByN(alongWidth, [2, 4])).resolves.toBe(true);
    await expect(isPrunedMByN(oneZero, [2, 4])).resolves.toBe(false);
    tf.dispose([sparse, alongWidth, oneZero]);
  });

  it.each<[string, unknown, unknown, ErrorConstructor, string]>([
    ['a non-tensor', [[0, 1]], [2, 4], TypeError, "isPrunedMByN: 'weights' must be a tf.Tensor, but got an array of length 1."],
    ['a rank-3 tensor', 'rank3', [2, 4], RangeError, "isPrunedMByN: 'weights' must have rank 2 or 4, but got a tensor of shape [2, 2, 2]."],
    ['m >= n', 'rank2', [4, 4], RangeError, "isPrunedMByN: 'mByN' must satisfy 1 <= m < n, but got [4, 4]."],
    ['a non-integer pair', 'rank2', [2, 4.5], TypeError, "isPrunedMByN: 'mByN' must be an array of two integers [m, n], but got [2, 4.5]."],
  ])('rejects %s', async (_what, weights, mByN, type, message) => {
    const tensor = weights === 'rank3' ? tf.zeros([2, 2, 2]) : weights === 'rank2' ? tf.zeros([4, 2]) : weights;
    await expect(isPrunedMByN(tensor as tf.Tensor, mByN as [number, number])).rejects.toThrow(type);
    await expect(isPrunedMByN(tensor as tf.Tensor, mByN as [number, number])).rejects.toThrow(message);
    if (tensor instanceof tf.Tensor) tensor.dispose();
  });
});

describe('global magnitude masks', () => {
  it('cuts several weights at one threshold and keeps k of the total', () => {
    const a = f32([1, 2, 3, 4]);
    const b = f32([10, 20]);
    const {masks, threshold} = globalMagnitudeMasks([a, b], 0.5);
    expect(threshold).toBe(4);
    expect(masks.map((m) => Array.from(m))).toEqual([[0, 0, 0, 1], [1, 1]]);
  });

  it('keeps exactly keepCount(total, s) weights without ties, across any split (property)', () => {
    fc.assert(fc.property(
        fc.uniqueArray(fc.integer({min: 1, max: 100000}), {minLength: 2, maxLength: 200}), fc.nat(),
        fc.double({min: 0, max: 0.999, noNaN: true}), (ints, cut, s) => {
          const values = f32(ints.map((v, i) => (i % 2 === 0 ? v : -v)));
          const split = 1 + (cut % (values.length - 1));
          const {masks} = globalMagnitudeMasks([values.slice(0, split), values.slice(split)], s);
          const kept = masks.reduce((n, m) => n + m.reduce((a, b) => a + b, 0), 0);
          expect(kept).toBe(keepCount(values.length, s));
          expect(Array.from(masks[0]).concat(Array.from(masks[1]))).toEqual(Array.from(magnitudeMask(values, s).mask));
        }), {numRuns: 200});
  });

  it('names the weight that holds NaN', () => {
    expect(() => globalMagnitudeMasks([f32([1]), f32([2, NaN])], 0.5, ['weight "a"', 'weight "b"']))
        .toThrow('Cannot prune weight "b": it holds NaN (at flat index 1).');
  });

  it('gives empty masks for empty weights', () => {
    expect(globalMagnitudeMasks([new Float32Array(0)], 0.5)).toEqual({masks: [new Float32Array(0)], threshold: 0});
  });
});
