/**
 * Calibrated int8 rounding for quantizeArtifacts: the model runs once per
 * calibration batch, the activations each kernel multiplies are summed into
 * its Hessian, and GPTQ then rounds the kernel onto the very grid
 * round-to-nearest would use (the same `max|w| / 127` scales, per tensor or
 * per channel), so the codes and manifest entries keep their format and load
 * with the same loaders; only which way each value rounds changes.
 */
import * as tf from '@tensorflow/tfjs-core';

import {loadQuantizedLayersModel} from '../../quantization/load';
import {channelLayout, channelMaxAbs} from '../../quantization/codecs';
import {loadQuantizedGraphModel} from '../load_graph_model';
import type {ModelFormat} from '../model_format';
import type {ActivationSource, CalibrationBatch, KernelUse} from './consumer';
import {graphActivationSource, graphKernelUses} from './graph_source';
import {FREE, gptqRound} from './gptq';
import {addConvInputs, addMatMulInputs, newHessian, symmetrize} from './hessian';
import type {Hessian} from './hessian';
import {layersActivationSource} from './layers_source';

/**
 * A kernel to round: its float32 values, the axis of its int8 scales (null: one scale) and the
 * grids to try, each as the range of every scale (`scale = maxAbs / 127`: max|w|, or less where
 * the range is clipped); the one whose rounding moves the outputs least is kept.
 */
export interface CalibrationTarget {
  name: string;
  shape: readonly number[];
  values: Float32Array;
  axis: number | null;
  grids: Float64Array[];
}

const INT8_MAX = 127;

/** The size of the Hessian a kernel of `shape` read as `layout` needs: `blocks` of `d x d`. */
function hessianSize(use: KernelUse, shape: readonly number[]): {d: number; blocks: number} {
  if (use.layout === 'depthwise') return {d: shape[0] * shape[1], blocks: shape[2]};
  if (use.layout === 'outputs-inputs') return {d: shape[1], blocks: 1};
  return {d: shape.slice(0, -1).reduce((a, b) => a * b, 1), blocks: 1};
}

/** Adds one batch's activations of `use`; false when their shape does not fit the kernel. */
async function accumulate(hessian: Hessian, use: KernelUse, shape: readonly number[], x: tf.Tensor): Promise<boolean> {
  if (x.dtype !== 'float32') return false;
  if (use.op.kind === 'matmul') {
    if (x.rank < 1 || x.shape[x.rank - 1] !== hessian.d) return false;
    addMatMulInputs(hessian, await x.data() as Float32Array);
    return true;
  }
  if (x.rank !== 4 || x.shape[3] !== shape[2]) return false;
  addConvInputs(hessian, await x.data() as Float32Array, x.shape, shape[0], shape[1], use.op);
  return true;
}

/**
 * The matrices GPTQ rounds for a kernel: per block (one, or one per depthwise
 * channel), the index into the kernel's values of each `[input, output]` entry.
 */
function blocksOf(layout: KernelUse['layout'], shape: readonly number[]):
    Array<{d: number; m: number; index: (i: number, j: number) => number}> {
  if (layout === 'depthwise') {
    const [kh, kw, channels, multiplier] = shape;
    return Array.from({length: channels}, (_, c) =>
      ({d: kh * kw, m: multiplier, index: (i: number, j: number) => (i * channels + c) * multiplier + j}));
  }
  if (layout === 'outputs-inputs') {
    const [n, k] = shape;
    return [{d: k, m: n, index: (i: number, j: number) => j * k + i}];
  }
  const m = shape[shape.length - 1];
  const d = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  return [{d, m, index: (i: number, j: number) => i * m + j}];
}

/**
 * `target`'s values rounded by GPTQ onto the int8 grid of ranges `maxAbs`,
 * with the output error that rounding leaves (the sum over output columns of
 * `(w - q)^T H (w - q)`), or null when its scales do not follow the matrix's
 * columns or H could not be factored.
 */
