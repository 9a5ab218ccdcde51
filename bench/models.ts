/**
 * The models of the channel-pruning benchmarks, each built at a width: every
 * layer's channel count is its width-1 count times `width`. Every width-1
 * count is a multiple of 4, so at widths 0.5 and 0.25 a model has exactly the
 * channels that channel pruning at 50% and 75% leaves in every group
 * (`round(n * (1 - sparsity))`); the builders refuse a width that would need
 * rounding. Weights are random with fixed seeds (He-uniform kernels, and
 * BatchNormalization parameters and statistics near but not at the identity),
 * so that the outputs depend on the input.
 *
 * Layer names are fixed, so that a model built at width 0.5 and a width-1
 * model shrunk by channel pruning can be compared layer by layer.
 */
import * as tfl from '@tensorflow/tfjs-layers';

type SymbolicTensor = tfl.SymbolicTensor;

/** `channels * width`, which must be a whole number of at least 1. */
function scaled(model: string, channels: number, width: number): number {
  const n = channels * width;
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`${model}: width ${width} gives ${n} channels for a layer of ${channels}; ` +
        'use a width that makes every channel count a whole number (1, 0.5, 0.25).');
  }
  return n;
}

/** Seeded initializers, a new seed for every weight. */
class Seeds {
  private seed: number;

  constructor(first: number) {
    this.seed = first;
  }

  /** He-uniform: keeps the variance of activations through ReLU layers, so that outputs still depend on the input. */
  kernel() {
    return tfl.initializers.varianceScaling({scale: 2, mode: 'fanIn', distribution: 'uniform', seed: this.seed++});
  }

  /** He-uniform for a 3x3 depthwise kernel, whose fan-in is 9 (not 9 times the channels, as tfjs computes it). */
  depthwise() {
    const limit = Math.sqrt(3 * 2 / 9);
    return this.uniform(-limit, limit);
  }

  uniform(minval: number, maxval: number) {
    return tfl.initializers.randomUniform({minval, maxval, seed: this.seed++});
  }

  /** The initializers of a BatchNormalization layer whose four vectors are all random. */
  batchNorm() {
    return {
      gammaInitializer: this.uniform(0.5, 1.5), betaInitializer: this.uniform(-0.2, 0.2),
      movingMeanInitializer: this.uniform(-0.2, 0.2), movingVarianceInitializer: this.uniform(0.5, 1.5),
    };
  }
}

/**
 * ReLU, or ReLU6 as Keras's MobileNetV2 writes it (`layers.ReLU(6.)`, which tfjs-converter turns into
 * a ReLU layer with maxValue 6: a Relu and a ClipByValue kernel; the `'relu6'` activation instead runs
 * `minimum(6, relu(x))`, whose scalar-broadcast Minimum costs a third of a batch-1 predict on wasm).
 */
function relu(name: string, maxValue?: number): tfl.layers.Layer {
  return tfl.layers.reLU({name, maxValue});
}

/** Conv2D (no bias) -> BatchNormalization -> activation, named `${name}`, `${name}_bn`, `${name}_relu`. */
function convBn(
    seeds: Seeds, x: SymbolicTensor, name: string,
    options: {filters: number; kernelSize: number; strides?: number; activation: 'relu' | 'relu6' | null}): SymbolicTensor {
  let y = tfl.layers.conv2d({
    name, filters: options.filters, kernelSize: options.kernelSize, strides: options.strides ?? 1, padding: 'same',
    useBias: false, kernelInitializer: seeds.kernel(),
  }).apply(x) as SymbolicTensor;
  y = tfl.layers.batchNormalization({name: `${name}_bn`, ...seeds.batchNorm()}).apply(y) as SymbolicTensor;
  if (options.activation !== null) {
    y = relu(`${name}_relu`, options.activation === 'relu6' ? 6 : undefined).apply(y) as SymbolicTensor;
  }
  return y;
}

/** One stage of inverted residual blocks: expansion `t`, output channels `c`, `n` blocks, first stride `s`. */
interface InvertedResidualStage {
  t: number;
  c: number;
  n: number;
  s: number;
}

