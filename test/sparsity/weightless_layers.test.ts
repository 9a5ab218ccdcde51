// Layers without weights (tfjs's preprocessing layers, custom layers that hold none) do not block whole-model
// pruning: there is nothing to prune in them, so they stay as they are, as tfmot accepts them. Layers that hold
// weights the registry cannot prune still fail the call, and the error names SkipUnsupportedLayers as the way out.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {
  ConstantSparsity,
  PruningError,
  SkipUnsupportedLayers,
  UpdatePruningStep,
  getSparsity,
  pruneLowMagnitude,
  stripPruning,
} from '../../src';
import {saveToMemory} from '../../src/io/gzipped_size';
import {hasNoWeights} from '../../src/sparsity/prune_registry';
import {fitBatches, seeded, snapshot} from '../helpers/models';

const everyStep = () => new ConstantSparsity({targetSparsity: 0.5, beginStep: 0, frequency: 1});

/**
 * Rescaling -> Conv2D -> CenterCrop -> Flatten -> Dense: an image model with its preprocessing inside. Without
 * the CenterCrop when it is to be trained: tfjs 4.22 has no gradient for CenterCrop's CropAndResize kernel (and
 * a CenterCrop right after the input overwrites the model's input shape).
 */
function imageModel(crop = true): tfl.Sequential {
  return tfl.sequential({
    layers: [
      tfl.layers.rescaling({scale: 1 / 255, offset: -0.5, inputShape: [8, 8, 3], name: 'rescale'}),
      tfl.layers.conv2d({filters: 4, kernelSize: 3, name: 'conv', kernelInitializer: tfl.initializers.glorotUniform({seed: 1})}),
      ...(crop ? [tfl.layers.centerCrop({height: 4, width: 4, name: 'crop'})] : []),
      tfl.layers.flatten({name: 'flat'}),
      tfl.layers.dense({units: 2, name: 'out', kernelInitializer: tfl.initializers.glorotUniform({seed: 2})}),
    ],
  });
}

/**
 * Conv2D -> Resizing. tfjs 4.22 builds such a model but cannot run it (its Resizing fails in predict with
 * "x must be rank 3 or 4, but got rank 1"); pruning and stripping it must still work.
 */
function resizingModel(): tfl.Sequential {
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({filters: 2, kernelSize: 3, inputShape: [6, 6, 3], name: 'conv'}),
      tfl.layers.resizing({height: 2, width: 2, name: 'resize'}),
    ],
  });
}

/** A layer that doubles its input: no weights, registered, rebuilt from its config. */
class Double extends tfl.layers.Layer {
  static className = 'WeightlessDoubleForTest';

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.mul(Array.isArray(inputs) ? inputs[0] : inputs, 2);
  }
}
tf.serialization.registerClass(Double);

/** A layer with a weight that does not implement PrunableLayer. */
class Scale extends tfl.layers.Layer {
  static className = 'WeightedScaleForTest';
  private scale!: tfl.LayerVariable;

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = inputShape as tfl.Shape;
    this.scale = this.addWeight('scale', [shape[shape.length - 1] as number], 'float32', tfl.initializers.ones());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.mul(Array.isArray(inputs) ? inputs[0] : inputs, this.scale.read());
  }
}
tf.serialization.registerClass(Scale);

