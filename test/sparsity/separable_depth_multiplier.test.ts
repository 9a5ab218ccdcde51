// SeparableConv2D with depthMultiplier > 1: tfjs 4.22's getConfig() forgets depthMultiplier, so a topology
// written from it rebuilds a depthwise kernel of multiplier 1 and loading fails with
// "Shape mismatch: [3,3,8,1] vs. [3,3,8,2]". Every topology this package emits (the pruned model's, the
// stripped model's, the quantized artifacts') carries it, and stock tf.loadLayersModel loads each of them.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {
  ConstantSparsity,
  PruneSelectedLayers,
  UpdatePruningStep,
  pruneLowMagnitude,
  quantizeDynamicRange,
  stripPruning,
} from '../../src';
import {saveToMemory} from '../../src/io/gzipped_size';
import {fitBatches, seeded, snapshot} from '../helpers/models';

type Entry = {class_name: string; config: Record<string, unknown> & {layer?: Entry}};

/** SeparableConv2D (3x3, depthMultiplier 2) on 6 x 6 x 8 inputs -> Flatten -> Dense(2). */
function separableModel(): tfl.Sequential {
  const init = (seed: number) => tfl.initializers.glorotUniform({seed});
  return tfl.sequential({
    layers: [
      tfl.layers.separableConv2d({
        filters: 4, kernelSize: 3, depthMultiplier: 2, inputShape: [6, 6, 8], name: 'sep',
        depthwiseInitializer: init(1), pointwiseInitializer: init(2),
      }),
      tfl.layers.flatten({name: 'flat'}),
      tfl.layers.dense({units: 2, name: 'd', kernelInitializer: init(3)}),
    ],
  });
}

/** A trained pruned copy of `separableModel()`, and the original. */
async function trainedPruned(params = {}): Promise<{model: tfl.Sequential; pruned: tfl.Sequential}> {
  const model = separableModel();
  const pruned = pruneLowMagnitude(model, {
    pruningSchedule: new ConstantSparsity({targetSparsity: 0.5, beginStep: 0, frequency: 1}), ...params,
  });
  pruned.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
  await fitBatches(pruned, [6, 6, 8], [2], 2, [new UpdatePruningStep()]);
  return {model, pruned};
}

/** The saved entry of the layer named `name` (the wrapped layer's entry for a wrapper). */
function savedEntry(artifacts: tf.io.ModelArtifacts, name: string): Entry {
  const layers = (artifacts.modelTopology as {config: {layers: Entry[]}}).config.layers;
  const entry = layers.find((e) => e.config['name'] === name || e.config.layer?.config['name'] === name)!;
  return entry.class_name === 'PruneLowMagnitude' ? entry.config.layer! : entry;
}

/** The depthwise kernel shape of the loaded layer named `name`, and the loaded model's prediction. */
async function loadAndPredict(artifacts: tf.io.ModelArtifacts, name: string, x: tf.Tensor):
    Promise<{shape: number[]; prediction: Float32Array}> {
  const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
  const layer = loaded.layers.find((l) => l.name === name || l.name === `prune_low_magnitude_${name}`)!;
  const depthwise = layer.weights.find((w) => w.originalName.endsWith('depthwise_kernel'))!;
  const output = loaded.predict(x) as tf.Tensor;
  const result = {shape: depthwise.shape as number[], prediction: output.dataSync() as Float32Array};
  output.dispose();
  loaded.dispose();
  return result;
}