/** MobileNetV2's stages up to 96 channels (the last two, at 2x2 pixels on a 64x64 input, are left out). */
const MOBILENET_V2_STAGES: readonly InvertedResidualStage[] = [
  {t: 1, c: 16, n: 1, s: 1},
  {t: 6, c: 24, n: 2, s: 2},
  {t: 6, c: 32, n: 3, s: 2},
  {t: 6, c: 64, n: 3, s: 2},
  {t: 6, c: 96, n: 2, s: 1},
];

/**
 * A MobileNetV2-style model for 64x64x3 images at a width multiplier: a
 * 3x3 stride-2 stem of 32 channels (Conv-BN-ReLU6), 11 inverted residual
 * blocks (1x1 expand Conv-BN-ReLU6 unless the expansion is 1, 3x3
 * DepthwiseConv2D-BN-ReLU6, 1x1 project Conv-BN, and an Add where input and
 * output shapes match: 6 Adds), a 1x1 head of 384 channels (Conv-BN-ReLU6),
 * global average pooling and a Dense classifier of 10. Unlike MobileNetV2,
 * channel counts are not rounded to multiples of 8 at other widths.
 */
export function mobileNetV2Style(width = 1): tfl.LayersModel {
  const name = 'mobilenetv2';
  const seeds = new Seeds(100);
  const input = tfl.input({shape: [64, 64, 3], name: 'input'});
  let channels = scaled(name, 32, width);
  let x = convBn(seeds, input, 'stem', {filters: channels, kernelSize: 3, strides: 2, activation: 'relu6'});
  let block = 0;
  for (const {t, c, n, s} of MOBILENET_V2_STAGES) {
    const out = scaled(name, c, width);
    for (let i = 0; i < n; i++) {
      const prefix = `block${++block}`;
      const strides = i === 0 ? s : 1;
      let y = x;
      if (t !== 1) y = convBn(seeds, y, `${prefix}_expand`, {filters: channels * t, kernelSize: 1, activation: 'relu6'});
      y = tfl.layers.depthwiseConv2d({
        name: `${prefix}_dw`, kernelSize: 3, strides, padding: 'same', useBias: false,
        depthwiseInitializer: seeds.depthwise(),
      }).apply(y) as SymbolicTensor;
      y = tfl.layers.batchNormalization({name: `${prefix}_dw_bn`, ...seeds.batchNorm()}).apply(y) as SymbolicTensor;
      y = relu(`${prefix}_dw_relu`, 6).apply(y) as SymbolicTensor;
      y = convBn(seeds, y, `${prefix}_project`, {filters: out, kernelSize: 1, activation: null});
      x = strides === 1 && channels === out ? tfl.layers.add({name: `${prefix}_add`}).apply([x, y]) as SymbolicTensor : y;
      channels = out;
    }
  }
  x = convBn(seeds, x, 'head', {filters: scaled(name, 384, width), kernelSize: 1, activation: 'relu6'});
  x = tfl.layers.globalAveragePooling2d({name: 'pool'}).apply(x) as SymbolicTensor;
  const output = tfl.layers.dense({name: 'classifier', units: 10, kernelInitializer: seeds.kernel()}).apply(x) as SymbolicTensor;
  return tfl.model({name, inputs: input, outputs: output});
}

/** A basic residual block: Conv-BN-ReLU, Conv-BN, Add with the shortcut (projected when needed), ReLU. */
function basicBlock(seeds: Seeds, x: SymbolicTensor, name: string, filters: number, strides = 1): SymbolicTensor {
  let y = convBn(seeds, x, `${name}_conv1`, {filters, kernelSize: 3, strides, activation: 'relu'});
  y = convBn(seeds, y, `${name}_conv2`, {filters, kernelSize: 3, activation: null});
  const inputChannels = x.shape[x.shape.length - 1];
  const shortcut = strides === 1 && inputChannels === filters ? x :
    convBn(seeds, x, `${name}_shortcut`, {filters, kernelSize: 1, strides, activation: null});
  const sum = tfl.layers.add({name: `${name}_add`}).apply([shortcut, y]) as SymbolicTensor;
  return relu(`${name}_relu`).apply(sum) as SymbolicTensor;
}

