// The wrapper prunes a copy of each layer rebuilt from its config (and a saved model loads that way).
// A custom layer that cannot be rebuilt like that (a positional constructor, no getConfig) used to fail
// deep inside tfjs ("Tensor must have a shape comprised of positive integers but got shape
// [6,[object Object]]"); the error now names the layer, its class, the cause and the rule.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {ConstantSparsity, PruneLowMagnitude, PruningError, UpdatePruningStep, getSparsity, pruneLowMagnitude} from '../../src';
import {saveToMemory} from '../../src/io/gzipped_size';
import {fitBatches} from '../helpers/models';

const rule = (cls: string) =>
  'The wrapper prunes a copy of the layer rebuilt from its config (and a saved model loads that way), so a prunable ' +
  `custom layer must be rebuildable with ${cls}.fromConfig(${cls}, layer.getConfig()), by default new ` +
  `${cls}(layer.getConfig()): give ${cls} a constructor that takes one args object and a getConfig() that returns ` +
  'every constructor argument (see docs/custom-prunable-layers.md).';
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

type Args = {name?: string; inputShape?: number[]; units?: number};

/** The base of the layers below: a Dense without bias whose kernel is [inputs, units]. */
abstract class ProjectBase extends tfl.layers.Layer {
  protected kernel!: tfl.LayerVariable;
  abstract readonly units: number;
  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    this.kernel = this.addWeight('kernel', [(inputShape as tfl.Shape)[1] as number, this.units], 'float32',
        tfl.initializers.glorotUniform({seed: 1}));
    this.built = true;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.matMul((Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor2D, this.kernel.read() as tf.Tensor2D);
  }
  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return [(inputShape as tfl.Shape)[0], this.units];
  }
  getPrunableWeights(): tfl.LayerVariable[] {
    return [this.kernel];
  }
}

/** The issue's example: a positional constructor, no getConfig. */
class PositionalProject extends ProjectBase {
  static className = 'RebuildPositionalProject';
  constructor(readonly units: number, args?: Args) {
    super(args);
  }
}
tf.serialization.registerClass(PositionalProject);

/** An args object, but no getConfig: `units` is lost from the config. */
class UnconfiguredProject extends ProjectBase {
  static className = 'RebuildUnconfiguredProject';
  readonly units: number;
  constructor(args: Args) {
    super(args);
    this.units = args.units as number;
  }
}
tf.serialization.registerClass(UnconfiguredProject);

/** The same with a default: the rebuilt copy has other weight shapes. */
class DefaultedProject extends ProjectBase {
  static className = 'RebuildDefaultedProject';
  readonly units: number;
  constructor(args: Args) {
    super(args);
    this.units = args.units ?? 1;
  }
}
tf.serialization.registerClass(DefaultedProject);

/** A constructor that checks its arguments and throws. */
class StrictProject extends ProjectBase {
  static className = 'RebuildStrictProject';
  readonly units: number;
  constructor(args: Args) {
    super(args);
    if (args.units === undefined) throw new Error('StrictProject needs units');
    this.units = args.units;
  }
}
tf.serialization.registerClass(StrictProject);

/** Done right: an args object and a getConfig returning it. */
class GoodProject extends ProjectBase {
  static className = 'RebuildGoodProject';
  readonly units: number;
  constructor(args: Args) {
    super(args);
    this.units = args.units as number;
  }
  override getConfig(): tf.serialization.ConfigDict {
    return {...super.getConfig(), units: this.units};
  }
}
tf.serialization.registerClass(GoodProject);

const inModel = (layer: tfl.layers.Layer) => tfl.sequential({layers: [tfl.layers.inputLayer({inputShape: [3]}), layer]});
const built = <T extends tfl.layers.Layer>(layer: T): T => {
  layer.apply(tfl.input({shape: [3]}));
  return layer;
};

describe('a custom layer the wrapper cannot rebuild from its config', () => {
  it('a positional constructor: names the layer, the class, what went wrong and the rule', () => {
    const message = new RegExp(`^${escape('PruneLowMagnitude: layer "my_dense" (class RebuildPositionalProject) rebuilt ' +
        'from its config is named "')}rebuild_positional_project_RebuildPositionalProject\\d+${escape('": its ' +
        `constructor did not take the config. ${rule('RebuildPositionalProject')}`)}$`);
    expect(() => pruneLowMagnitude(new PositionalProject(6, {name: 'my_dense'}))).toThrow(PruningError);
    expect(() => pruneLowMagnitude(new PositionalProject(6, {name: 'my_dense'}))).toThrow(message);
    expect(() => pruneLowMagnitude(inModel(new PositionalProject(6, {name: 'my_dense'})))).toThrow(message);
  });

  it('no getConfig (a constructor argument lost): the build failure, with the layer and the rule', () => {
    const message = 'PruneLowMagnitude: layer "u" (class RebuildUnconfiguredProject) failed to build from its config: ' +
      'Tensor must have a shape comprised of positive integers but got shape [3,]. ' + rule('RebuildUnconfiguredProject');
    expect(() => inModel(pruneLowMagnitude(new UnconfiguredProject({units: 6, name: 'u'})))).toThrow(new PruningError(message));
    expect(() => pruneLowMagnitude(inModel(new UnconfiguredProject({units: 6, name: 'u'})))).toThrow(message);
  });

  it('no getConfig, with a default: the copy has other weight shapes than the layer it copies', () => {
    const message = 'PruneLowMagnitude: layer "d" (class RebuildDefaultedProject) rebuilt from its config has weights ' +
      `of shapes [[3, 1]], but the layer it copies has [[3, 6]]. ${rule('RebuildDefaultedProject')}`;
    const wrapper = pruneLowMagnitude(built(new DefaultedProject({units: 6, name: 'd'})));
    expect(() => wrapper.apply(tfl.input({shape: [3]}))).toThrow(new PruningError(message));
    expect(() => pruneLowMagnitude(inModel(new DefaultedProject({units: 6, name: 'd'})))).toThrow(message);
  });

  it('a constructor that throws on the config: its error is the cause', () => {
    expect(() => pruneLowMagnitude(built(new StrictProject({units: 6, name: 's'})))).toThrow(new PruningError(
        'PruneLowMagnitude: layer "s" (class RebuildStrictProject) cannot be rebuilt from its config: StrictProject ' +
        `needs units. ${rule('RebuildStrictProject')}`));
  });
});

describe('a custom layer that follows the rule', () => {
  it('is pruned, trained, saved and loaded', async () => {
    const model = pruneLowMagnitude(tfl.sequential({layers: [new GoodProject({units: 6, name: 'g', inputShape: [3]})]}), {
      pruningSchedule: new ConstantSparsity({targetSparsity: 0.5, frequency: 1}),
    });
    model.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
    await fitBatches(model, [3], [6], 2, [new UpdatePruningStep()]);
    expect((await getSparsity(model)).map((w) => w.sparsity)).toEqual([0.5]);
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(await saveToMemory(model)));
    expect(loaded.layers[0]).toBeInstanceOf(PruneLowMagnitude);
    expect(loaded.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(model.getWeights().map((w) => Array.from(w.dataSync())));
    loaded.dispose();
  });
});