describe('whole-model pruning with weightless layers', () => {
  it('leaves Rescaling, CenterCrop and Resizing unwrapped and wraps the other layers', () => {
    const [image, resize] = [imageModel(), resizingModel()];
    const [prunedImage, prunedResize] = [image, resize].map((m) => pruneLowMagnitude(m));
    expect(prunedImage.layers.map((l) => `${l.getClassName()} ${l.name}`)).toEqual([
      'Rescaling rescale', 'PruneLowMagnitude prune_low_magnitude_conv', 'CenterCrop crop',
      'PruneLowMagnitude prune_low_magnitude_flat', 'PruneLowMagnitude prune_low_magnitude_out',
    ]);
    expect(prunedResize.layers.map((l) => `${l.getClassName()} ${l.name}`)).toEqual([
      'PruneLowMagnitude prune_low_magnitude_conv', 'Resizing resize',
    ]);
    const stripped = stripPruning(prunedResize);
    expect(stripped.getConfig()).toStrictEqual(resize.getConfig());
    [image, resize, prunedImage, prunedResize, stripped].forEach((m) => m.dispose());
  });

  it('predicts bit for bit what the model predicts before training', () => {
    const model = imageModel();
    const pruned = pruneLowMagnitude(model);
    const x = tf.mul(tf.add(seeded([3, 8, 8, 3], 5), 1), 127.5);
    const [before, after] = [model, pruned].map((m) => m.predict(x) as tf.Tensor);
    expect(Array.from(after.dataSync())).toEqual(Array.from(before.dataSync()));
    tf.dispose([x, before, after]);
    model.dispose();
    pruned.dispose();
  });

  it('trains to the target sparsity, strips back to the original config and reloads in stock tfjs', async () => {
    const model = imageModel(false);
    const before = snapshot(model);
    const pruned = pruneLowMagnitude(model, {pruningSchedule: everyStep()});
    pruned.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
    await fitBatches(pruned, [8, 8, 3], [2], 2, [new UpdatePruningStep()]);
    // conv/kernel: 3 * 3 * 3 * 4 = 108 weights; out/kernel: the 6 x 6 x 4 = 144 features by 2 units. Half of each.
    expect((await getSparsity(pruned)).map((s) => [s.weight, s.zeros, s.size])).toEqual([
      ['prune_low_magnitude_conv/kernel', 54, 108],
      ['prune_low_magnitude_out/kernel', 144, 288],
    ]);
    const stripped = stripPruning(pruned);
    expect(stripped.getConfig()).toStrictEqual(model.getConfig());
    const reloaded = await tfl.loadLayersModel(tf.io.fromMemory(await saveToMemory(stripped)));
    expect(reloaded.layers.map((l) => l.getClassName())).toEqual(['Rescaling', 'Conv2D', 'Flatten', 'Dense']);
    expect(snapshot(model)).toEqual(before);
    [model, pruned, stripped, reloaded].forEach((m) => m.dispose());
  });

  it('accepts a CategoryEncoding layer and a TimeDistributed around a Rescaling', () => {
    const tokens = tfl.sequential({
      layers: [
        tfl.layers.categoryEncoding({numTokens: 5, outputMode: 'multiHot', inputShape: [3], name: 'encode'}),
        tfl.layers.dense({units: 2, name: 'd'}),
      ],
    });
    const frames = tfl.sequential({
      layers: [
        tfl.layers.timeDistributed({layer: tfl.layers.rescaling({scale: 2}), inputShape: [4, 3], name: 'td'}),
        tfl.layers.dense({units: 2, name: 'd'}),
      ],
    });
    expect(pruneLowMagnitude(tokens).layers.map((l) => l.name)).toEqual(['encode', 'prune_low_magnitude_d']);
    expect(pruneLowMagnitude(frames).layers.map((l) => l.name)).toEqual(['td', 'prune_low_magnitude_d']);
  });

  it('leaves any built layer without weights unwrapped, in functional models too', () => {
    const input = tfl.input({shape: [4]});
    const doubled = new Double({name: 'double'}).apply(input) as tfl.SymbolicTensor;
    const output = tfl.layers.dense({units: 2, name: 'd'}).apply(doubled) as tfl.SymbolicTensor;
    const model = tfl.model({inputs: input, outputs: output});
    const pruned = pruneLowMagnitude(model);
    expect(pruned.layers.slice(1).map((l) => `${l.getClassName()} ${l.name}`)).toEqual(
        ['WeightlessDoubleForTest double', 'PruneLowMagnitude prune_low_magnitude_d']);
    expect(stripPruning(pruned).getConfig()).toStrictEqual(model.getConfig());
  });

  it('knows the preprocessing layers have no weights even before they are built', () => {
    expect(hasNoWeights(tfl.layers.randomWidth({factor: 0.2}))).toBe(true);
    expect(hasNoWeights(tfl.layers.rescaling({scale: 2}))).toBe(true);
    expect(hasNoWeights(new Double({}))).toBe(false);
    expect(hasNoWeights(tfl.layers.dense({units: 1}))).toBe(false);
  });
});

describe('a layer with weights that cannot be pruned', () => {
  const model = () => tfl.sequential({
    layers: [tfl.layers.dense({units: 3, inputShape: [5], name: 'd'}), new Scale({name: 'scale'})],
  });

  it('fails the whole call, naming the layer, PrunableLayer and SkipUnsupportedLayers', () => {
    const call = () => pruneLowMagnitude(model());
    expect(call).toThrow(PruningError);
    expect(call).toThrow(
        'pruneLowMagnitude: layer "scale" (class WeightedScaleForTest) cannot be pruned: WeightedScaleForTest is not ' +
        'one of the built-in prunable classes (an exact class match: subclasses are not included). To prune it, ' +
        'implement the PrunableLayer interface on WeightedScaleForTest: a getPrunableWeights() method returning the ' +
        'weights to prune. To leave it unpruned instead, pass {pruningPolicy: new SkipUnsupportedLayers()}: every ' +
        'layer that cannot be pruned then stays as it is.');
  });

  it('stays as it is under SkipUnsupportedLayers, as the error says', () => {
    const pruned = pruneLowMagnitude(model(), {pruningPolicy: new SkipUnsupportedLayers()});
    expect(pruned.layers.map((l) => l.getClassName())).toEqual(['PruneLowMagnitude', 'WeightedScaleForTest']);
  });
});