/**
 * A ResNet-style model for 32x32x3 images at a width: a 3x3 stem of 32
 * channels (Conv-BN-ReLU); one basic block at 32 channels; a reduction to
 * 16x16 that concatenates a 2x2 max pooling of its input (32 channels) with a
 * 3x3 stride-2 Conv-BN-ReLU branch (32 channels); two basic blocks at 64
 * channels; a stride-2 block to 128 channels with a 1x1 projection shortcut
 * and one more basic block at 8x8; global average pooling and a Dense
 * classifier of 10. Basic block: Conv-BN-ReLU, Conv-BN, Add, ReLU (5 Adds).
 * The identity Add right after the Concatenate couples each half of it with
 * the 64-channel stream, so that stream prunes as two groups of 32.
 */
export function resNetStyle(width = 1): tfl.LayersModel {
  const name = 'resnet';
  const seeds = new Seeds(200);
  const input = tfl.input({shape: [32, 32, 3], name: 'input'});
  const c = (channels: number) => scaled(name, channels, width);
  let x = convBn(seeds, input, 'stem', {filters: c(32), kernelSize: 3, activation: 'relu'});
  x = basicBlock(seeds, x, 'stage1_block1', c(32));
  const pooled = tfl.layers.maxPooling2d({name: 'reduce_pool', poolSize: 2}).apply(x) as SymbolicTensor;
  const branch = convBn(seeds, x, 'reduce_conv', {filters: c(32), kernelSize: 3, strides: 2, activation: 'relu'});
  x = tfl.layers.concatenate({name: 'reduce_concat'}).apply([pooled, branch]) as SymbolicTensor;
  x = basicBlock(seeds, x, 'stage2_block1', c(64));
  x = basicBlock(seeds, x, 'stage2_block2', c(64));
  x = basicBlock(seeds, x, 'stage3_block1', c(128), 2);
  x = basicBlock(seeds, x, 'stage3_block2', c(128));
  x = tfl.layers.globalAveragePooling2d({name: 'pool'}).apply(x) as SymbolicTensor;
  const output = tfl.layers.dense({name: 'classifier', units: 10, kernelInitializer: seeds.kernel()}).apply(x) as SymbolicTensor;
  return tfl.model({name, inputs: input, outputs: output});
}

/**
 * The seed CNN of bench/seed_cnn.ts at a width (uncompiled): Conv2D 32w 3x3
 * relu, MaxPool 2, Dropout .25, Conv2D 64w 3x3 relu, MaxPool 2, Dropout .25,
 * Flatten, Dense 256w relu, Dense 10 softmax; input 28x28x1. At width 1 it
 * has seedCnn()'s layers, shapes and initial weights.
 */
export function seedCnnAtWidth(width = 1): tfl.Sequential {
  const name = 'seed_cnn';
  const seeded = (seed: number) => tfl.initializers.glorotUniform({seed});
  return tfl.sequential({
    name,
    layers: [
      tfl.layers.conv2d({
        name: 'conv1', inputShape: [28, 28, 1], filters: scaled(name, 32, width), kernelSize: 3, activation: 'relu',
        kernelInitializer: seeded(1),
      }),
      tfl.layers.maxPooling2d({name: 'pool1', poolSize: 2}),
      tfl.layers.dropout({name: 'drop1', rate: 0.25}),
      tfl.layers.conv2d({
        name: 'conv2', filters: scaled(name, 64, width), kernelSize: 3, activation: 'relu', kernelInitializer: seeded(2),
      }),
      tfl.layers.maxPooling2d({name: 'pool2', poolSize: 2}),
      tfl.layers.dropout({name: 'drop2', rate: 0.25}),
      tfl.layers.flatten({name: 'flatten'}),
      tfl.layers.dense({name: 'dense1', units: scaled(name, 256, width), activation: 'relu', kernelInitializer: seeded(3)}),
      tfl.layers.dense({name: 'dense2', units: 10, activation: 'softmax', kernelInitializer: seeded(4)}),
    ],
  });
}

/** The number of parameters of a model (every weight, BatchNormalization's statistics included). */
export function parameterCount(model: tfl.LayersModel): number {
  return model.weights.reduce((sum, w) => sum + w.shape.reduce((p: number, d) => p * (d as number), 1), 0);
}

/** `name: shape, shape` for every layer with weights, in order: what two models must share to have the same widths. */
export function weightShapes(model: tfl.LayersModel): string[] {
  return model.layers.filter((l) => l.weights.length > 0)
      .map((l) => `${l.name}: ${l.weights.map((w) => w.shape.join('x')).join(', ')}`);
}
