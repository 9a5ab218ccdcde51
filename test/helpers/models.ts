// Small models and snapshots shared by the pruning tests.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/** Dense(8) on 10 inputs then Dense(5) on 8: the reference's two-layer model. */
export function denseModel(): tfl.Sequential {
  return tfl.sequential({
    layers: [
      tfl.layers.dense({units: 8, inputShape: [10], activation: 'relu'}),
      tfl.layers.dense({units: 5}),
    ],
  });
}

/** A deterministic tensor of `shape` with distinct values (no ties). */
export function seeded(shape: number[], seed: number): tf.Tensor {
  return tf.randomUniform(shape, -1, 1, 'float32', seed);
}

/** Everything about a model that a function must not change: its config and its weight values. */
export function snapshot(model: tfl.LayersModel | tfl.layers.Layer): {config: string; weights: number[][]} {
  return {
    config: JSON.stringify(model.getConfig()),
    weights: model.weights.map((w) => Array.from(w.read().dataSync())),
  };
}

/** Runs `fit` for exactly `batches` batches of `batchSize` random samples. */
export async function fitBatches(
    model: tfl.LayersModel, inputShape: number[], outputShape: number[], batches: number,
    callbacks: tfl.CustomCallback[] | tfl.Callback[], batchSize = 4, seed = 7): Promise<void> {
  const n = batches * batchSize;
  const x = seeded([n, ...inputShape], seed);
  const y = seeded([n, ...outputShape], seed + 1);
  try {
    await model.fit(x, y, {batchSize, epochs: 1, shuffle: false, callbacks, verbose: 0});
  } finally {
    x.dispose();
    y.dispose();
  }
}

/** Arguments of {@link ChannelScale}. */
type ChannelScaleArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]> & {scale?: number};

/**
 * Multiplies each channel by a trainable factor (initially `scale`): a layer with a weight that
 * pruning does not know (not in the registry, not a PrunableLayer), so whole-model pruning refuses it.
 */
export class ChannelScale extends tfl.layers.Layer {
  static className = 'ChannelScaleForTests';
  private readonly scale: number;
  private factors!: tfl.LayerVariable;

  constructor(args: ChannelScaleArgs = {}) {
    super(args);
    this.scale = args.scale ?? 1;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = inputShape as tfl.Shape;
    this.factors = this.addWeight(
        'factors', [shape[shape.length - 1] as number], 'float32', tfl.initializers.constant({value: this.scale}));
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.mul(Array.isArray(inputs) ? inputs[0] : inputs, this.factors.read()));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {...super.getConfig(), scale: this.scale};
  }
}
tf.serialization.registerClass(ChannelScale);
