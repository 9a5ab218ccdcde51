/**
 * Which tfjs-layers classes can be pruned, and which of their weights.
 * Mirrors tfmot's `prune_registry.py`: an exact class-name match (a subclass
 * of Dense is not prunable unless it implements PrunableLayer).
 *
 * Porting note: tfmot rejects Bidirectional and TimeDistributed; here they
 * are prunable when the layer they wrap is, and their wrapped layer's weights
 * are pruned.
 */
import type {LayerVariable} from '@tensorflow/tfjs-layers';
import * as tfl from '@tensorflow/tfjs-layers';

import {PruningError} from './errors';
import {isPrunableLayer} from './prunable_layer';

type Layer = tfl.layers.Layer;
type WeightGetter = (layer: Layer) => LayerVariable[];

/** Reads a LayerVariable field of a built tfjs layer (tfjs keeps them as instance fields). */
function field(layer: object, name: string): LayerVariable {
  const value = (layer as Record<string, unknown>)[name];
  if (!(value instanceof tfl.LayerVariable)) {
    throw new PruningError(
        `Layer "${(layer as Layer).name}" has no built '${name}' weight; build the layer before reading its ` +
        'prunable weights.');
  }
  return value;
}

const noWeights: WeightGetter = () => [];
const kernel: WeightGetter = (layer) => [field(layer, 'kernel')];

/** Recurrent cells whose kernel and recurrent kernel are pruned. */
const PRUNABLE_CELLS = new Set(['LSTMCell', 'GRUCell', 'SimpleRNNCell']);

function cellWeights(layer: Layer, cell: Layer): LayerVariable[] {
  const className = cell.getClassName();
  if (className === 'StackedRNNCells') {
    return (cell as unknown as {cells: Layer[]}).cells.flatMap((c) => cellWeights(layer, c));
  }
  if (PRUNABLE_CELLS.has(className)) return [field(cell, 'kernel'), field(cell, 'recurrentKernel')];
  if (isPrunableLayer(cell)) return cell.getPrunableWeights();
  throw new PruningError(
      `Layer "${layer.name}" (class ${layer.getClassName()}) uses the recurrent cell class ${className}, ` +
      'which cannot be pruned. Implement PrunableLayer (getPrunableWeights()) on the cell to prune it.');
}

const recurrent: WeightGetter = (layer) => cellWeights(layer, (layer as unknown as {cell: Layer}).cell);

/** The layers a Bidirectional (forward and backward RNN) or a TimeDistributed wraps, else none. */
function wrappedLayers(layer: Layer): Layer[] {
  switch (layer.getClassName()) {
    case 'Bidirectional': {
      const {forwardLayer, backwardLayer} = layer as unknown as {forwardLayer: Layer; backwardLayer: Layer};
      return [forwardLayer, backwardLayer];
    }
    case 'TimeDistributed':
      return [(layer as unknown as {layer: Layer}).layer];
    default:
      return [];
  }
}

const wrapper: WeightGetter = (layer) => wrappedLayers(layer).flatMap((inner) => prunableWeightsOf(inner));

const REGISTRY: ReadonlyMap<string, WeightGetter> = new Map<string, WeightGetter>([
  ['Dense', kernel],
  ['Conv1D', kernel],
  ['Conv2D', kernel],
  ['Conv3D', kernel],
  ['Conv2DTranspose', kernel],
  ['Conv3DTranspose', kernel],
  ['SeparableConv2D', (layer) => [field(layer, 'pointwiseKernel')]],
  ['Embedding', (layer) => [field(layer, 'embeddings')]],
  ['LSTM', recurrent],
  ['GRU', recurrent],
  ['SimpleRNN', recurrent],
  ['RNN', recurrent],
  ['Bidirectional', wrapper],
  ['TimeDistributed', wrapper],
  // Accepted, nothing pruned.
  ...[
    'DepthwiseConv2D', 'BatchNormalization', 'LayerNormalization',
    'Activation', 'ReLU', 'LeakyReLU', 'PReLU', 'ELU', 'ThresholdedReLU', 'Softmax',
    'Dropout', 'SpatialDropout1D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout',
    'Flatten', 'Reshape', 'Permute', 'RepeatVector', 'Masking',
    'MaxPooling1D', 'MaxPooling2D', 'MaxPooling3D', 'AveragePooling1D', 'AveragePooling2D', 'AveragePooling3D',
    'GlobalAveragePooling1D', 'GlobalAveragePooling2D', 'GlobalMaxPooling1D', 'GlobalMaxPooling2D',
    'ZeroPadding2D', 'Cropping2D', 'UpSampling2D',
    'Add', 'Multiply', 'Average', 'Maximum', 'Minimum', 'Concatenate', 'Dot',
  ].map((name): [string, WeightGetter] => [name, noWeights]),
]);

