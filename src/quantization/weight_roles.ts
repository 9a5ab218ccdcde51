/**
 * What each weight of a model is: which layer owns it, whether it is a bias,
 * and which axis holds its output channels (for per-channel quantization).
 */
import type * as tfl from '@tensorflow/tfjs-layers';

import {layerTree} from '../graph/model_graph';

/** The facts about one weight that decide how it is quantized. */
export interface WeightRole {
  /** The names of the layers that contain the weight, outermost first (the model itself excluded). */
  layerNames: string[];
  /** The class name of the innermost layer that owns the weight. */
  className: string;
  /** Whether the weight is a bias (the owner's `bias` variable, or a name ending in `/bias`). */
  isBias: boolean;
  /** The output-channel axis for per-channel quantization, or null when the weight is quantized per tensor. */
  channelAxis: number | null;
}

/**
 * Output-channel axis (as a function of the weight's rank) for the kernels
 * TFLite quantizes per channel: the last axis of Dense and Conv kernels, the
 * filters axis (rank - 2) of transposed convolutions (tfjs shape
 * `[..., filters, inChannels]`), and the input-channel axis of depthwise
 * kernels (`[h, w, inChannels, multiplier]`).
 */
export const CHANNEL_AXIS: Readonly<Record<string, Readonly<Record<string, (rank: number) => number>>>> = {
  Dense: {kernel: (rank) => rank - 1},
  Conv1D: {kernel: (rank) => rank - 1},
  Conv2D: {kernel: (rank) => rank - 1},
  Conv3D: {kernel: (rank) => rank - 1},
  Conv2DTranspose: {kernel: (rank) => rank - 2},
  Conv3DTranspose: {kernel: (rank) => rank - 2},
  DepthwiseConv2D: {depthwiseKernel: (rank) => rank - 2},
  SeparableConv2D: {depthwiseKernel: (rank) => rank - 2, pointwiseKernel: (rank) => rank - 1},
};

function roleOf(variable: tfl.LayerVariable, layer: tfl.layers.Layer, layerNames: string[]): WeightRole {
  const owner = layer as unknown as Record<string, unknown>;
  const className = layer.getClassName();
  const isBias = owner['bias'] === variable || variable.originalName.endsWith('/bias');
  let channelAxis: number | null = null;
  const axes = CHANNEL_AXIS[className];
  if (axes !== undefined && !isBias) {
    for (const [key, axisOf] of Object.entries(axes)) {
      if (owner[key] === variable) channelAxis = axisOf(variable.shape.length);
    }
  }
  return {layerNames, className, isBias, channelAxis};
}

/**
 * Maps every weight of `model` to its {@link WeightRole}. Inner layers
 * (nested models, wrapped layers, RNN cells) are visited before their
 * container, so a weight belongs to the innermost layer that holds it.
 */
export function describeModelWeights(model: tfl.LayersModel): Map<tfl.LayerVariable, WeightRole> {
  const roles = new Map<tfl.LayerVariable, WeightRole>();
  for (const {layer, path} of layerTree(model)) {
    for (const variable of layer.weights) {
      if (!roles.has(variable)) roles.set(variable, roleOf(variable, layer, path));
    }
  }
  return roles;
}
