/**
 * What the channel rules read off a layer: its config, its weights by role
 * name, whether its activation keeps a zero channel zero.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

export type Layer = tfl.layers.Layer;

/** Activations `f` with `f(0) = 0` that act on each channel alone. */
const ZERO_KEEPING = new Set(['linear', 'relu', 'relu6', 'elu', 'selu', 'tanh', 'softsign', 'swish', 'mish', 'gelu',
  'gelunew', 'leakyrelu']);

/** The activation's identifier in a layer config, lower-cased without separators (`'linear'` when none). */
export function activationName(config: tf.serialization.ConfigDict): string {
  const value = config['activation'];
  if (value == null) return 'linear';
  const name = typeof value === 'string' ? value :
    String((value as {className?: unknown}).className ?? (value as {class_name?: unknown}).class_name ?? value);
  return name.toLowerCase().replace(/[_-]/g, '');
}

/** Whether the activation maps 0 to 0 channel by channel. */
export function keepsZero(activation: string): boolean {
  return ZERO_KEEPING.has(activation);
}

/** The short name of a weight: `"conv/kernel"` -> `"kernel"`. */
export function weightRole(weight: tfl.LayerVariable): string {
  const name = weight.originalName ?? weight.name;
  return name.slice(name.lastIndexOf('/') + 1).replace(/_\d+$/, '');
}

/** Index of the layer's weight called `role` (`"kernel"`, `"bias"`, `"gamma"`, ...), or -1. */
export function weightIndex(layer: Layer, role: string): number {
  return layer.weights.findIndex((w) => weightRole(w) === role);
}

/** Whether the layer computes on channels-last data (the only layout the rules understand). */
export function channelsLast(config: tf.serialization.ConfigDict): boolean {
  const format = config['dataFormat'];
  return format == null || format === 'channelsLast';
}

/** The last-axis size of a shape, or null. */
export function lastDim(shape: ReadonlyArray<number | null>): number | null {
  return shape.length === 0 ? null : shape[shape.length - 1];
}

/** `"conv1" (Conv2D)`, for reasons and errors. */
export function describeLayer(path: string, layer: Layer): string {
  return `"${path}" (${layer.getClassName()})`;
}
