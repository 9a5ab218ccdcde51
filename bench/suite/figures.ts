/**
 * What the benchmark suite reports: each figure is a ratio (or a rate, or a
 * size) against a baseline measured in the same run, with its median, its
 * spread and the target it is held to. Also the sizes and sample counts of
 * each run mode.
 */
import type {Summary} from './harness';

export type Backend = 'wasm' | 'cpu';
export type Mode = 'full' | 'quick' | 'smoke';

/** A bound a figure's median must respect. */
export interface Target {
  comparison: '<=' | '>=';
  value: number;
  /** As the issue states it, e.g. "at most 1.05x". */
  text: string;
}

/** One measured figure on one backend. */
export interface Figure {
  /** Stable identifier, the same on every backend (e.g. `training-frequency-100`). */
  id: string;
  backend: Backend;
  /** What is measured, in a few words. */
  title: string;
  /** What the figure is compared with. */
  baseline: string;
  /** `x` for ratios (subject / baseline, or baseline / subject for a speed-up), `MB/s`, `of bound`. */
  unit: string;
  /** The median of the per-round values, and their spread. */
  median: number;
  spread: Omit<Summary, 'median'>;
  target: Target | null;
  /** Whether the median meets the target (null without a target). */
  met: boolean | null;
  /** The measurements behind the figure (times in ms, sizes in bytes, ...). */
  details: Record<string, unknown>;
}

/** Builds a figure from per-round values, judging the median against the target. */
export function figure(
    fields: Omit<Figure, 'median' | 'spread' | 'met'>, summary: Summary): Figure {
  const {median, ...spread} = summary;
  const {target} = fields;
  const met = target === null ? null : target.comparison === '<=' ? median <= target.value : median >= target.value;
  return {...fields, median, spread, met};
}

/** How many calls a comparison makes. */
export interface Rounds {
  warmup: number;
  rounds: number;
  perRound: number;
}

/** Sizes and sample counts of one run of the suite on one backend. */
export interface Settings {
  /** Batch size of the training and inference figures. */
  batch: number;
  training: Rounds;
  maskUpdate: {kernelShape: [number, number]; vsAbs: Rounds; vsTfmot: Rounds};
  quantization: {denseUnits: [number, number, number]; rounds: Rounds};
  inference: Rounds;
  /** Channel pruning: predict at batch 1 (`single`) and at a batch of `batch` (`batched`), each interleaved. */
  channels: {batch: number; single: Rounds; batched: Rounds};
  /** Sparse kernels: each product figure (`kernel`) and the MobileNetV1-style predict (`model`). */
  sparse: {kernel: Rounds; model: Rounds};
}

/**
 * The settings of a mode on a backend. `full` is what the published table
 * uses; `quick` proves the suite works in CI (2-core machine, a few minutes);
 * `smoke` is the smallest run that still produces every figure.
 */
export function settingsFor(mode: Mode, backend: Backend): Settings {
  const cpu = backend === 'cpu';
  if (mode === 'smoke') {
    return {
      batch: 16,
      training: {warmup: 1, rounds: 2, perRound: 1},
      maskUpdate: {kernelShape: [160, 256], vsAbs: {warmup: 1, rounds: 2, perRound: 1}, vsTfmot: {warmup: 1, rounds: 2, perRound: 1}},
      quantization: {denseUnits: [100, 200, 100], rounds: {warmup: 0, rounds: 2, perRound: 1}},
      inference: {warmup: 1, rounds: 2, perRound: 1},
      channels: {batch: 2, single: {warmup: 0, rounds: 1, perRound: 1}, batched: {warmup: 0, rounds: 1, perRound: 1}},
      sparse: {kernel: {warmup: 1, rounds: 2, perRound: 1}, model: {warmup: 0, rounds: 1, perRound: 1}},
    };
  }
  if (mode === 'quick') {
    return {
      batch: cpu ? 64 : 250,
      training: {warmup: 1, rounds: 6, perRound: 1},
      maskUpdate: {
        kernelShape: [1600, 256],
        vsAbs: {warmup: 5, rounds: 20, perRound: 3},
        vsTfmot: {warmup: 1, rounds: 5, perRound: 1},
      },
      quantization: {denseUnits: [1000, 1250, 1000], rounds: {warmup: 1, rounds: 5, perRound: 1}},
      inference: {warmup: 2, rounds: cpu ? 8 : 20, perRound: 1},
      channels: cpu ?
        {batch: 4, single: {warmup: 1, rounds: 3, perRound: 1}, batched: {warmup: 1, rounds: 3, perRound: 1}} :
        {batch: 32, single: {warmup: 2, rounds: 8, perRound: 3}, batched: {warmup: 1, rounds: 5, perRound: 1}},
      sparse: cpu ?
        {kernel: {warmup: 2, rounds: 6, perRound: 3}, model: {warmup: 1, rounds: 3, perRound: 1}} :
        {kernel: {warmup: 5, rounds: 10, perRound: 10}, model: {warmup: 2, rounds: 6, perRound: 2}},
    };
  }
  return {
    batch: 250,
    training: cpu ? {warmup: 2, rounds: 12, perRound: 1} : {warmup: 3, rounds: 30, perRound: 1},
    maskUpdate: {
      kernelShape: [1600, 256],
      vsAbs: {warmup: 20, rounds: 60, perRound: 5},
      vsTfmot: {warmup: 2, rounds: cpu ? 9 : 15, perRound: 1},
    },
    quantization: {denseUnits: [2500, 5000, 2500], rounds: {warmup: 1, rounds: 7, perRound: 1}},
    inference: cpu ? {warmup: 2, rounds: 20, perRound: 1} : {warmup: 5, rounds: 60, perRound: 3},
    channels: cpu ?
      {batch: 32, single: {warmup: 2, rounds: 12, perRound: 5}, batched: {warmup: 1, rounds: 12, perRound: 1}} :
      {batch: 32, single: {warmup: 10, rounds: 30, perRound: 20}, batched: {warmup: 3, rounds: 30, perRound: 3}},
    sparse: cpu ?
      {kernel: {warmup: 3, rounds: 15, perRound: 5}, model: {warmup: 1, rounds: 8, perRound: 1}} :
      {kernel: {warmup: 20, rounds: 30, perRound: 30}, model: {warmup: 3, rounds: 20, perRound: 3}},
  };
}
