// End to end: with the training kernels registered, model.fit trains every
// prunable layer class on wasm and on cpu, and leaks neither tensors nor
// backend buffers across batches.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';

import {registerTrainingKernels, unregisterTrainingKernels} from '../../src/kernels';

beforeAll(() => {
  registerTrainingKernels();
});

afterAll(async () => {
  unregisterTrainingKernels();
  await tf.setBackend('cpu');
});

const glorot = (seed: number) => tfl.initializers.glorotUniform({seed});

/** A layer class under test, the input it takes and the layers around it. */
interface LayerCase {
  inputShape: number[];
  /** Integer inputs in [0, vocabulary) instead of floats. */
  vocabulary?: number;
  /** Layers before the one under test, so that its input gradient runs too. */
  before?: () => tfl.layers.Layer[];
  layer: () => tfl.layers.Layer;
  after?: () => tfl.layers.Layer[];
}

const conv2d = (strides: number, padding: 'same' | 'valid') => ({
  inputShape: [7, 7, 2],
  before: () => [tfl.layers.conv2d({filters: 3, kernelSize: 1, kernelInitializer: glorot(1)})],
  layer: () => tfl.layers.conv2d({filters: 4, kernelSize: 3, strides, padding, activation: 'relu', kernelInitializer: glorot(2)}),
  after: () => [tfl.layers.flatten()],
});

const image = (layer: () => tfl.layers.Layer, flatten = true): LayerCase => ({
  inputShape: [6, 6, 2],
  before: () => [tfl.layers.conv2d({filters: 3, kernelSize: 1, kernelInitializer: glorot(1)})],
  layer,
  after: () => (flatten ? [tfl.layers.flatten()] : []),
});

// LSTM, GRU and SimpleRNN get a Glorot recurrent initializer: their default,
// Orthogonal, calls `tensor.flatten()`, a chained-op method that only the
// @tensorflow/tfjs union package installs (with tfjs-core and tfjs-layers
// alone it fails on every backend, cpu included; no kernel is involved).
type RecurrentArgs = {units: number; recurrentInitializer: ReturnType<typeof glorot>; kernelInitializer: ReturnType<typeof glorot>};
const recurrent = (make: (args: RecurrentArgs) => tfl.layers.Layer): LayerCase => ({
  inputShape: [5, 3],
  before: () => [tfl.layers.dense({units: 3, kernelInitializer: glorot(1)})],
  layer: () => make({units: 4, recurrentInitializer: glorot(3), kernelInitializer: glorot(2)}),
});

const CASES: Record<string, LayerCase> = {
  'Dense': {inputShape: [4], before: () => [tfl.layers.dense({units: 3, kernelInitializer: glorot(1)})], layer: () => tfl.layers.dense({units: 3, activation: 'relu', kernelInitializer: glorot(2)})},
  'Conv1D': {
    inputShape: [8, 3],
    before: () => [tfl.layers.dense({units: 3, kernelInitializer: glorot(1)})],
    layer: () => tfl.layers.conv1d({filters: 4, kernelSize: 3, kernelInitializer: glorot(2)}),
    after: () => [tfl.layers.flatten()],
  },
  'Conv2D, stride 1, same padding': conv2d(1, 'same'),
  'Conv2D, stride 1, valid padding': conv2d(1, 'valid'),
  'Conv2D, stride 2, same padding': conv2d(2, 'same'),
  'Conv2D, stride 2, valid padding': conv2d(2, 'valid'),
  'Conv2DTranspose': image(() => tfl.layers.conv2dTranspose({filters: 3, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: glorot(2)})),
  'SeparableConv2D': image(() => tfl.layers.separableConv2d({
    filters: 4, kernelSize: 3, depthMultiplier: 2, depthwiseInitializer: glorot(2), pointwiseInitializer: glorot(3),
  })),
  'DepthwiseConv2D': image(() => tfl.layers.depthwiseConv2d({kernelSize: 3, depthMultiplier: 2, strides: 2, depthwiseInitializer: glorot(2)})),
  'Embedding': {
    inputShape: [5],
    vocabulary: 10,
    layer: () => tfl.layers.embedding({inputDim: 10, outputDim: 4, embeddingsInitializer: tfl.initializers.randomUniform({minval: -0.5, maxval: 0.5, seed: 2})}),
    after: () => [tfl.layers.flatten()],
  },
  'LSTM': recurrent((args) => tfl.layers.lstm(args)),
  'GRU': recurrent((args) => tfl.layers.gru(args)),
  'SimpleRNN': recurrent((args) => tfl.layers.simpleRNN(args)),
  'BatchNormalization': image(() => tfl.layers.batchNormalization()),
  'MaxPooling2D': image(() => tfl.layers.maxPooling2d({poolSize: 2})),
  'AveragePooling2D': image(() => tfl.layers.averagePooling2d({poolSize: 2})),
  'GlobalMaxPooling2D': image(() => tfl.layers.globalMaxPooling2d({}), false),
  'GlobalAveragePooling2D': image(() => tfl.layers.globalAveragePooling2d({}), false),
};

