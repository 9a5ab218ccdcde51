/**
 * What channel pruning buys at inference. For three models (MobileNetV2-style,
 * ResNet-style with Add and Concatenate, the seed CNN), `predict` on
 *   - the original, at width 1, with random weights;
 *   - the shrunk model, `shrinkModel(zeroLeastImportantChannels(original, s).model)`;
 *   - the shrunk model with its BatchNormalization layers folded, `shrinkModel(zeroed, {foldBatchNorm: true})`;
 *   - "the limit": the same architecture built directly at width `1 - s`,
 *     which must have exactly the shrunk model's weight shapes (checked);
 * all interleaved, at batch 1 and at a batch of `settings.channels.batch`.
 * Figures: the shrunk model's speed-up over the original, its time over the
 * limit's, the limit's speed-up (what no channel pruning can beat), and the
 * parameter ratio, and the folded model's speed-up over the original. Before
 * timing, the shrunk and folded models' outputs are checked against the zeroed
 * model's (within 1e-5 relative), else the group throws.
 * Targets from issue 16: speed-ups on wasm at batch 32, the rest everywhere;
 * the folded speed-up is reported, with a target on wasm at batch 1 where one is set.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import {zeroLeastImportantChannels} from '../../src/channels/one_shot';
import {shrinkModel} from '../../src/channels/shrink';
import {mobileNetV2Style, parameterCount, resNetStyle, seedCnnAtWidth, weightShapes} from '../models';
import {disposeWithOptimizer, seedCnn} from '../seed_cnn';
import {Backend, Figure, Settings, Target, figure} from './figures';
import {Interleaved, interleave, pairedRatios, summarize} from './harness';

/** The batch at which issue 16 states its batched targets. */
const TARGET_BATCH = 32;
/** The shrunk model's outputs must equal the zeroed model's within this (max |a - b| / max |a|). */
const OUTPUT_TOLERANCE = 1e-5;

/** One sparsity of one model, and what issue 16 asks of it. */
interface Level {
  sparsity: number;
  /** Least speed-up over the original on wasm, at batch 1 and at batch 32. */
  speedup: {single: number; batched: number};
  /** Most parameters of the shrunk model relative to the original, or null (reported only). */
  parameters: number | null;
  /** Least speed-up of the folded model over the original on wasm at batch 1, or undefined (reported only). */
  foldedSingle?: number;
}

interface Subject {
  /** In figure ids: `channels-${id}-50-...`. */
  id: string;
  title: string;
  build: (width: number) => tfl.LayersModel;
  inputShape: number[];
  levels: Level[];
}

const SUBJECTS: readonly Subject[] = [
  {
    id: 'mobilenetv2', title: 'MobileNetV2-style (64x64x3)', build: mobileNetV2Style, inputShape: [64, 64, 3],
    levels: [
      {sparsity: 0.5, speedup: {single: 1.6, batched: 2}, parameters: 0.35},
      {sparsity: 0.75, speedup: {single: 2.4, batched: 3.8}, parameters: null, foldedSingle: 2.4},
    ],
  },
  {
    id: 'resnet', title: 'ResNet-style with Add and Concatenate (32x32x3)', build: resNetStyle, inputShape: [32, 32, 3],
    levels: [{sparsity: 0.5, speedup: {single: 2.4, batched: 2.8}, parameters: 0.35}],
  },
  {
    id: 'seed-cnn', title: 'seed CNN (28x28x1)', build: seedCnnAtWidth, inputShape: [28, 28, 1],
    levels: [{sparsity: 0.5, speedup: {single: 1.8, batched: 2.7}, parameters: 0.35}],
  },
];

/** A model's layers as class and weight shapes, without names (to compare with a model named otherwise). */
function architecture(model: tfl.LayersModel): string[] {
  return model.layers.map((l) => `${l.getClassName()} ${l.weights.map((w) => w.shape.join('x')).join(', ')}`);
}

/** Throws unless seedCnnAtWidth(1) has the layers and weight shapes of bench/seed_cnn.ts's seedCnn(). */
function checkSeedCnnBuilder(): void {
  const reference = seedCnn();
  const ours = seedCnnAtWidth(1);
  try {
    const [a, b] = [architecture(reference), architecture(ours)];
    if (a.join('\n') !== b.join('\n')) {
      throw new Error(`bench channels: seedCnnAtWidth(1) is not seedCnn():\n  ${b.join('\n  ')}\nvs\n  ${a.join('\n  ')}`);
    }
  } finally {
    disposeWithOptimizer(reference);
    ours.dispose();
  }
}

