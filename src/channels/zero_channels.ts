/**
 * Which channels of a model are exactly zero for every input: propagated
 * node by node from the weights (a filter of zeros with a zero bias, a
 * BatchNormalization with gamma = beta = 0, a sum of zero channels, ...).
 */
import * as tfl from '@tensorflow/tfjs-layers';

import type {GraphTensor} from '../graph/model_graph';
import type {ChannelAnalysis} from './channel_analysis';
import {weightIndex} from './layer_access';
import {ruleFor} from './rules';
import type {WeightValues, ZeroContext} from './rules/rule';

/** Per tensor, whether each channel is exactly zero (null when nothing is known). */
export function zeroChannels(analysis: ChannelAnalysis): Map<GraphTensor, boolean[] | null> {
  const zeros = new Map<GraphTensor, boolean[] | null>();
  const values = new Map<tfl.LayerVariable, WeightValues>();
  const read = (variable: tfl.LayerVariable): WeightValues => {
    let entry = values.get(variable);
    if (entry === undefined) {
      entry = {values: variable.read().dataSync() as Float32Array, shape: variable.shape as number[]};
      values.set(variable, entry);
    }
    return entry;
  };
  for (const tensor of analysis.graph.inputs) zeros.set(tensor, null);
  // The inner inputs of a nested model applied more than once: nothing is known of them.
  const linked = new Map<GraphTensor, number>();
  for (const node of analysis.graph.nodes) {
    if (node.kind === 'link') node.outputs.forEach((t) => linked.set(t, (linked.get(t) ?? 0) + 1));
  }
  for (const node of analysis.graph.nodes) {
    const inputs = node.inputs.map((t) => zeros.get(t) ?? null);
    let outputs: Array<boolean[] | null>;
    if (node.kind === 'link') {
      outputs = [inputs[0] === null ? null : [...inputs[0]]];
    } else {
      const rule = ruleFor(node.layer.getClassName());
      const layer = node.layer;
      const ctx: ZeroContext = {
        node,
        config: layer.getConfig(),
        inputs,
        weight(role) {
          const index = weightIndex(layer, role);
          return index < 0 ? null : read(layer.weights[index]);
        },
      };
      outputs = rule === undefined ? node.outputs.map(() => null) : rule.zeroOutputs(ctx);
    }
    node.outputs.forEach((tensor, i) => {
      const zero = (linked.get(tensor) ?? 0) > 1 ? null : outputs[i] ?? null;
      const channels = tensor.shape[tensor.shape.length - 1];
      zeros.set(tensor, zero !== null && zero.length === channels ? zero : null);
    });
  }
  return zeros;
}