export function roundWithHessian(target: CalibrationTarget, layout: KernelUse['layout'], hessian: Hessian,
    maxAbs: Float64Array, measure = true): {values: Float32Array; loss: number} | null {
  const {values, shape} = target;
  const layout0 = channelLayout(shape, target.axis);
  const largestValue = channelMaxAbs(values, layout0);
  const channelOf = (index: number) => Math.floor(index / layout0.inner) % layout0.channels;
  // Fixed codes: zeros stay zero (pruned kernels keep their sparsity); each channel's largest
  // magnitude keeps the code that sets its scale (the end of the grid, also where it is clipped).
  const fixed = new Int16Array(values.length).fill(FREE);
  const largest = new Int32Array(layout0.channels).fill(-1);
  for (let i = 0; i < values.length; i++) {
    const c = channelOf(i);
    if (values[i] === 0) fixed[i] = 0;
    else if (largest[c] < 0 && Math.abs(values[i]) === largestValue[c]) largest[c] = i;
  }
  largest.forEach((i) => {
    if (i >= 0) fixed[i] = Math.sign(values[i]) * INT8_MAX;
  });
  const out = new Float32Array(values.length);
  let loss = 0;
  const blocks = blocksOf(layout, shape);
  for (let b = 0; b < blocks.length; b++) {
    const {d, m, index} = blocks[b];
    const scales = new Float64Array(m);
    for (let j = 0; j < m; j++) {
      const c = channelOf(index(0, j));
      for (let i = 1; i < d; i++) if (channelOf(index(i, j)) !== c) return null;
      scales[j] = maxAbs[c] > 0 ? maxAbs[c] / INT8_MAX : 1;
    }
    const w = new Float64Array(d * m);
    const blockFixed = new Int16Array(d * m);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < m; j++) {
        w[i * m + j] = values[index(i, j)];
        blockFixed[i * m + j] = fixed[index(i, j)];
      }
    }
    const h = hessian.h.subarray(b * d * d, (b + 1) * d * d);
    if (!gptqRound({w, d, m, h, scales, maxCode: INT8_MAX, fixed: blockFixed})) return null;
    const e = new Float64Array(d);
    for (let j = 0; measure && j < m; j++) {
      for (let i = 0; i < d; i++) e[i] = values[index(i, j)] - w[i * m + j];
      for (let i = 0; i < d; i++) {
        if (e[i] === 0) continue;
        let row = 0;
        for (let k = 0; k < d; k++) row += h[i * d + k] * e[k];
        loss += e[i] * row;
      }
    }
    for (let i = 0; i < d; i++) for (let j = 0; j < m; j++) out[index(i, j)] = w[i * m + j];
  }
  return {values: out, loss};
}

/** The source of activations for a model of `format`, loaded from `artifacts`. */
async function sourceFor(artifacts: tf.io.ModelArtifacts, format: ModelFormat, targets: readonly CalibrationTarget[]):
    Promise<ActivationSource> {
  const names = new Set(targets.map((t) => t.name));
  if (format === 'layers') return layersActivationSource(await loadQuantizedLayersModel(artifacts), names);
  const shapes = new Map((artifacts.weightSpecs ?? []).map((spec) => [spec.name, spec.shape] as const));
  const uses = graphKernelUses(artifacts.modelTopology as Record<string, unknown>, shapes)
    .filter((use) => names.has(use.weight));
  return graphActivationSource(await loadQuantizedGraphModel(artifacts), uses);
}

/** Kernels with more inputs than this are rounded to nearest (H alone would take 128 MiB, its factors twice that). */
export const MAX_CALIBRATED_INPUTS = 4096;

/** The Hessians summed at once, in bytes: more kernels than fit run the calibration batches again. */
export const HESSIAN_BUDGET = 256 * 1024 * 1024;

