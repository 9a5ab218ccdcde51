// The bad-input table: every kind of misuse of the public API is answered by an error of a given
// class whose message names what was wrong and what was received (docs/reliability.md summarizes it).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {
  ConstantSparsity,
  PolynomialDecay,
  PruneLowMagnitude,
  PruneSelectedLayers,
  PruningError,
  PruningSchedule,
  PruningSummaries,
  UpdatePruningStep,
  deserializeSchedule,
  getGzippedModelSize,
  getSparsity,
  isPrunedMByN,
  loadQuantizedLayersModel,
  pruneLowMagnitude,
  quantizeDynamicRange,
  registerTrainingKernels,
  stripPruning,
} from '../../src';
import type {PruningDecision} from '../../src';
import {fileSystem} from '../../src/node';
import {saveToMemory} from '../../src/io/gzipped_size';
import {deepCopy} from '../../src/util/validation';
import {fitBatches} from '../helpers/models';

type ErrorClass = new (...args: never[]) => Error;
type Row = [description: string, call: () => unknown, errorClass: ErrorClass, message: string | RegExp];

// Created when the module loads, so that the table's messages can name its paths.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tfmo-misuse-'));
afterAll(() => fs.rmSync(tmp, {recursive: true, force: true}));

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Dense 30 -> 40 ('d', a kernel of 1200 weights, quantized by default), in a model named 'net'. */
function dense(): tfl.Sequential {
  return tfl.sequential({name: 'net', layers: [tfl.layers.dense({name: 'd', units: 40, inputShape: [30]})]});
}

function pruned(options: Parameters<typeof pruneLowMagnitude>[1] = {}): tfl.LayersModel {
  const model = pruneLowMagnitude(dense(), {pruningSchedule: new ConstantSparsity({targetSparsity: 0.5, frequency: 1}), ...options});
  model.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
  return model;
}

/** A subclassed LayersModel (neither Sequential nor functional). */
class SubclassedNet extends tfl.LayersModel {
  static override className = 'SubclassedNet';
}
function subclassed(): tfl.LayersModel {
  const input = tfl.input({shape: [3]});
  const output = tfl.layers.dense({units: 2}).apply(input) as tfl.SymbolicTensor;
  return new SubclassedNet({inputs: input, outputs: output, name: 'sub'});
}

/** A custom schedule that answers a sparsity outside [0, 1). */
class OutOfRangeSchedule extends PruningSchedule {
  static className = 'ReliabilityOutOfRangeSchedule';
  call(): PruningDecision {
    return {shouldPrune: true, sparsity: 1.5};
  }
  getConfig(): tf.serialization.ConfigDict {
    return {};
  }
}
tf.serialization.registerClass(OutOfRangeSchedule);

/** The pruned model's artifacts with its wrapper's saved config (snake_case, as in model.json) edited. */
async function editedWrapperConfig(edit: (config: Record<string, unknown>) => void): Promise<tf.io.ModelArtifacts> {
  const artifacts = await saveToMemory(pruned());
  const topology = deepCopy(artifacts.modelTopology) as {config: {layers: Array<{config: Record<string, unknown>}>}};
  edit(topology.config.layers[0].config);
  return {...artifacts, modelTopology: topology as unknown as tf.io.ModelArtifacts['modelTopology']};
}

/** Artifacts of `dense()` quantized with `options`, with some fields replaced. */
async function quantized(
    replace: (a: tf.io.ModelArtifacts) => Partial<tf.io.ModelArtifacts>, perChannel = false): Promise<tf.io.ModelArtifacts> {
  const artifacts = await quantizeDynamicRange(dense(), {perChannel});
  return {...artifacts, ...replace(artifacts)};
}

/** Saves a pruned model into `tmp/name` with fileSystem, then lets `corrupt` damage the files. */
async function savedPrunedDir(name: string, corrupt: (dir: string) => void): Promise<string> {
  const dir = path.join(tmp, name);
  await pruned().save(fileSystem(dir));
  // fileSystem names the weights file weights.<16 hex digits>.bin; rename it as tfjs-node names it.
  const json = JSON.parse(fs.readFileSync(modelJson(dir), 'utf8'));
  fs.renameSync(path.join(dir, json.weightsManifest[0].paths[0]), weightsBin(dir));
  json.weightsManifest[0].paths = ['weights.bin'];
  fs.writeFileSync(modelJson(dir), JSON.stringify(json));
  corrupt(dir);
  return dir;
}
const modelJson = (dir: string) => path.join(dir, 'model.json');
const weightsBin = (dir: string) => path.join(dir, 'weights.bin');
const editJson = (dir: string, edit: (json: Record<string, unknown>) => void) => {
  const json = JSON.parse(fs.readFileSync(modelJson(dir), 'utf8'));
  edit(json);
  fs.writeFileSync(modelJson(dir), JSON.stringify(json));
};

/** Names that a plain-object registry lookup would find on Object.prototype. */
const PROTOTYPE_NAMES = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__'];

/** A custom prunable layer with a positional constructor and no getConfig (the wrapper cannot rebuild it). */
class PositionalDense extends tfl.layers.Layer {
  static className = 'MisusePositionalDense';
  private kernel!: tfl.LayerVariable;
  constructor(private readonly units: number, args?: {name?: string}) {
    super(args);
  }
  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    this.kernel = this.addWeight('kernel', [(inputShape as tfl.Shape)[1] as number, this.units], 'float32',
        tfl.initializers.ones());
    this.built = true;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.matMul((Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor2D, this.kernel.read() as tf.Tensor2D);
  }
  getPrunableWeights(): tfl.LayerVariable[] {
    return [this.kernel];
  }
}
tf.serialization.registerClass(PositionalDense);