/** Throws unless the shrunk model and the model built at the smaller width have the same weight shapes, layer by layer. */
function checkSameWidths(subject: Subject, sparsity: number, shrunk: tfl.LayersModel, limit: tfl.LayersModel): void {
  const [a, b] = [weightShapes(shrunk), weightShapes(limit)];
  const differing = a.flatMap((line, i) => (line === b[i] ? [] : [`shrunk ${line} | built ${b[i] ?? '(none)'}`]));
  if (a.length !== b.length) differing.push(`shrunk has ${a.length} layers with weights, built ${b.length}`);
  const [pa, pb] = [parameterCount(shrunk), parameterCount(limit)];
  if (differing.length > 0 || pa !== pb) {
    throw new Error(`bench channels: ${subject.title} shrunk at ${sparsity * 100}% has ${pa} parameters, ` +
        `built at width ${1 - sparsity} ${pb}; the limit would not be the same architecture:\n  ${differing.join('\n  ')}`);
  }
}

/** max |a - b| / max |a| over the outputs of two models on one input. */
function maxRelativeDifference(a: tfl.LayersModel, b: tfl.LayersModel, x: tf.Tensor): number {
  return tf.tidy(() => {
    const ya = a.predict(x) as tf.Tensor;
    const yb = b.predict(x) as tf.Tensor;
    const scale = tf.max(tf.abs(ya)).dataSync()[0] || 1;
    return tf.max(tf.abs(tf.sub(ya, yb))).dataSync()[0] / scale;
  });
}

/** Throws unless the shrunk (or folded) model computes the zeroed model's outputs; returns the largest relative difference. */
function checkOutputs(
    subject: Subject, sparsity: number, zeroed: tfl.LayersModel, shrunk: tfl.LayersModel, x: tf.Tensor,
    what = 'shrunk'): number {
  const difference = maxRelativeDifference(zeroed, shrunk, x);
  if (!(difference <= OUTPUT_TOLERANCE)) {
    throw new Error(`bench channels: ${subject.title} ${what} at ${sparsity * 100}% computes outputs that differ from ` +
        `the zeroed model's by ${difference} (relative), more than ${OUTPUT_TOLERANCE}.`);
  }
  return difference;
}

/** The models compared at one sparsity. */
interface Variant {
  level: Level;
  shrunk: tfl.LayersModel;
  /** The shrunk model with its BatchNormalization layers folded. */
  folded: tfl.LayersModel;
  limit: tfl.LayersModel;
  zeroedChannels: number;
  parameters: {shrunk: number; limit: number};
  maxRelativeDifference: number;
  foldedMaxRelativeDifference: number;
}

const percent = (sparsity: number) => Math.round(sparsity * 100);
const shrunkName = (level: Level) => `shrunk ${percent(level.sparsity)}%`;
const limitName = (level: Level) => `built at width ${1 - level.sparsity}`;
const foldedName = (level: Level) => `shrunk ${percent(level.sparsity)}%, BatchNorm folded`;

/** Builds the shrunk and limit models of one level and checks them; disposes what it built if a check fails. */
function prepare(subject: Subject, original: tfl.LayersModel, level: Level, check: tf.Tensor): Variant {
  const {model: zeroed, zeroed: zeroedChannels} = zeroLeastImportantChannels(original, level.sparsity);
  const built: tfl.LayersModel[] = [zeroed];
  try {
    const shrunk = shrinkModel(zeroed);
    built.push(shrunk);
    const limit = subject.build(1 - level.sparsity);
    built.push(limit);
    checkSameWidths(subject, level.sparsity, shrunk, limit);
    const folded = shrinkModel(zeroed, {foldBatchNorm: true});
    built.push(folded);
    const difference = checkOutputs(subject, level.sparsity, zeroed, shrunk, check);
    const foldedDifference = checkOutputs(subject, level.sparsity, zeroed, folded, check, 'shrunk and folded');
    zeroed.dispose();
    return {
      level, shrunk, folded, limit, zeroedChannels,
      parameters: {shrunk: parameterCount(shrunk), limit: parameterCount(limit)},
      maxRelativeDifference: difference, foldedMaxRelativeDifference: foldedDifference,
    };
  } catch (error) {
    built.forEach((m) => m.dispose());
    throw error;
  }
}

const speedupTarget = (value: number): Target => ({comparison: '>=', value, text: `at least ${value}x faster`});

