/**
 * The kernels of a layers model that calibration handles (Dense, Conv2D and
 * DepthwiseConv2D kernels of layers the model itself holds, channels last)
 * and the run that captures their activations: a model over the same layers
 * whose outputs are those layers' inputs.
 */
import type * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {isNestedModel} from '../../graph/model_graph';
import {isTensor} from './calibration_options';
import type {ActivationSource, CalibrationBatch, KernelUse} from './consumer';
import type {KernelOp} from './hessian';

type Layer = tfl.layers.Layer;
type SymbolicTensor = tfl.SymbolicTensor;

interface ConvConfig {
  strides?: number | number[];
  dilationRate?: number | number[];
  padding?: string;
  dataFormat?: string;
}

function pair(value: number | number[] | undefined): [number, number] | null {
  const [a, b] = Array.isArray(value) ? (value.length === 1 ? [value[0], value[0]] : value) : [value ?? 1, value ?? 1];
  return Number.isInteger(a) && Number.isInteger(b) && a >= 1 && b >= 1 ? [a, b] : null;
}

/** The kernel variable a layer of `className` applies, and how. */
function layerKernel(layer: Layer): {variable: string; op: KernelOp; layout: KernelUse['layout']} | null {
  const className = layer.getClassName();
  if (className === 'Dense') return {variable: 'kernel', op: {kind: 'matmul'}, layout: 'inputs-outputs'};
  if (className !== 'Conv2D' && className !== 'DepthwiseConv2D') return null;
  const config = layer.getConfig() as ConvConfig;
  const strides = pair(config.strides);
  const dilations = pair(config.dilationRate);
  if ((config.dataFormat ?? 'channelsLast') !== 'channelsLast' || strides === null || dilations === null) return null;
  if (config.padding !== 'same' && config.padding !== 'valid') return null;
  const kind = className === 'Conv2D' ? 'conv2d' : 'depthwise';
  return {
    variable: kind === 'conv2d' ? 'kernel' : 'depthwise_kernel',
    op: {kind, strides, dilations, padding: config.padding},
    layout: kind === 'conv2d' ? 'inputs-outputs' : 'depthwise',
  };
}

/** The saved name of a layer's variable (what the weights manifest calls it). */
function savedName(variable: tfl.LayerVariable): string {
  return (variable as unknown as {originalName?: string}).originalName ?? variable.name;
}

/** The inputs of each of `layer`'s calls in `model` (shared layers have several). */
function callInputs(layer: Layer): SymbolicTensor[] {
  const inputs: SymbolicTensor[] = [];
  for (let k = 0; k < layer.inboundNodes.length; k++) {
    const input = layer.getInputAt(k);
    if (!Array.isArray(input)) inputs.push(input);
  }
  return inputs;
}

/**
 * A source over `model` for its kernels named in `targets`: the kernels of
 * its own layers, and of the models nested in it (each call of a nested model
 * runs a source of its own on that call's input). Only the top-level source
 * disposes its model.
 */
export function layersActivationSource(model: tfl.LayersModel, targets: ReadonlySet<string>, owner = true):
    ActivationSource {
  const uses: KernelUse[] = [];
  const tensors: SymbolicTensor[] = [];
  const nested: Array<{at: number; source: ActivationSource}> = [];
  const indexOf = (input: SymbolicTensor) => {
    const at = tensors.indexOf(input);
    return at >= 0 ? at : tensors.push(input) - 1;
  };
  for (const layer of model.layers) {
    if (isNestedModel(layer)) {
      const inputs = callInputs(layer);
      for (const input of inputs) {
        const source = layersActivationSource(layer, targets, false);
        if (source.uses.length === 0) break;
        const at = indexOf(input);
        nested.push({at, source});
        uses.push(...source.uses.map((use) => ({...use, activations: `${at}>${use.activations}`})));
      }
      continue;
    }
    const kernel = layerKernel(layer);
    const variable = kernel === null ? undefined :
      layer.weights.find((w) => savedName(w).split('/').pop() === kernel.variable);
    if (kernel === null || variable === undefined || !targets.has(savedName(variable))) continue;
    for (const input of callInputs(layer)) {
      uses.push({weight: savedName(variable), op: kernel.op, layout: kernel.layout, activations: String(indexOf(input))});
    }
  }
  let probe: tfl.LayersModel | null = null;
  if (tensors.length > 0) {
    try {
      probe = tfl.model({inputs: model.inputs, outputs: tensors});
    } catch {
      // An input outside the model's own graph (a layer reused elsewhere): calibrate nothing.
      uses.length = 0;
      nested.length = 0;
    }
  }
  return {
    uses,
    async run(batch: CalibrationBatch, keys: readonly string[]) {
      const activations = new Map<string, tf.Tensor>();
      if (probe === null) return {activations, owned: []};
      const input = Array.isArray(batch) || isTensor(batch) ? batch :
        model.inputNames.map((name) => (batch as tf.NamedTensorMap)[name]);
      const fed = new Set<tf.Tensor>(Array.isArray(input) ? input : [input as tf.Tensor]);
      const outputs = probe.predict(input as tf.Tensor | tf.Tensor[]);
      const list = Array.isArray(outputs) ? outputs : [outputs];
      list.forEach((t, i) => activations.set(String(i), t));
      const owned = [...new Set(list)].filter((t) => !fed.has(t));
      for (const {at, source} of nested) {
        const prefix = `${at}>`;
        const wanted = keys.filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
        if (wanted.length === 0) continue;
        const inner = await source.run(list[at], wanted);
        inner.activations.forEach((t, k) => activations.set(prefix + k, t));
        owned.push(...inner.owned.filter((t) => !owned.includes(t)));
      }
      return {activations, owned};
    },
    dispose: () => {
      if (owner) model.dispose();
    },
  };
}