/** A built wrapper of Dense 3 -> 2 named 'm' (prunes a 6-value kernel). */
function builtWrapper(): PruneLowMagnitude {
  const wrapper = pruneLowMagnitude(tfl.layers.dense({units: 2, name: 'm'}));
  wrapper.apply(tfl.input({shape: [3]}));
  return wrapper;
}

/** Two concurrent fits given one UpdatePruningStep: rethrows the one failure (after both settled). */
async function twoConcurrentFits(): Promise<void> {
  const callback = new UpdatePruningStep();
  const results = await Promise.allSettled([1, 2].map(() => fitBatches(pruned(), [30], [40], 2, [callback])));
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failures.length === 1) throw failures[0].reason;
}

const MISSING_CALLBACK = 'PruneLowMagnitude requires the UpdatePruningStep callback during training. Add it to the ' +
  'callbacks of your model.fit call: model.fit(x, y, {callbacks: [new UpdatePruningStep()]}), or call its hooks ' +
  'yourself in a custom training loop.';
// pruned() holds 1200 + 40 + 1200 + 1 + 1 float32/int32 values.
const PRUNED_BYTES = (1200 + 40 + 1200 + 1 + 1) * 4;

const rows: Row[] = [
  // Schedules: wrong types, out-of-range values, unknown arguments.
  ['ConstantSparsity without an arguments object', () => new ConstantSparsity(0.5 as never), TypeError,
    "ConstantSparsity: 'args' must be an object, but got 0.5."],
  ['a sparsity given as a string', () => new ConstantSparsity({targetSparsity: '0.5' as never}), TypeError,
    "ConstantSparsity: 'targetSparsity' must be a finite number, but got \"0.5\"."],
  ['a sparsity of 1', () => new ConstantSparsity({targetSparsity: 1}), RangeError,
    "ConstantSparsity: 'targetSparsity' must be in the range [0, 1), but got 1."],
  ['a sparsity that rounds to 1 in float32', () => new PolynomialDecay({initialSparsity: 0.1, finalSparsity: 0.99999999, beginStep: 0, endStep: 10}),
    RangeError, "PolynomialDecay: 'finalSparsity' must be in the range [0, 1) in float32 too (at most 0.9999999403953552; " +
    'larger values round to 1), but got 0.99999999.'],
  ['a negative beginStep', () => new ConstantSparsity({targetSparsity: 0.5, beginStep: -1}), RangeError,
    "ConstantSparsity: 'beginStep' must be >= 0, but got -1."],
  ['a fractional step', () => new ConstantSparsity({targetSparsity: 0.5, beginStep: 1.5}), TypeError,
    "ConstantSparsity: 'beginStep' must be an integer, but got 1.5."],
  ['an endStep before the beginStep', () => new ConstantSparsity({targetSparsity: 0.5, beginStep: 10, endStep: 5}), RangeError,
    "ConstantSparsity: 'endStep' must be >= beginStep (10) unless it is -1, but got 5."],
  ['a frequency of 0', () => new ConstantSparsity({targetSparsity: 0.5, frequency: 0}), RangeError,
    "ConstantSparsity: 'frequency' must be > 0, but got 0."],
  ['a misspelt schedule argument', () => new ConstantSparsity({targetSparsity: 0.5, frequncy: 10} as never), TypeError,
    "ConstantSparsity: unknown argument 'frequncy' (received 10); the arguments are targetSparsity, beginStep, endStep, " +
    'frequency.'],
  ['PolynomialDecay without an end', () => new PolynomialDecay({initialSparsity: 0.1, finalSparsity: 0.5, beginStep: 0, endStep: -1}),
    RangeError, "PolynomialDecay: 'endStep' cannot be -1 (this schedule needs an end step to decay towards), but got -1."],
  ['a power of 0', () => new PolynomialDecay({initialSparsity: 0.1, finalSparsity: 0.5, beginStep: 0, endStep: 9, power: 0}),
    RangeError, "PolynomialDecay: 'power' must be > 0, but got 0."],
  ...([[1e300, '1e+300', 'Infinity', 'larger'], [3.5e38, '3.5e+38', 'Infinity', 'larger'], [1e-50, '1e-50', '0', 'smaller']] as const)
      .map(([power, shown, float32, side]): Row => [`a power of ${shown} (${float32} in float32)`,
    () => new PolynomialDecay({initialSparsity: 0.1, finalSparsity: 0.5, beginStep: 0, endStep: 9, power}), RangeError,
    "PolynomialDecay: 'power' must be a positive finite number in float32 too (from 1.401298464324817e-45 to " +
    `3.4028234663852886e+38; ${side} values round to ${float32}), but got ${shown}.`]),
  ['a fractional step passed to call', () => new ConstantSparsity({targetSparsity: 0.5}).call(2.5), TypeError,
    "ConstantSparsity.call: 'step' must be an integer, but got 2.5."],
  ['deserializeSchedule of null', () => deserializeSchedule(null), TypeError,
    "deserializeSchedule: 'serialized' must be an object, but got null."],
  ['an unregistered schedule class', () => deserializeSchedule({className: 'CubicDecay', config: {}}), Error,
    'deserializeSchedule: unknown schedule class "CubicDecay". Register custom schedules with ' +
    'tf.serialization.registerClass(YourSchedule) before loading.'],
  ['a registered class that is not a schedule', () => deserializeSchedule({className: 'Dense', config: {units: 1}}), TypeError,
    'deserializeSchedule: class "Dense" is registered but is not a PruningSchedule.'],
  ...PROTOTYPE_NAMES.map((name): Row => [`a schedule class named "${name}" (an Object.prototype member)`,
    () => deserializeSchedule({className: name, config: {}}), Error,
    `deserializeSchedule: unknown schedule class "${name}". Register custom schedules with ` +
    'tf.serialization.registerClass(YourSchedule) before loading.']),
  ['a model class as a schedule (refused before it is built)',
    () => deserializeSchedule({className: 'Sequential', config: dense().getConfig()}), TypeError,
    'deserializeSchedule: class "Sequential" is registered but is not a PruningSchedule.'],
  ['a schedule config with a "__proto__" key (from JSON.parse)',
    () => deserializeSchedule(JSON.parse('{"className": "ConstantSparsity", "config": {"targetSparsity": 0.5, "__proto__": {"frequency": 1}}}')),
    TypeError, "deserializeSchedule: 'serialized.config' holds a \"__proto__\" key, which a config never holds (it would " +
    "change an object's prototype); the config is corrupt or hostile."],
  ['a schedule config from a newer version (an unknown key)',
    () => deserializeSchedule({className: 'ConstantSparsity', config: {targetSparsity: 0.5, warmupSteps: 5}}), TypeError,
    "ConstantSparsity: unknown argument 'warmupSteps' (received 5); the arguments are targetSparsity, beginStep, endStep, " +
    'frequency.'],

  // pruneLowMagnitude: models of the wrong kind, wrong parameters, layers it cannot prune.
  ['a tensor to prune', () => pruneLowMagnitude(tf.zeros([2]) as never), TypeError,
    "pruneLowMagnitude: 'toPrune' must be a tf.layers.Layer, an array of layers, a tf.Sequential model or a functional " +
    'tf.LayersModel (tf.model), but got an instance of Tensor.'],
  ['a subclassed model to prune', () => pruneLowMagnitude(subclassed()), TypeError,
    "pruneLowMagnitude: 'toPrune' must be a tf.layers.Layer, an array of layers, a tf.Sequential model or a functional " +
    'tf.LayersModel (tf.model), but got the subclassed model "sub" (class SubclassedNet); rebuild it as a Sequential or ' +
    'functional model.'],
  ['a non-layer in an array of layers', () => pruneLowMagnitude([tfl.layers.dense({units: 1}), 'dense' as never]), TypeError,
    "pruneLowMagnitude: 'toPrune[1]' must be a tf.layers.Layer, but got \"dense\"."],
  ['a model inside an array of layers', () => pruneLowMagnitude([dense()]), TypeError,
    'pruneLowMagnitude: model "net" found inside an array of layers; pass models on their own.'],
  ['parameters that are not an object', () => pruneLowMagnitude(dense(), [] as never), TypeError,
    "pruneLowMagnitude: 'params' must be an object, but got an array of length 0."],
  ['a misspelt parameter', () => pruneLowMagnitude(dense(), {schedule: new ConstantSparsity({targetSparsity: 0.5})} as never),
    TypeError, "pruneLowMagnitude: unknown parameter 'schedule' (received an instance of ConstantSparsity); the parameters " +
    'are pruningSchedule, blockSize, blockPoolingType, sparsityMByN, pruningPolicy, globalPruning.'],
  ['a schedule that is a plain object', () => pruneLowMagnitude(dense(), {pruningSchedule: {targetSparsity: 0.5} as never}),
    TypeError, "pruneLowMagnitude: 'pruningSchedule' must be a PruningSchedule (e.g. new ConstantSparsity(...)), but got " +
    'an object.'],
  ['a block of zero rows', () => pruneLowMagnitude(dense(), {blockSize: [0, 2]}), RangeError,
    "pruneLowMagnitude: 'blockSize' must hold integers >= 1, but got [0, 2]."],
  ['a block size that is not a pair', () => pruneLowMagnitude(dense(), {blockSize: 4 as never}), TypeError,
    "pruneLowMagnitude: 'blockSize' must be an array of two integers [height, width], but got 4."],
  ['an unknown block pooling type', () => pruneLowMagnitude(dense(), {blockPoolingType: 'median' as never}), RangeError,
    "pruneLowMagnitude: 'blockPoolingType' must be 'avg' or 'max', but got \"median\"."],
  ['M-by-N with m >= n', () => pruneLowMagnitude(dense(), {sparsityMByN: [4, 2]}), RangeError,
    "pruneLowMagnitude: 'sparsityMByN' must satisfy 1 <= m < n, but got [4, 2]."],
  ['M-by-N together with blocks', () => pruneLowMagnitude(dense(), {sparsityMByN: [2, 4], blockSize: [2, 2]}), RangeError,
    "pruneLowMagnitude: 'blockSize' must be [1, 1] when 'sparsityMByN' is set, but got [2, 2]."],
  ['globalPruning given as a string', () => pruneLowMagnitude(dense(), {globalPruning: 'yes' as never}), TypeError,
    "pruneLowMagnitude: 'globalPruning' must be a boolean, but got \"yes\"."],
  ['a pruning policy with a single layer', () => pruneLowMagnitude(tfl.layers.dense({units: 1}), {pruningPolicy: new PruneSelectedLayers({names: ['d']})}),
    TypeError, "pruneLowMagnitude: 'pruningPolicy' applies to models only, but 'toPrune' is an instance of Dense; wrap " +
    'layers one by one instead.'],
  ['a layer class that cannot be pruned', () => pruneLowMagnitude(tfl.sequential({layers: [tfl.layers.convLstm2d({filters: 1, kernelSize: 1, inputShape: [2, 3, 3, 1], recurrentInitializer: 'glorotUniform', name: 'clstm'})]})),
    PruningError, 'pruneLowMagnitude: layer "clstm" (class ConvLSTM2D) cannot be pruned: ConvLSTM2D is not one of the ' +
    'built-in prunable classes (an exact class match: subclasses are not included). To prune it, implement the ' +
    'PrunableLayer interface on ConvLSTM2D: a getPrunableWeights() method returning the weights to prune. To leave ' +
    'it unpruned instead, pass {pruningPolicy: new SkipUnsupportedLayers()}: every layer that cannot be pruned then ' +
    'stays as it is.'],
  ['block sparsity on a rank-4 kernel', () => pruneLowMagnitude(tfl.sequential({layers: [tfl.layers.conv2d({name: 'c', filters: 2, kernelSize: 3, inputShape: [5, 5, 1]})]}), {blockSize: [2, 2]}),
    PruningError, 'PruneLowMagnitude: block sparsity (blockSize [2, 2]) needs rank-2 weights, but weight ' +
    '"prune_low_magnitude_c/kernel" of layer "c" has shape [3, 3, 1, 2] (rank 4). Prune this layer without blockSize, ' +
    'or leave it unpruned with a PruningPolicy.'],
  ['a selected layer name that no layer has', () => pruneLowMagnitude(dense(), {pruningPolicy: new PruneSelectedLayers({names: ['dd']})}),
    PruningError, 'PruneSelectedLayers: model "net" has no layer named "dd"; its layers are "d".'],

  // The wrapper: nested wrappers, models, unbuilt wrappers, configs from a newer version.
  ['a wrapper nested in a wrapper', () => new PruneLowMagnitude({layer: new PruneLowMagnitude({layer: tfl.layers.dense({units: 1, name: 'inner'})})}),
    PruningError, 'PruneLowMagnitude: layer "prune_low_magnitude_inner" is already a PruneLowMagnitude wrapper; wrappers ' +
    'cannot be nested.'],
  ['a model given to the wrapper', () => new PruneLowMagnitude({layer: dense()}), TypeError,
    "PruneLowMagnitude: 'layer' must be a single layer, but got the model \"net\"; use pruneLowMagnitude(model) to prune " +
    'every layer of a model.'],
  ['a wrapper without a layer', () => new PruneLowMagnitude({} as never), TypeError,
    "PruneLowMagnitude: 'layer' must be a tf.layers.Layer, but got undefined."],
  ['masks for an unbuilt wrapper', () => new PruneLowMagnitude({layer: tfl.layers.dense({units: 1, name: 'u'})}).setMasks([new Float32Array(4)], [0]),
    RangeError, 'PruneLowMagnitude.setMasks: layer "prune_low_magnitude_u" has 0 pruned weight(s), but got 1 mask(s) and ' +
    '1 threshold(s).'],
  ['a mask value other than 0 and 1 given to setMasks', () => builtWrapper().setMasks([Float32Array.of(1, 0, 1, 1, 0.5, 1)], [0.1]),
    RangeError, 'PruneLowMagnitude.setMasks: mask 0 (of weight "prune_low_magnitude_m/kernel") of layer ' +
    '"prune_low_magnitude_m" holds 0.5 at flat index 4, but a mask holds only 0 and 1.'],
  ['a NaN threshold given to setMasks', () => builtWrapper().setMasks([new Float32Array(6).fill(1)], [NaN]),
    RangeError, 'PruneLowMagnitude.setMasks: threshold 0 (of weight "prune_low_magnitude_m/kernel") of layer ' +
    '"prune_low_magnitude_m" must be a finite number >= 0, but got NaN.'],
  ['a custom layer with a positional constructor (the wrapper rebuilds it from its config)',
    () => pruneLowMagnitude(new PositionalDense(6, {name: 'pos'})), PruningError,
    /^PruneLowMagnitude: layer "pos" \(class MisusePositionalDense\) rebuilt from its config is named "misuse_positional_dense_MisusePositionalDense\d+": its constructor did not take the config\. The wrapper prunes a copy of the layer rebuilt from its config \(and a saved model loads that way\), so a prunable custom layer must be rebuildable with MisusePositionalDense\.fromConfig\(MisusePositionalDense, layer\.getConfig\(\)\), by default new MisusePositionalDense\(layer\.getConfig\(\)\): give MisusePositionalDense a constructor that takes one args object and a getConfig\(\) that returns every constructor argument \(see docs\/custom-prunable-layers\.md\)\.$/],
  ['a training step on an unbuilt wrapper', () => new PruneLowMagnitude({layer: tfl.layers.dense({units: 1, name: 'v'})}).advanceStep(),
    PruningError, 'PruneLowMagnitude.advanceStep: layer "prune_low_magnitude_v" is not built yet; build the model (call ' +
    'it on an input or give it an input shape) before training.'],
  ['starting training on a wrapper that was never built', () => new PruneLowMagnitude({layer: tfl.layers.dense({units: 1, name: 'w'})}).startTraining(),
    PruningError, 'PruneLowMagnitude.startTraining: layer "prune_low_magnitude_w" is not built yet; build the model ' +
    '(call it on an input or give it an input shape) before training.'],
  ['a wrapper config from a newer version (an unknown key)',
    () => PruneLowMagnitude.fromConfig(PruneLowMagnitude, {layer: {className: 'Dense', config: {units: 2}}, pruningMode: 'fast'}),
    TypeError, "PruneLowMagnitude.fromConfig: unknown config key 'pruningMode' (received \"fast\"); the config keys are " +
    'layer, pruningSchedule, blockSize, blockPoolingType, sparsityMByN, globalPruning, channelImportance, name, trainable, dtype, ' +
    'batchInputShape, inputShape, batchSize, inputDType, weights, customObjects. A model saved by a newer version of ' +
    'tfjs-model-optimization needs that version to load.'],
  ...PROTOTYPE_NAMES.map((name): Row => [`an inner layer class named "${name}" (an Object.prototype member)`,
    () => PruneLowMagnitude.fromConfig(PruneLowMagnitude, {layer: {className: name, config: {}}}), Error,
    `PruneLowMagnitude.fromConfig: unknown layer class "${name}". Register custom layers with ` +
    'tf.serialization.registerClass before loading.']),
  ['an inner layer of a model class (refused before it is built)',
    () => PruneLowMagnitude.fromConfig(PruneLowMagnitude, {layer: {className: 'Sequential', config: dense().getConfig()}}),
    TypeError, "PruneLowMagnitude.fromConfig: 'layer' must be a single layer, but got the model \"net\" (class " +
    'Sequential); a PruneLowMagnitude wraps one layer (pruneLowMagnitude(model) prunes every layer of a model).'],
  ['a wrapper config holding weight values',
    () => PruneLowMagnitude.fromConfig(PruneLowMagnitude, {layer: {className: 'Dense', config: {units: 2}}, weights: [[1, 2]]}),
    TypeError, "PruneLowMagnitude.fromConfig: 'config.weights' is not allowed (a saved config holds no weight values; " +
    'they load from the weights manifest), but got an array of length 1.'],
  ['an inner layer config with a "__proto__" key (from JSON.parse)',
    () => PruneLowMagnitude.fromConfig(PruneLowMagnitude, JSON.parse('{"layer": {"className": "Dense", "config": {"__proto__": {"units": 7}, "name": "h"}}}')),
    TypeError, "PruneLowMagnitude.fromConfig: 'config.layer.config' holds a \"__proto__\" key, which a config never holds " +
    "(it would change an object's prototype); the config is corrupt or hostile."],

  // Training: fit without the callback, the callback on an unpruned model, hooks out of order.
  ['fit without UpdatePruningStep', () => fitBatches(pruned(), [30], [40], 1, []), PruningError, MISSING_CALLBACK],
  ['UpdatePruningStep on an unpruned model', () => {
    const model = dense();
    model.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
    return fitBatches(model, [30], [40], 1, [new UpdatePruningStep()]);
  }, PruningError, /^UpdatePruningStep: model "net(_model)?" has no PruneLowMagnitude layers, so there is nothing to prune\. Wrap the model with pruneLowMagnitude\(model\) and train the result\.$/],
  ['two UpdatePruningStep callbacks in one fit', () => fitBatches(pruned(), [30], [40], 1, [new UpdatePruningStep(), new UpdatePruningStep()]),
    PruningError, 'PruneLowMagnitude: layer "prune_low_magnitude_d" is already being trained by an UpdatePruningStep: ' +
    'one fit has two of them (each would advance the pruning step at every batch), or a custom training loop did not ' +
    'call onTrainEnd(). Give fit one UpdatePruningStep; end custom training loops with onTrainEnd().'],
  ['the same UpdatePruningStep twice in one fit', () => {
    const callback = new UpdatePruningStep();
    return fitBatches(pruned(), [30], [40], 1, [callback, callback]);
  }, PruningError, /^PruneLowMagnitude: layer "prune_low_magnitude_d" is already being trained by an UpdatePruningStep/],
  ['one UpdatePruningStep given to two concurrent fits', twoConcurrentFits, PruningError,
    /^UpdatePruningStep: this callback is already driving the training of model "net(_model)?", so it cannot also drive the training of model "net(_model)?": a callback instance serves one fit at a time\. Give each concurrent fit its own new UpdatePruningStep\(\), or await one fit before starting the next \(a custom training loop ends its training with onTrainEnd\(\)\)\.$/],
  ['trainOnBatch (which runs no callbacks)', () => pruned().trainOnBatch(tf.zeros([2, 30]), tf.zeros([2, 40])),
    PruningError, MISSING_CALLBACK],
  ['a custom schedule that answers a sparsity outside [0, 1)', () => fitBatches(pruned({pruningSchedule: new OutOfRangeSchedule()}), [30], [40], 1, [new UpdatePruningStep()]),
    PruningError, 'PruneLowMagnitude: the schedule ReliabilityOutOfRangeSchedule of layer "prune_low_magnitude_d" returned ' +
    '{shouldPrune: true, sparsity: 1.5} at step 1, but a schedule returns {shouldPrune: a boolean, sparsity: a number in ' +
    '[0, 1) (in float32)}.'],
  ['a training call in a custom loop that did not start the callback',
    () => tf.tidy(() => {
      pruned().apply(tf.zeros([1, 30]), {training: true});
    }), PruningError, MISSING_CALLBACK],
  ['onBatchBegin before onTrainBegin', () => new UpdatePruningStep().onBatchBegin(0), PruningError,
    'UpdatePruningStep.onBatchBegin: training has not started; call onTrainBegin() first (model.fit does).'],
  ['onTrainBegin without a model', () => new UpdatePruningStep().onTrainBegin(), PruningError,
    'UpdatePruningStep.onTrainBegin: no model is set. model.fit sets it; in a custom training loop call ' +
    'callback.setModel(model) first.'],
  ['PruningSummaries with a non-boolean printTable', () => new PruningSummaries({printTable: 'yes' as never}), TypeError,
    "PruningSummaries: 'printTable' must be a boolean, but got \"yes\"."],

  // stripPruning, getSparsity, isPrunedMByN.
  ['stripPruning of a layer', () => stripPruning(tfl.layers.dense({units: 1}) as never), TypeError,
    "stripPruning: 'model' must be a tf.Sequential or functional tf.LayersModel, but got an instance of Dense."],
  ['stripPruning of a subclassed model', () => stripPruning(subclassed()), TypeError,
    "stripPruning: 'model' must be a tf.Sequential or functional tf.LayersModel, but got an instance of SubclassedNet."],
  ['getSparsity of a non-layer in an array', () => getSparsity([tfl.layers.dense({units: 1}), null as never]), TypeError,
    "getSparsity: 'modelOrLayer[1]' must be a tf.LayersModel or tf.layers.Layer, but got null."],
  ['isPrunedMByN of a rank-3 tensor', () => isPrunedMByN(tf.zeros([2, 2, 2]), [2, 4]), RangeError,
    "isPrunedMByN: 'weights' must have rank 2 or 4, but got a tensor of shape [2, 2, 2]."],

  // quantizeDynamicRange and getGzippedModelSize.
  ['quantizing a layer instead of a model', () => quantizeDynamicRange(tfl.layers.dense({units: 1}) as never), TypeError,
    "quantizeDynamicRange: 'model' must be a tf.LayersModel (a tf.Sequential or a functional model), but got an " +
    'instance of Dense.'],
  ['a misspelt quantization option', () => quantizeDynamicRange(dense(), {perchannel: true} as never), TypeError,
    "quantizeDynamicRange: unknown option 'perchannel' (received true); the options are dtype, perChannel, minElements, " +
    'exclude.'],
  ['an unknown quantization dtype', () => quantizeDynamicRange(dense(), {dtype: 'int4' as never}), TypeError,
    "quantizeDynamicRange: 'dtype' must be one of 'int8', 'uint8', 'uint16', 'float16', but got \"int4\"."],
  ['per-channel float16', () => quantizeDynamicRange(dense(), {dtype: 'float16', perChannel: true}), RangeError,
    "quantizeDynamicRange: 'perChannel' cannot be true with dtype 'float16' (float16 has no scale to choose per " +
    'channel), but got perChannel true.'],
  ['a negative minElements', () => quantizeDynamicRange(dense(), {minElements: -1}), RangeError,
    "quantizeDynamicRange: 'minElements' must be >= 0, but got -1."],
  ['an exclude list that is a string', () => quantizeDynamicRange(dense(), {exclude: 'd/kernel' as never}), TypeError,
    "quantizeDynamicRange: 'exclude' must be an array of strings and RegExps, but got \"d/kernel\"."],
  ['getGzippedModelSize of a graph-model topology', () => getGzippedModelSize({modelTopology: new ArrayBuffer(8)}), TypeError,
    "getGzippedModelSize: 'modelOrArtifacts' must be a tf.LayersModel or model artifacts with a JSON modelTopology, but " +
    'got an object.'],

  // loadQuantizedLayersModel: wrong sources, corrupted or truncated artifacts, a newer format.
  ['loadQuantizedLayersModel of a number', () => loadQuantizedLayersModel(42 as never), TypeError,
    "loadQuantizedLayersModel: 'source' must be a URL, an IOHandler with a load() method, or model artifacts, but got 42."],
  ['a URL no handler accepts', () => loadQuantizedLayersModel('ftp://models/net.json'), Error,
    'loadQuantizedLayersModel: found 0 load handlers for URL "ftp://models/net.json" (need exactly one); pass an ' +
    'IOHandler instead.'],
  ['a binary (graph model) topology', async () => loadQuantizedLayersModel(await quantized(() => ({modelTopology: new ArrayBuffer(8)}))),
    TypeError, "loadQuantizedLayersModel: 'modelTopology' must be the JSON topology of a layers model, but got an " +
    'instance of ArrayBuffer.'],
  ['a manifest without weight data', async () => loadQuantizedLayersModel(await quantized(() => ({weightData: undefined}))),
    Error, "loadQuantizedLayersModel: the manifest lists 2 weight(s) (the first is 'd/kernel'), but the artifacts hold no " +
    'weight data.'],
  ['truncated weight data', async () => loadQuantizedLayersModel(await quantized((a) => ({weightData: (a.weightData as ArrayBuffer).slice(0, 1000)}))),
    Error, "loadQuantizedLayersModel: the weight data ends before weight 'd/kernel' (1000 bytes, the manifest needs at " +
    'least 1200).'],
  ['weight data from another model (longer than the manifest)', async () => loadQuantizedLayersModel(await quantized(() => ({weightData: new ArrayBuffer(1200 * 4 + 160)}))),
    Error, 'loadQuantizedLayersModel: the weight data holds 4960 bytes, but the manifest lists 1360; the weights do not ' +
    'belong to this model.'],
  ['a malformed per-channel entry', async () => loadQuantizedLayersModel(await quantized((a) => ({
    weightSpecs: a.weightSpecs!.map((s, i) => (i === 0 ? {...s, quantization: {...s.quantization!, axis: 5} as never} : s)),
  }), true)), Error, "loadQuantizedLayersModel: weight 'd/kernel' has a malformed per-channel quantization (axis 5 of " +
    'shape [30, 40] needs one scale and one zero point per channel).'],
  ['a per-channel scale damaged to null', async () => loadQuantizedLayersModel(await quantized((a) => ({
    weightSpecs: a.weightSpecs!.map((s, i) => {
      if (i !== 0) return s;
      const q = s.quantization as unknown as {scale: Array<number | null>};
      return {...s, quantization: {...q, scale: q.scale.map((v, c) => (c === 3 ? null : v))} as never};
    }),
  }), true)), Error, /^loadQuantizedLayersModel: weight 'd\/kernel' has a malformed per-channel quantization \(channel 3 has scale null and zero point 128; a scale is a finite number > 0 and a zero point an integer in \[0, 255\]\)\.$/],
  ['a quantization dtype from a newer format', async () => loadQuantizedLayersModel(await quantized((a) => ({
    weightSpecs: a.weightSpecs!.map((s, i) => (i === 0 ? {...s, quantization: {dtype: 'int4', scale: 1, min: 0} as never} : s)),
  }))), Error, "Weight d/kernel has unknown quantization dtype int4. Supported quantization dtypes are: 'uint8', " +
    "'uint16', and 'float16'."],

  // tf.loadLayersModel of pruned models: corrupted or truncated artifacts, configs from a newer version.
  ['a pruned model with truncated weight data', async () => {
    const artifacts = await saveToMemory(pruned());
    return tfl.loadLayersModel(tf.io.fromMemory({...artifacts, weightData: (artifacts.weightData as ArrayBuffer).slice(0, 1000)}));
  }, Error, 'Based on the provided shape, [30,40], the tensor should have 1200 values but has 250'],
  ['a pruned model whose mask is missing', async () => {
    const artifacts = await saveToMemory(pruned());
    return tfl.loadLayersModel(tf.io.fromMemory({...artifacts, weightSpecs: artifacts.weightSpecs!.filter((s) => !s.name.endsWith('/mask'))}));
  }, Error, '1 of 5 weights are not set: prune_low_magnitude_d/mask'],
  ['a saved wrapper without its layer', async () => tfl.loadLayersModel(tf.io.fromMemory(await editedWrapperConfig((c) => delete c['layer']))),
    TypeError, "PruneLowMagnitude.fromConfig: 'layer' must be {className, config}, but got undefined."],
  ['a saved wrapper around an unregistered layer class', async () => tfl.loadLayersModel(tf.io.fromMemory(await editedWrapperConfig((c) => {
    (c['layer'] as {class_name: string}).class_name = 'MyDense';
  }))), Error, 'PruneLowMagnitude.fromConfig: unknown layer class "MyDense". Register custom layers with ' +
    'tf.serialization.registerClass before loading.'],
  ['a saved schedule of an unregistered class', async () => tfl.loadLayersModel(tf.io.fromMemory(await editedWrapperConfig((c) => {
    (c['pruning_schedule'] as {class_name: string}).class_name = 'CubicDecay';
  }))), Error, 'deserializeSchedule: unknown schedule class "CubicDecay". Register custom schedules with ' +
    'tf.serialization.registerClass(YourSchedule) before loading.'],
  ['a saved schedule with an out-of-range sparsity', async () => tfl.loadLayersModel(tf.io.fromMemory(await editedWrapperConfig((c) => {
    (c['pruning_schedule'] as {config: Record<string, unknown>}).config['target_sparsity'] = 1.5;
  }))), RangeError, "ConstantSparsity: 'targetSparsity' must be in the range [0, 1), but got 1.5."],
  ['a saved wrapper nested in a wrapper', async () => tfl.loadLayersModel(tf.io.fromMemory(await editedWrapperConfig((c) => {
    c['layer'] = {class_name: 'PruneLowMagnitude', config: deepCopy(c)};
  }))), PruningError, 'PruneLowMagnitude: layer "prune_low_magnitude_d" is already a PruneLowMagnitude wrapper; wrappers ' +
    'cannot be nested.'],
  ['a saved wrapper from a newer version (an unknown option)', async () => tfl.loadLayersModel(tf.io.fromMemory(await editedWrapperConfig((c) => {
    c['pruning_mode'] = 'fast';
  }))), TypeError, /^PruneLowMagnitude\.fromConfig: unknown config key 'pruningMode' \(received "fast"\); the config keys are .* A model saved by a newer version of tfjs-model-optimization needs that version to load\.$/],
  ['a saved schedule from a newer version (an unknown argument)', async () => tfl.loadLayersModel(tf.io.fromMemory(await editedWrapperConfig((c) => {
    (c['pruning_schedule'] as {config: Record<string, unknown>}).config['warmup_steps'] = 5;
  }))), TypeError, "ConstantSparsity: unknown argument 'warmupSteps' (received 5); the arguments are targetSparsity, " +
    'beginStep, endStep, frequency.'],
  ['a saved wrapper around a layer class named "constructor"', async () => tfl.loadLayersModel(tf.io.fromMemory(await editedWrapperConfig((c) => {
    (c['layer'] as {class_name: string}).class_name = 'constructor';
  }))), Error, 'PruneLowMagnitude.fromConfig: unknown layer class "constructor". Register custom layers with ' +
    'tf.serialization.registerClass before loading.'],
  ['a saved schedule of a class named "toString"', async () => tfl.loadLayersModel(tf.io.fromMemory(await editedWrapperConfig((c) => {
    (c['pruning_schedule'] as {class_name: string}).class_name = 'toString';
  }))), Error, 'deserializeSchedule: unknown schedule class "toString". Register custom schedules with ' +
    'tf.serialization.registerClass(YourSchedule) before loading.'],
  ['a saved wrapper holding weight values', async () => tfl.loadLayersModel(tf.io.fromMemory(await editedWrapperConfig((c) => {
    c['weights'] = [[1, 2]];
  }))), TypeError, "PruneLowMagnitude.fromConfig: 'config.weights' is not allowed (a saved config holds no weight values; " +
    'they load from the weights manifest), but got an array of length 1.'],

  // The Node fileSystem handler, on a saved pruned model.
  ['fileSystem with an empty directory name', () => fileSystem(''), TypeError,
    "fileSystem: 'dir' must be a non-empty string, but got \"\"."],
  ['saving null', () => fileSystem(path.join(tmp, 'null')).save(null as never), TypeError,
    "fileSystem(...).save: 'artifacts' must be model artifacts, but got null."],
  ['loading a directory without model.json', () => tfl.loadLayersModel(fileSystem(path.join(tmp, 'nothing-here'))), Error,
    `fileSystem: no model.json at ${path.join(tmp, 'nothing-here', 'model.json')}.`],
  ['a model.json cut short', async () => tfl.loadLayersModel(fileSystem(await savedPrunedDir('cut-json', (dir) => {
    fs.truncateSync(modelJson(dir), 100);
  }))), Error, new RegExp(`^fileSystem: ${escape(modelJson(path.join(tmp, 'cut-json')))} is not valid JSON \\(.+\\)\\.$`)],
  ['a model.json without a topology', async () => tfl.loadLayersModel(fileSystem(await savedPrunedDir('no-topology', (dir) => {
    editJson(dir, (json) => delete json['modelTopology']);
  }))), Error, `fileSystem: ${modelJson(path.join(tmp, 'no-topology'))} has no 'modelTopology'; it is not a model.json file.`],
  ['a truncated weights.bin', async () => tfl.loadLayersModel(fileSystem(await savedPrunedDir('cut-bin', (dir) => {
    fs.truncateSync(weightsBin(dir), 1000);
  }))), Error, `fileSystem: ${weightsBin(path.join(tmp, 'cut-bin'))} is corrupt: ${modelJson(path.join(tmp, 'cut-bin'))} ` +
    `lists ${PRUNED_BYTES} bytes of weights, but the file holds 1000.`],
  ['a weights.bin from another model', async () => tfl.loadLayersModel(fileSystem(await savedPrunedDir('other-bin', (dir) => {
    fs.writeFileSync(weightsBin(dir), new Uint8Array(PRUNED_BYTES + 8));
  }))), Error, `fileSystem: ${weightsBin(path.join(tmp, 'other-bin'))} is corrupt: ${modelJson(path.join(tmp, 'other-bin'))} ` +
    `lists ${PRUNED_BYTES} bytes of weights, but the file holds ${PRUNED_BYTES + 8}.`],
  ['a missing weights.bin', async () => tfl.loadLayersModel(fileSystem(await savedPrunedDir('no-bin', (dir) => {
    fs.rmSync(weightsBin(dir));
  }))), Error, `fileSystem: the weights file ${weightsBin(path.join(tmp, 'no-bin'))} listed in ` +
    `${modelJson(path.join(tmp, 'no-bin'))} is missing.`],
  ['a manifest that is not an array', async () => tfl.loadLayersModel(fileSystem(await savedPrunedDir('bad-manifest', (dir) => {
    editJson(dir, (json) => {
      json['weightsManifest'] = {paths: ['weights.bin']};
    });
  }))), Error, `fileSystem: ${modelJson(path.join(tmp, 'bad-manifest'))} has a malformed 'weightsManifest' (not an array).`],
  ['a manifest path outside the directory', async () => tfl.loadLayersModel(fileSystem(await savedPrunedDir('escape', (dir) => {
    editJson(dir, (json) => {
      (json['weightsManifest'] as Array<{paths: string[]}>)[0].paths = ['../../etc/passwd'];
    });
  }))), Error, `fileSystem: ${modelJson(path.join(tmp, 'escape'))} has a malformed 'weightsManifest' (weight path ` +
    `"../../etc/passwd" points outside ${path.join(tmp, 'escape')}).`],
  ['a saved pruning step that is corrupt', async () => {
    const dir = await savedPrunedDir('bad-step', (d) => {
      const bytes = fs.readFileSync(weightsBin(d));
      bytes.writeInt32LE(-7, PRUNED_BYTES - 4); // the pruning_step, the last weight
      fs.writeFileSync(weightsBin(d), bytes);
    });
    const model = await tfl.loadLayersModel(fileSystem(dir));
    model.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
    return fitBatches(model, [30], [40], 1, [new UpdatePruningStep()]);
  }, PruningError, 'PruneLowMagnitude: layer "prune_low_magnitude_d" holds the pruning step -7, but a step is -1 (never ' +
    'trained) or >= 0; the saved model is corrupt.'],

  // Training kernels.
  ['a backend the training kernels do not cover', () => registerTrainingKernels({backends: ['webgl' as never]}), RangeError,
    "registerTrainingKernels: 'backends' must only contain 'wasm' and 'cpu', but got \"webgl\"."],
];

/** The error `call` throws or rejects with. */
async function failureOf(call: () => unknown): Promise<Error> {
  try {
    await call();
  } catch (e) {
    return e as Error;
  }
  throw new Error('the call did not fail');
}

describe(`misuse of the public API (${rows.length} kinds)`, () => {
  it.each(rows)('%s', async (_description, call, errorClass, message) => {
    const error = await failureOf(call);
    expect(error).toBeInstanceOf(errorClass);
    if (typeof message === 'string') expect(error.message).toBe(message);
    else expect(error.message).toMatch(message);
  });

  it('covers at least 40 kinds of misuse', () => {
    expect(rows.length).toBeGreaterThanOrEqual(40);
    expect(new Set(rows.map(([description]) => description)).size).toBe(rows.length);
  });
});