/** The figures of one level: parameters, then per batch size the speed-up, the distance to the limit and the limit's speed-up. */
function levelFigures(
    subject: Subject, variant: Variant, originalParameters: number, backend: Backend, batch: number,
    measured: {single: Interleaved; batched: Interleaved}): Figure[] {
  const {level} = variant;
  const prefix = `channels-${subject.id}-${percent(level.sparsity)}`;
  const what = `${subject.title} with ${percent(level.sparsity)}% of the channels of every group removed`;
  const common = {
    sparsity: level.sparsity, zeroedChannels: variant.zeroedChannels,
    parameters: {original: originalParameters, ...variant.parameters},
    maxRelativeDifference: variant.maxRelativeDifference,
  };
  const figures = [figure({
    id: `${prefix}-params`, backend,
    title: `parameters of the ${what} (zeroLeastImportantChannels, then shrinkModel)`,
    baseline: 'parameters of the original', unit: 'x',
    target: level.parameters === null ? null :
      {comparison: '<=', value: level.parameters, text: `at most ${level.parameters}x`},
    details: common,
  }, summarize([variant.parameters.shrunk / originalParameters]))];
  for (const size of ['single', 'batched'] as const) {
    const run = measured[size];
    const n = size === 'single' ? 1 : batch;
    const suffix = size === 'single' ? 'single' : 'batch';
    const ms = {
      original: run.times['original'], shrunk: run.times[shrunkName(level)], limit: run.times[limitName(level)],
      folded: run.times[foldedName(level)],
    };
    const details = {...common, batch: n, ms};
    const targetHere = backend === 'wasm' && (size === 'single' || batch === TARGET_BATCH);
    figures.push(
        figure({
          id: `${prefix}-speedup-${suffix}`, backend,
          title: `predict on a batch of ${n}, the ${what}`,
          baseline: 'predict on the same batch, the original', unit: 'x faster',
          target: targetHere ? speedupTarget(level.speedup[size]) : null, details,
        }, summarize(pairedRatios(run, 'original', shrunkName(level)))),
        figure({
          id: `${prefix}-vs-limit-${suffix}`, backend,
          title: `predict on a batch of ${n}, the ${what}`,
          baseline: `predict on the same batch, the same architecture built at width ${1 - level.sparsity}`, unit: 'x',
          target: {comparison: '<=', value: 1.1, text: 'at most 1.1x (within 10%)'}, details,
        }, summarize(pairedRatios(run, shrunkName(level), limitName(level)))),
        figure({
          id: `${prefix}-limit-speedup-${suffix}`, backend,
          title: `predict on a batch of ${n}, ${subject.title} built at width ${1 - level.sparsity}`,
          baseline: 'predict on the same batch, the original', unit: 'x faster', target: null, details,
        }, summarize(pairedRatios(run, 'original', limitName(level)))),
        figure({
          id: `${prefix}-folded-speedup-${suffix}`, backend,
          title: `predict on a batch of ${n}, the ${what}, BatchNormalization folded (shrinkModel(m, {foldBatchNorm: true}))`,
          baseline: 'predict on the same batch, the original', unit: 'x faster',
          target: backend === 'wasm' && size === 'single' && level.foldedSingle !== undefined ?
            speedupTarget(level.foldedSingle) : null,
          details: {
            ...details, foldedMaxRelativeDifference: variant.foldedMaxRelativeDifference,
            layers: {shrunk: variant.shrunk.layers.length, folded: variant.folded.layers.length},
          },
        }, summarize(pairedRatios(run, 'original', foldedName(level)))),
    );
  }
  return figures;
}

/** Every figure of one model. */
async function measureSubject(subject: Subject, backend: Backend, settings: Settings): Promise<Figure[]> {
  const {batch} = settings.channels;
  const original = subject.build(1);
  const variants: Variant[] = [];
  const inputs = {
    single: tf.randomUniform([1, ...subject.inputShape], 0, 1, 'float32', 21),
    batched: tf.randomUniform([batch, ...subject.inputShape], 0, 1, 'float32', 22),
    check: tf.randomUniform([2, ...subject.inputShape], 0, 1, 'float32', 23),
  };
  try {
    for (const level of subject.levels) variants.push(prepare(subject, original, level, inputs.check));
    const predict = (model: tfl.LayersModel, x: tf.Tensor) => async () => {
      const out = model.predict(x) as tf.Tensor;
      await out.data();
      out.dispose();
    };
    const contenders = (x: tf.Tensor) => [
      {name: 'original', fn: predict(original, x)},
      ...variants.flatMap((v) => [
        {name: shrunkName(v.level), fn: predict(v.shrunk, x)},
        {name: foldedName(v.level), fn: predict(v.folded, x)},
        {name: limitName(v.level), fn: predict(v.limit, x)},
      ]),
    ];
    const measured = {
      single: await interleave(contenders(inputs.single), settings.channels.single),
      batched: await interleave(contenders(inputs.batched), settings.channels.batched),
    };
    const originalParameters = parameterCount(original);
    return variants.flatMap((v) => levelFigures(subject, v, originalParameters, backend, batch, measured));
  } finally {
    tf.dispose(Object.values(inputs));
    original.dispose();
    for (const v of variants) {
      v.shrunk.dispose();
      v.folded.dispose();
      v.limit.dispose();
    }
  }
}

export async function measureChannels(backend: Backend, settings: Settings): Promise<Figure[]> {
  checkSeedCnnBuilder();
  const figures: Figure[] = [];
  for (const subject of SUBJECTS) figures.push(...await measureSubject(subject, backend, settings));
  return figures;
}