// The other classes of the prune registry that tfjs can train (their layers
// or the layers before them have weights). Not here: Conv3DTranspose,
// ThresholdedReLU and Masking before a trainable layer, for which tfjs-core
// 4.22 registers no gradient (Conv3DBackpropInputV2, Greater, Any) on any
// backend; and the random layers (Dropout, noise), whose loss is not monotone.
const seq = (): tfl.layers.Layer[] => [tfl.layers.dense({units: 3, kernelInitializer: glorot(1)})];
const voxels = (): tfl.layers.Layer[] => [tfl.layers.conv3d({filters: 2, kernelSize: 1, kernelInitializer: glorot(1)})];
const flatten = (): tfl.layers.Layer[] => [tfl.layers.flatten()];
const MORE_CASES: Record<string, LayerCase> = {
  'Conv3D': {inputShape: [4, 4, 4, 2], before: voxels, layer: () => tfl.layers.conv3d({filters: 3, kernelSize: 2, kernelInitializer: glorot(2)}), after: flatten},
  'RNN of stacked cells': {inputShape: [5, 3], before: seq, layer: () => tfl.layers.rnn({cell: [
    tfl.layers.simpleRNNCell({units: 4, recurrentInitializer: glorot(3), kernelInitializer: glorot(2)}),
    tfl.layers.lstmCell({units: 3, recurrentInitializer: glorot(5), kernelInitializer: glorot(4)}),
  ]})},
  'Bidirectional': {inputShape: [5, 3], before: seq, layer: () => tfl.layers.bidirectional({
    layer: tfl.layers.gru({units: 3, recurrentInitializer: glorot(3), kernelInitializer: glorot(2)}) as never,
  })},
  'TimeDistributed': {inputShape: [3, 5, 5, 2], layer: () => tfl.layers.timeDistributed({
    layer: tfl.layers.conv2d({filters: 3, kernelSize: 3, kernelInitializer: glorot(2)}),
  }), after: flatten},
  'LayerNormalization': {inputShape: [6], before: seq, layer: () => tfl.layers.layerNormalization()},
  'PReLU': {inputShape: [6], before: seq, layer: () => tfl.layers.prelu()},
  'MaxPooling1D': {inputShape: [6, 2], before: seq, layer: () => tfl.layers.maxPooling1d({poolSize: 2}), after: flatten},
  'AveragePooling1D': {inputShape: [6, 2], before: seq, layer: () => tfl.layers.averagePooling1d({poolSize: 2}), after: flatten},
  'MaxPooling3D': {inputShape: [4, 4, 4, 2], before: voxels, layer: () => tfl.layers.maxPooling3d({poolSize: 2}), after: flatten},
  'AveragePooling3D': {inputShape: [4, 4, 4, 2], before: voxels, layer: () => tfl.layers.averagePooling3d({poolSize: 2}), after: flatten},
  'GlobalMaxPooling1D': {inputShape: [6, 2], before: seq, layer: () => tfl.layers.globalMaxPooling1d()},
  'GlobalAveragePooling1D': {inputShape: [6, 2], before: seq, layer: () => tfl.layers.globalAveragePooling1d()},
  'UpSampling2D': image(() => tfl.layers.upSampling2d({size: [2, 2]})),
  'ZeroPadding2D': image(() => tfl.layers.zeroPadding2d({padding: 1})),
  'Cropping2D': image(() => tfl.layers.cropping2D({cropping: 1})),
};