const RECURRENT_CLASSES = new Set(['LSTM', 'GRU', 'SimpleRNN', 'RNN']);

/** The cell classes of a recurrent cell that cannot be pruned (stacked cells expanded). */
function unprunableCells(cell: Layer): string[] {
  const className = cell.getClassName();
  if (className === 'StackedRNNCells') return (cell as unknown as {cells: Layer[]}).cells.flatMap(unprunableCells);
  return PRUNABLE_CELLS.has(className) || isPrunableLayer(cell) ? [] : [className];
}

/**
 * Why `layer` cannot be pruned (a sentence starting with the layer's name),
 * or null when it can.
 */
function unsupportedReason(layer: Layer): string | null {
  const className = layer.getClassName();
  const described = `layer "${layer.name}" (class ${className})`;
  if (REGISTRY.has(className)) {
    const inner = wrappedLayers(layer).map(unsupportedReason).find((reason) => reason !== null);
    if (inner !== undefined) return `${described} cannot be pruned because the layer it wraps cannot: ${inner}`;
    if (RECURRENT_CLASSES.has(className)) {
      const cell = (layer as unknown as {cell?: Layer}).cell;
      const cells = cell === undefined ? [] : unprunableCells(cell);
      if (cells.length > 0) {
        return `${described} cannot be pruned: it uses the recurrent cell class ${cells[0]}, which is not ` +
            'prunable. Implement PrunableLayer (getPrunableWeights()) on the cell to prune it.';
      }
    }
    return null;
  }
  if (isPrunableLayer(layer)) return null;
  return `${described} cannot be pruned: ${className} is not one of the built-in prunable classes (an exact ` +
      'class match: subclasses are not included). To prune it, implement the PrunableLayer interface on ' +
      `${className}: a getPrunableWeights() method returning the weights to prune.`;
}

/**
 * Whether `layer` can be wrapped by {@link PruneLowMagnitude}: a built-in
 * class of the registry (exact class match; for Bidirectional and
 * TimeDistributed, the layer they wrap; for recurrent layers, their cells)
 * or a {@link PrunableLayer}.
 *
 * @param layer A tfjs-layers layer.
 * @returns `true` when the layer can be pruned (possibly with nothing to prune).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import {isPrunable} from 'tfjs-model-optimization';
 *
 * isPrunable(tf.layers.dense({units: 2})); // true
 * isPrunable(tf.layers.timeDistributed({layer: tf.layers.dense({units: 2})})); // true
 * ```
 *
 * @category Pruning
 */
export function isPrunable(layer: Layer): boolean {
  return unsupportedReason(layer) === null;
}

/** Class names of the built-in prunable layers (including those with no prunable weights). */
export function registeredClassNames(): string[] {
  return [...REGISTRY.keys()];
}

/** The way out that only models have, added to the message for a layer of a model. */
const SKIP_HINT = 'To leave it unpruned instead, pass {pruningPolicy: new SkipUnsupportedLayers()}: every layer ' +
    'that cannot be pruned then stays as it is.';

/**
 * The message for a layer that cannot be pruned. With `inModel`, it also
 * names the way out that only models have: the SkipUnsupportedLayers policy.
 */
export function unsupportedLayerMessage(caller: string, layer: Layer, inModel = false): string {
  const reason = unsupportedReason(layer) ?? `layer "${layer.name}" cannot be pruned.`;
  return `${caller}: ${reason}${inModel ? ` ${SKIP_HINT}` : ''}`;
}

