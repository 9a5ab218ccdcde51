// The reader's context for the documentation's examples: a small value for every name that
// example_globals.d.ts declares ("your model", "your data"), built fresh before each example that
// asks for it with `<!-- example: uses ... -->`. The model is a small MNIST-shaped CNN whose layers
// have the names the guides use (`conv2d_1`, `dense_1`), compiled like the guides' models.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {ConstantSparsity, pruneLowMagnitude, quantizeDynamicRange, stripPruning} from '../../src';

const SAMPLES = 200;
const BATCH = 32;

type Get = <T>(name: string) => Promise<T>;
type Factory = (get: Get) => unknown;

function cnn(): tfl.Sequential {
  const init = (seed: number) => tfl.initializers.glorotUniform({seed});
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({
        name: 'conv2d_1', filters: 4, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1],
        kernelInitializer: init(1),
      }),
      tfl.layers.maxPooling2d({name: 'max_pooling2d_1', poolSize: 2}),
      tfl.layers.flatten({name: 'flatten_1'}),
      tfl.layers.dense({name: 'dense_1', units: 16, activation: 'relu', kernelInitializer: init(2)}),
      tfl.layers.dense({name: 'dense_2', units: 10, activation: 'softmax', kernelInitializer: init(3)}),
    ],
  });
  model.compile({optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy']});
  return model;
}

const images = (seed: number) => tf.randomUniform([SAMPLES, 28, 28, 1], 0, 1, 'float32', seed);
const labels = (seed: number) =>
  tf.tidy(() => tf.cast(tf.oneHot(tf.randomUniform([SAMPLES], 0, 10, 'int32', seed), 10), 'float32'));

/** How each name is built; `get` gives the (shared) value of another name. */
export const FACTORIES: Readonly<Record<string, Factory>> = {
  model: () => cnn(),
  xTrain: () => images(11),
  yTrain: () => labels(12),
  xs: () => images(13),
  ys: () => labels(14),
  trainSamples: () => SAMPLES,
  epochs: () => 2,
  batchSize: () => 50,
  batches: () => 3,
  pruned: async (get) => pruneLowMagnitude(await get<tfl.Sequential>('model'), {
    pruningSchedule: new ConstantSparsity({targetSparsity: 0.5, beginStep: 0, frequency: 1}),
  }),
  prunedModel: async (get) => get('pruned'),
  stripped: async (get) => stripPruning(await get<tfl.Sequential>('pruned')),
  artifacts: async (get) => quantizeDynamicRange(await get<tfl.Sequential>('model')),
  optimizer: () => tf.train.adam(0.01),
  lossOf: () => (prediction: tf.Tensor, truth: tf.Tensor) =>
    tf.mean(tfl.metrics.categoricalCrossentropy(truth, prediction)) as tf.Scalar,
  xBatch: async (get) => {
    const x = await get<tf.Tensor>('xTrain');
    return (index: number) => tf.slice(x, [index * BATCH, 0, 0, 0], [BATCH, 28, 28, 1]);
  },
  yBatch: async (get) => {
    const y = await get<tf.Tensor>('yTrain');
    return (index: number) => tf.slice(y, [index * BATCH, 0], [BATCH, 10]);
  },
};

const provided = new Set<string>();

/**
 * Removes what the previous example was given, then defines `names` (and nothing else) as globals,
 * each built fresh.
 *
 * @throws Error naming an unknown name.
 */
export async function provide(names: readonly string[]): Promise<void> {
  const scope = globalThis as Record<string, unknown>;
  for (const name of provided) delete scope[name];
  provided.clear();
  const built = new Map<string, Promise<unknown>>();
  const get: Get = <T>(name: string): Promise<T> => {
    const factory = Object.prototype.hasOwnProperty.call(FACTORIES, name) ? FACTORIES[name] : undefined;
    if (factory === undefined) {
      throw new Error(`no value for "${name}"; the names are ${Object.keys(FACTORIES).join(', ')}.`);
    }
    if (!built.has(name)) built.set(name, Promise.resolve(factory(get)));
    return built.get(name) as Promise<T>;
  };
  for (const name of names) {
    scope[name] = await get(name);
    provided.add(name);
  }
}