/** The kernels whose Hessians fit the budget together, in order. */
function groupsWithin<T extends {bytes: number}>(items: T[], budget: number): T[][] {
  const groups: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    if (current.length > 0 && bytes + item.bytes > budget) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += item.bytes;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/**
 * GPTQ-rounded values of the `targets` the calibration inputs reach (by
 * name); the others (kernels no supported op reads, of more than
 * {@link MAX_CALIBRATED_INPUTS} inputs, or whose activations never fit
 * them) are left to round-to-nearest. The Hessians of at most
 * {@link HESSIAN_BUDGET} bytes are summed at once; the batches run once per
 * such group.
 *
 * @param onStep Called after each step (a batch run for a group, a rounded kernel) with the total.
 * @throws Error naming `caller` and the batch when the model cannot run on a batch.
 */
export async function calibrateInt8(caller: string, artifacts: tf.io.ModelArtifacts, format: ModelFormat,
    targets: readonly CalibrationTarget[], batches: readonly CalibrationBatch[],
    onStep?: (total: number) => Promise<void>): Promise<Map<string, Float32Array>> {
  let source: ActivationSource;
  try {
    source = await sourceFor(artifacts, format, targets);
  } catch (e) {
    throw new Error(`${caller}: calibration runs the model, which could not be loaded: ${(e as Error).message}`);
  }
  const byName = new Map(targets.map((t) => [t.name, t]));
  const kernels = new Map<string, {name: string; uses: KernelUse[]; bytes: number}>();
  const unusable = new Set<string>();
  for (const use of source.uses) {
    const entry = kernels.get(use.weight);
    if (entry !== undefined) {
      if (entry.uses[0].layout !== use.layout) unusable.add(use.weight);
      entry.uses.push(use);
      continue;
    }
    const {d, blocks} = hessianSize(use, byName.get(use.weight)!.shape);
    if (d > MAX_CALIBRATED_INPUTS) unusable.add(use.weight);
    kernels.set(use.weight, {name: use.weight, uses: [use], bytes: 8 * blocks * d * d});
  }
  const groups = groupsWithin([...kernels.values()].filter((k) => !unusable.has(k.name)), HESSIAN_BUDGET);
  const total = groups.length * batches.length + groups.reduce((sum, g) => sum + g.length, 0);
  const rounded = new Map<string, Float32Array>();
  try {
    for (const group of groups) {
      const hessians = new Map(group.map((k) => {
        const {d, blocks} = hessianSize(k.uses[0], byName.get(k.name)!.shape);
        return [k.name, newHessian(d, blocks)];
      }));
      const keys = [...new Set(group.flatMap((k) => k.uses.map((u) => u.activations)))];
      for (let b = 0; b < batches.length; b++) {
        let run: Awaited<ReturnType<ActivationSource['run']>>;
        try {
          run = await source.run(batches[b], keys);
        } catch (e) {
          throw new Error(`${caller}: the model cannot run on calibration.inputs[${b}]: ${(e as Error).message}`);
        }
        try {
          for (const kernel of group) {
            for (const use of kernel.uses) {
              if (unusable.has(kernel.name)) break;
              const x = run.activations.get(use.activations);
              const fits = x !== undefined && await accumulate(hessians.get(kernel.name)!, use,
                  byName.get(kernel.name)!.shape, x);
              if (!fits) unusable.add(kernel.name);
            }
          }
        } finally {
          tf.dispose(run.owned);
        }
        await onStep?.(total);
      }
      for (const kernel of group) {
        const hessian = hessians.get(kernel.name)!;
        if (!unusable.has(kernel.name) && hessian.count > 0) {
          symmetrize(hessian);
          const target = byName.get(kernel.name)!;
          let best: {values: Float32Array; loss: number} | null = null;
          for (const grid of target.grids) {
            const result = roundWithHessian(target, kernel.uses[0].layout, hessian, grid, target.grids.length > 1);
            if (result !== null && (best === null || result.loss < best.loss)) best = result;
          }
          if (best !== null) rounded.set(kernel.name, best.values);
        }
        hessians.delete(kernel.name);
        await onStep?.(total);
      }
    }
  } finally {
    source.dispose();
  }
  return rounded;
}