function build(layerCase: LayerCase): {model: tfl.Sequential; layer: tfl.layers.Layer} {
  const model = tfl.sequential();
  model.add(tfl.layers.inputLayer({inputShape: layerCase.inputShape}));
  for (const l of layerCase.before?.() ?? []) model.add(l);
  const layer = layerCase.layer();
  model.add(layer);
  for (const l of layerCase.after?.() ?? []) model.add(l);
  model.add(tfl.layers.dense({units: 2, kernelInitializer: glorot(9)}));
  model.compile({optimizer: tf.train.adam(0.01), loss: 'meanSquaredError'});
  return {model, layer};
}

function data(layerCase: LayerCase, samples: number): {x: tf.Tensor; y: tf.Tensor} {
  const shape = [samples, ...layerCase.inputShape];
  const x = layerCase.vocabulary ?
    tf.randomUniform(shape, 0, layerCase.vocabulary, 'int32', 5) :
    tf.randomUniform(shape, -1, 1, 'float32', 5);
  return {x, y: tf.randomUniform([samples, 2], -1, 1, 'float32', 6)};
}

const values = (layer: tfl.layers.Layer) => layer.getWeights().map((w) => Array.from(w.dataSync()));

describe.each(['wasm', 'cpu'])('model.fit on %s', (backendName) => {
  beforeAll(async () => {
    await tf.setBackend(backendName);
  });

  it.each(Object.keys({...CASES, ...MORE_CASES}))('trains %s', async (name) => {
    const layerCase = CASES[name] ?? MORE_CASES[name];
    const {model, layer} = build(layerCase);
    const {x, y} = data(layerCase, 6);
    const before = values(layer);
    const history = await model.fit(x, y, {epochs: 6, batchSize: 6, shuffle: false, verbose: 0});
    const after = values(layer);
    const losses = history.history.loss as number[];
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
    expect(after.flat().every(Number.isFinite)).toBe(true);
    if (before.length > 0) expect(after).not.toEqual(before);
    model.dispose();
    tf.dispose([x, y]);
  });

  it('trains the merge layers (Add, Multiply, Average, Maximum, Minimum, Concatenate, Dot)', async () => {
    const input = tfl.input({shape: [4]});
    const branch = (seed: number) => tfl.layers.dense({units: 3, kernelInitializer: glorot(seed)}).apply(input) as tfl.SymbolicTensor;
    const [a, b] = [branch(1), branch(2)];
    const merged = [
      tfl.layers.add(), tfl.layers.multiply(), tfl.layers.average(), tfl.layers.maximum(), tfl.layers.minimum(),
      tfl.layers.concatenate(), tfl.layers.dot({axes: 1}),
    ].map((layer) => layer.apply([a, b]) as tfl.SymbolicTensor);
    const all = tfl.layers.concatenate().apply(merged) as tfl.SymbolicTensor;
    const output = tfl.layers.dense({units: 2, kernelInitializer: glorot(3)}).apply(all) as tfl.SymbolicTensor;
    const model = tfl.model({inputs: input, outputs: output});
    model.compile({optimizer: tf.train.adam(0.01), loss: 'meanSquaredError'});
    const x = tf.randomUniform([6, 4], -1, 1, 'float32', 5);
    const y = tf.randomUniform([6, 2], -1, 1, 'float32', 6);
    const losses = (await model.fit(x, y, {epochs: 6, batchSize: 6, verbose: 0})).history.loss as number[];
    expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
    model.dispose();
    tf.dispose([x, y]);
  });

  it('keeps the tensor and buffer counts constant from batch 10 to batch 100', async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({inputShape: [8, 8, 2], filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: glorot(1)}),
        tfl.layers.depthwiseConv2d({kernelSize: 3, padding: 'same', depthwiseInitializer: glorot(2)}),
        tfl.layers.maxPooling2d({poolSize: 2}),
        tfl.layers.conv2d({filters: 4, kernelSize: 2, strides: 2, kernelInitializer: glorot(3)}),
        tfl.layers.averagePooling2d({poolSize: 1}),
        tfl.layers.flatten(),
        tfl.layers.dense({units: 2, kernelInitializer: glorot(4)}),
      ],
    });
    model.compile({optimizer: tf.train.adam(0.01), loss: 'meanSquaredError'});
    const x = tf.randomUniform([200, 8, 8, 2], -1, 1, 'float32', 7);
    const y = tf.randomUniform([200, 2], -1, 1, 'float32', 8);
    const backend = tf.engine().backend as unknown as {numDataIds(): number};
    const counts: Record<number, [number, number]> = {};
    await model.fit(x, y, {
      batchSize: 2, epochs: 1, shuffle: false, verbose: 0,
      callbacks: {onBatchEnd: async (batch) => {
        if (batch === 10 || batch === 99) counts[batch] = [tf.memory().numTensors, backend.numDataIds()];
      }},
    });
    expect(counts[99]).toEqual(counts[10]);
    model.dispose();
    tf.dispose([x, y]);
  });
});