/** tfjs-layers' preprocessing layers: they have no weights, built or not. */
const PREPROCESSING_CLASSES = new Set(
    ['Rescaling', 'Resizing', 'CenterCrop', 'CategoryEncoding', 'RandomWidth', 'RandomHeight']);

/**
 * Whether `layer` holds no weights at all: one of tfjs-layers' preprocessing
 * layers (Rescaling, Resizing, CenterCrop, CategoryEncoding, RandomWidth,
 * RandomHeight), or any other built layer whose `weights` is empty.
 * Whole-model pruning leaves such a layer as it is when the registry does not
 * know its class: there is nothing to prune in it (tfmot's registry accepts
 * its weightless layers, Rescaling included, with nothing to prune).
 *
 * @param layer A layer (not a model).
 * @returns `true` when the layer has nothing to prune and nothing to copy.
 */
export function hasNoWeights(layer: Layer): boolean {
  if (layer instanceof tfl.LayersModel) return false;
  return PREPROCESSING_CLASSES.has(layer.getClassName()) || (layer.built && layer.weights.length === 0);
}

/**
 * The weights of a built layer that pruning masks: kernels (never biases),
 * the pointwise kernel of separable convolutions, embeddings, and the kernel
 * and recurrent kernel of every recurrent cell.
 *
 * @param layer A built layer for which {@link isPrunable} is true.
 * @returns The variables to prune, possibly none.
 * @throws PruningError when the layer is not prunable.
 */
export function prunableWeightsOf(layer: Layer): LayerVariable[] {
  const getter = REGISTRY.get(layer.getClassName());
  if (getter !== undefined) return getter(layer);
  if (isPrunableLayer(layer)) return layer.getPrunableWeights();
  throw new PruningError(unsupportedLayerMessage('pruneLowMagnitude', layer));
}

/**
 * Makes `layer.getConfig()` include the fields tfjs-layers' own forgets (see
 * {@link missingConfigFields}), so that a saved model holding the layer
 * loads in stock tfjs. Only for layers this package built itself: it sets an
 * own `getConfig` on the instance.
 */
export function completeGetConfig(layer: Layer): void {
  const missing = missingConfigFields(layer);
  if (Object.keys(missing).length === 0) return;
  const inherited = (Object.getPrototypeOf(layer) as Layer).getConfig;
  Object.defineProperty(layer, 'getConfig', {
    value: () => ({...inherited.call(layer), ...missing}),
    configurable: true,
    writable: true,
  });
}

/**
 * Removes from a layer config (a copy this package owns) what tfjs's
 * constructors would turn into a different config, so that the rebuilt
 * layer's `getConfig()` equals the config it was built from.
 * Porting note: tfjs 4.22's Embedding derives `batchInputShape` from
 * `inputLength` without setting `dtype`; built from a config that holds
 * that `batchInputShape`, tfjs's base constructor adds `dtype: 'float32'`.
 * Such a derived shape is left out, and the constructor derives it again.
 */
export function normalizeConfigForRebuild(className: string, config: Record<string, unknown>): void {
  if (className !== 'Embedding' || config['dtype'] != null || !Array.isArray(config['batchInputShape'])) return;
  const inputLength = config['inputLength'];
  const derived = [null, ...(inputLength == null ? [null] : [inputLength].flat())];
  if (JSON.stringify(config['batchInputShape']) === JSON.stringify(derived)) delete config['batchInputShape'];
}

/**
 * Config fields that tfjs-layers' own `getConfig()` forgets, so that a layer
 * rebuilt from its config has the same weight shapes.
 * Porting note: tfjs 4.22's SeparableConv2D.getConfig omits `depthMultiplier`
 * (a tfjs bug: such layers do not survive tfjs's own save and load either).
 */
export function missingConfigFields(layer: Layer): Record<string, unknown> {
  const config = layer.getConfig();
  const fields: Record<string, unknown> = {};
  const depthMultiplier = (layer as unknown as {depthMultiplier?: number}).depthMultiplier;
  if (layer.getClassName() === 'SeparableConv2D' && config['depthMultiplier'] === undefined &&
      depthMultiplier !== undefined) {
    fields['depthMultiplier'] = depthMultiplier;
  }
  return fields;
}
