/**
 * The kernels of a graph model (tfjs-converter's GraphDef) that calibration
 * handles, read from the ops that consume them, and the run that captures
 * their activations: the model executed with the activations' node outputs
 * as its outputs.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type {GraphModel} from '@tensorflow/tfjs-converter';

import {GraphNode, graphNodes} from '../model_format';
import {isTensor} from './calibration_options';
import type {ActivationSource, CalibrationBatch, KernelUse} from './consumer';
import type {KernelOp, Padding} from './hessian';

const CONVOLUTIONS = new Set(['Conv2D', '_FusedConv2D']);
const DEPTHWISE = new Set(['DepthwiseConv2dNative', 'FusedDepthwiseConv2dNative']);
const MATMULS = new Set(['MatMul', '_FusedMatMul', 'BatchMatMul', 'BatchMatMulV2', 'BatchMatMulV3']);
const PASS_THROUGH = new Set(['Identity', 'IdentityN', 'StopGradient', 'Snapshot']);

function attr(node: GraphNode, name: string): Record<string, unknown> | undefined {
  return node.attr?.[name] as Record<string, unknown> | undefined;
}

function boolAttr(node: GraphNode, ...names: string[]): boolean {
  return names.some((name) => attr(node, name)?.['b'] === true);
}

function stringAttr(node: GraphNode, name: string): string | undefined {
  const s = attr(node, name)?.['s'];
  if (typeof s !== 'string') return undefined;
  // GraphDef strings are base64 in model.json.
  try {
    return atob(s);
  } catch {
    return undefined;
  }
}

function intsAttr(node: GraphNode, name: string): number[] | undefined {
  const list = (attr(node, name)?.['list'] as {i?: unknown[]} | undefined)?.i;
  return Array.isArray(list) ? list.map(Number) : undefined;
}

/** The spatial pair of an NHWC `[1, y, x, 1]` attribute (default 1s). */
function spatial(node: GraphNode, name: string): [number, number] | null {
  const values = intsAttr(node, name) ?? [1, 1, 1, 1];
  if (values.length !== 4 || !values.every((v) => Number.isInteger(v) && v >= 1)) return null;
  return [values[1], values[2]];
}

/** A convolution's geometry, or null for what calibration does not read (NCHW, odd attributes). */
function convolutionOp(node: GraphNode, kind: 'conv2d' | 'depthwise'): KernelOp | null {
  if ((stringAttr(node, 'data_format') ?? 'NHWC') !== 'NHWC') return null;
  const strides = spatial(node, 'strides');
  const dilations = spatial(node, 'dilations');
  const mode = stringAttr(node, 'padding');
  let padding: Padding;
  if (mode === 'SAME') padding = 'same';
  else if (mode === 'VALID') padding = 'valid';
  else if (mode === 'EXPLICIT') {
    const p = intsAttr(node, 'explicit_paddings');
    if (p === undefined || p.length !== 8 || !p.every((v) => Number.isInteger(v) && v >= 0)) return null;
    padding = [[p[2], p[3]], [p[4], p[5]]];
  } else return null;
  if (strides === null || dilations === null) return null;
  return {kind, strides, dilations, padding};
}

/** `name`, `name:0` and `name:1` as the output they name; null for a control input. */
function outputOf(input: string): {node: string; output: string} | null {
  if (input.startsWith('^')) return null;
  const colon = input.lastIndexOf(':');
  const indexed = colon > 0 && /^\d+$/.test(input.slice(colon + 1));
  const node = indexed ? input.slice(0, colon) : input;
  return {node, output: indexed && input.slice(colon + 1) !== '0' ? input : node};
}

/**
 * The uses of `weights` (name -> shape) in the GraphDef `topology`: each
 * op reading a weight as its filter or right-hand matrix. A weight any other
 * op reads, or read as an activation, is left out.
 */
export function graphKernelUses(topology: Record<string, unknown>, weights: ReadonlyMap<string, readonly number[]>):
    KernelUse[] {
  const nodes = graphNodes(topology);
  const readers = new Map<string, Array<{node: GraphNode; index: number}>>();
  for (const node of nodes) {
    (node.input ?? []).forEach((input, index) => {
      const source = typeof input === 'string' ? outputOf(input) : null;
      if (source === null) return;
      let list = readers.get(source.node);
      if (list === undefined) readers.set(source.node, list = []);
      list.push({node, index});
    });
  }
  const readersOf = (name: string, seen: Set<string>): Array<{node: GraphNode; index: number}> => {
    if (seen.has(name)) return [];
    seen.add(name);
    return (readers.get(name) ?? []).flatMap((r) => PASS_THROUGH.has(r.node.op) ? readersOf(r.node.name, seen) : [r]);
  };
  const uses: KernelUse[] = [];
  for (const [weight, shape] of weights) {
    const found: KernelUse[] = [];
    let usable = true;
    for (const {node, index} of readersOf(weight, new Set())) {
      const activations = typeof node.input?.[0] === 'string' ? outputOf(node.input[0]) : null;
      const use = index === 1 && activations !== null && !weights.has(activations.node) ?
        kernelUse(node, weight, shape, activations.output) : null;
      if (use === null) usable = false;
      else found.push(use);
    }
    if (usable) uses.push(...found);
  }
  return uses;
}

function kernelUse(node: GraphNode, weight: string, shape: readonly number[], activations: string): KernelUse | null {
  if (CONVOLUTIONS.has(node.op) && shape.length === 4) {
    const op = convolutionOp(node, 'conv2d');
    return op === null ? null : {weight, op, layout: 'inputs-outputs', activations};
  }
  if (DEPTHWISE.has(node.op) && shape.length === 4) {
    const op = convolutionOp(node, 'depthwise');
    return op === null ? null : {weight, op, layout: 'depthwise', activations};
  }
  if (MATMULS.has(node.op) && shape.length === 2 && !boolAttr(node, 'transpose_a', 'adj_x')) {
    const layout = boolAttr(node, 'transpose_b', 'adj_y') ? 'outputs-inputs' : 'inputs-outputs';
    return {weight, op: {kind: 'matmul'}, layout, activations};
  }
  return null;
}

/** A source over `model` (loaded from the artifacts being quantized) for `uses`. */
export function graphActivationSource(model: GraphModel, uses: KernelUse[]): ActivationSource {
  return {
    uses,
    async run(batch: CalibrationBatch, wanted: readonly string[]) {
      const keys = [...wanted];
      const fed = new Set<tf.Tensor>(isTensor(batch) ? [batch] : Object.values(batch));
      // execute refuses graphs with control flow or dynamic shapes, which executeAsync runs.
      let outputs: tf.Tensor | tf.Tensor[] = [];
      if (keys.length > 0) {
        try {
          outputs = model.execute(batch, keys);
        } catch (e) {
          if (!/executeAsync/.test((e as Error).message)) throw e;
          outputs = await model.executeAsync(batch, keys);
        }
      }
      const list = Array.isArray(outputs) ? outputs : [outputs];
      const activations = new Map<string, tf.Tensor>();
      keys.forEach((key, i) => activations.set(key, list[i]));
      return {activations, owned: [...new Set(list)].filter((t) => !fed.has(t))};
    },
    dispose: () => model.dispose(),
  };
}