describe('the chained tensor methods of the Orthogonal initializer', () => {
  // tfjs-layers' Orthogonal initializer (LSTM, GRU and SimpleRNN's default recurrent initializer)
  // calls tensor.flatten(), .stridedSlice(), .sign(), .transpose() and .reshape(): chained methods
  // that only the @tensorflow/tfjs union package installs. registerTrainingKernels installs the
  // missing ones; without them, building an LSTM fails with "rMat.flatten is not a function".
  it.each(['wasm', 'cpu'])('lets LSTM, GRU and SimpleRNN with default initializers train on %s', async (backendName) => {
    await tf.setBackend(backendName);
    const model = tfl.sequential({
      layers: [
        tfl.layers.lstm({units: 3, inputShape: [4, 2], returnSequences: true}),
        tfl.layers.gru({units: 3, returnSequences: true}),
        tfl.layers.simpleRNN({units: 2}),
      ],
    });
    model.compile({optimizer: 'adam', loss: 'meanSquaredError'});
    const x = tf.randomNormal([8, 4, 2], 0, 1, 'float32', 1);
    const y = tf.randomNormal([8, 2], 0, 1, 'float32', 2);
    const history = await model.fit(x, y, {epochs: 2, batchSize: 4, verbose: 0});
    expect((history.history.loss as number[]).every(Number.isFinite)).toBe(true);
    model.dispose();
    tf.dispose([x, y]);
  });

  it('removes the methods it installed when the kernels are unregistered, and puts them back', () => {
    unregisterTrainingKernels();
    try {
      expect((tf.zeros([2]) as unknown as {flatten?: unknown}).flatten).toBeUndefined();
      expect(() => tfl.sequential({layers: [tfl.layers.lstm({units: 2, inputShape: [3, 2]})]}))
          .toThrow('rMat.flatten is not a function');
    } finally {
      registerTrainingKernels();
    }
    expect(typeof (tf.zeros([2]) as unknown as {flatten?: unknown}).flatten).toBe('function');
  });
});