describe('SeparableConv2D with depthMultiplier 2', () => {
  const x = () => seeded([3, 6, 6, 8], 9);

  it('is saved with depth_multiplier 2 inside the pruned model, which loads and predicts the same', async () => {
    const {model, pruned} = await trainedPruned();
    const artifacts = await saveToMemory(pruned);
    expect(savedEntry(artifacts, 'sep').config['depth_multiplier']).toBe(2);
    const input = x();
    const expected = (pruned.predict(input) as tf.Tensor);
    const loaded = await loadAndPredict(artifacts, 'sep', input);
    expect(loaded.shape).toEqual([3, 3, 8, 2]);
    expect(Array.from(loaded.prediction)).toEqual(Array.from(expected.dataSync()));
    tf.dispose([input, expected]);
    model.dispose();
    pruned.dispose();
  });

  it('is saved with depth_multiplier 2 by the stripped model, which loads and predicts the same', async () => {
    const {model, pruned} = await trainedPruned();
    const stripped = stripPruning(pruned);
    const artifacts = await saveToMemory(stripped);
    expect(savedEntry(artifacts, 'sep').config['depth_multiplier']).toBe(2);
    const input = x();
    const expected = (stripped.predict(input) as tf.Tensor);
    const loaded = await loadAndPredict(artifacts, 'sep', input);
    expect(loaded.shape).toEqual([3, 3, 8, 2]);
    expect(Array.from(loaded.prediction)).toEqual(Array.from(expected.dataSync()));
    tf.dispose([input, expected]);
    [model, pruned, stripped].forEach((m) => m.dispose());
  });

  it.each<[string, boolean]>([['a pruned model', true], ['a model that was never pruned', false]])(
      'is written into the quantized artifacts of %s, which load and predict within int8 rounding', async (_, prune) => {
        const {model, pruned} = await trainedPruned();
        const source = prune ? pruned : model;
        const artifacts = await quantizeDynamicRange(source, {minElements: 0});
        expect(savedEntry(artifacts, 'sep').config['depth_multiplier']).toBe(2);
        expect(artifacts.weightSpecs!.find((s) => s.name.endsWith('depthwise_kernel'))!.quantization!.dtype).toBe('uint8');
        const input = x();
        const expected = (source.predict(input) as tf.Tensor);
        const loaded = await loadAndPredict(artifacts, 'sep', input);
        expect(loaded.shape).toEqual([3, 3, 8, 2]);
        const worst = Math.max(...Array.from(expected.dataSync(), (v, i) => Math.abs(v - loaded.prediction[i])));
        expect(worst).toBeLessThan(0.05);
        tf.dispose([input, expected]);
        model.dispose();
        pruned.dispose();
      });

  it('is saved with depth_multiplier 2 when a policy leaves the layer unwrapped', async () => {
    const {model, pruned} = await trainedPruned({pruningPolicy: new PruneSelectedLayers({names: ['d']})});
    expect(pruned.layers.map((l) => l.getClassName())).toEqual(['SeparableConv2D', 'Flatten', 'PruneLowMagnitude']);
    const artifacts = await saveToMemory(pruned);
    expect(savedEntry(artifacts, 'sep').config['depth_multiplier']).toBe(2);
    const input = x();
    expect((await loadAndPredict(artifacts, 'sep', input)).shape).toEqual([3, 3, 8, 2]);
    input.dispose();
    model.dispose();
    pruned.dispose();
  });

  it("leaves the caller's layer as it is (tfjs's own getConfig, without depthMultiplier)", async () => {
    const model = separableModel();
    const before = snapshot(model);
    const pruned = pruneLowMagnitude(model);
    const stripped = stripPruning(pruned);
    await quantizeDynamicRange(model);
    expect(Object.prototype.hasOwnProperty.call(model.layers[0], 'getConfig')).toBe(false);
    expect(model.layers[0].getConfig()['depthMultiplier']).toBeUndefined();
    expect(snapshot(model)).toEqual(before);
    // The stripped copy's config is the original's plus the field tfjs forgets.
    expect(stripped.getConfig()).toStrictEqual({
      ...model.getConfig(),
      layers: model.getConfig().layers.map((entry: {className: string; config: object}, i: number) =>
        (i === 0 ? {...entry, config: {...entry.config, depthMultiplier: 2}} : entry)),
    });
    [model, pruned, stripped].forEach((m) => m.dispose());
  });
});
