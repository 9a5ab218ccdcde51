/**
 * Builds the channel space of a model and sorts its components into groups:
 * the channels that must be removed together, gathered by the layers and
 * weights they span (one group per coupled set of layers, one entry per channel).
 */
import * as tfl from '@tensorflow/tfjs-layers';

import {type GraphNode, type ModelGraph, buildModelGraph} from '../graph/model_graph';
import {ChannelSpace, type ParamAxis} from './channel_space';
import {weightRole} from './layer_access';
import {ConnectContext, ruleFor, unsupportedReason} from './rules';

/** One weight slice of a channel. */
export interface ChannelSlice {
  readonly param: ParamAxis;
  readonly index: number;
}

/** One removable unit: a component of the channel space that owns weight slices. */
export interface Channel {
  readonly root: number;
  readonly slots: number[];
  readonly slices: ChannelSlice[];
  readonly reasons: string[];
}

/** Channels that span the same layers and weights. */
export interface ChannelGroupInternal {
  readonly id: number;
  /** `path:weight@axis`, sorted: what every channel of the group spans. */
  readonly members: string[];
  readonly channels: Channel[];
}

export interface ChannelAnalysis {
  readonly graph: ModelGraph;
  readonly space: ChannelSpace;
  readonly groups: ChannelGroupInternal[];
  /** Path of each layer (its first application). */
  readonly paths: Map<tfl.layers.Layer, string>;
}

/** The layer a PruneLowMagnitude wrapper holds (channel masks live on its weights), or the layer itself. */
export function unwrapped(layer: tfl.layers.Layer): tfl.layers.Layer {
  const inner = (layer as unknown as {layer?: unknown}).layer;
  return layer.getClassName() === 'PruneLowMagnitude' && inner instanceof tfl.layers.Layer ? inner : layer;
}

function connectNode(space: ChannelSpace, node: GraphNode): void {
  if (node.kind === 'link') {
    const input = space.slotsOf(node.inputs[0]);
    const output = space.slotsOf(node.outputs[0]);
    if (input !== null && output !== null && input.length === output.length) {
      space.unionAll(input, output);
    } else {
      space.blockTensor(node.inputs[0], `the boundary of nested model "${node.path}" has unknown channels`);
      space.blockTensor(node.outputs[0], `the boundary of nested model "${node.path}" has unknown channels`);
    }
    return;
  }
  const layer = unwrapped(node.layer);
  const className = layer.getClassName();
  const rule = ruleFor(className);
  const ctx = new ConnectContext(space, node, layer);
  if (rule === undefined) {
    ctx.blockAll(unsupportedReason(className));
  } else {
    rule.connect(ctx);
  }
}

/** Analyses the channels of a Sequential or functional model, without changing it. */
export function analyseChannels(model: tfl.LayersModel): ChannelAnalysis {
  const graph = buildModelGraph(model);
  const space = new ChannelSpace();
  for (const node of graph.nodes) connectNode(space, node);
  graph.inputs.forEach((t) => space.blockTensor(t, 'a model input keeps its shape'));
  graph.outputs.forEach((t) => space.blockTensor(t, 'a model output keeps its shape'));
  const paths = new Map(graph.layers.map(({layer, path}) => [unwrapped(layer), path]));

  const channels = new Map<number, Channel>();
  const reasons = space.reasonsByRoot();
  const channelOf = (slot: number): Channel => {
    const root = space.find(slot);
    let channel = channels.get(root);
    if (channel === undefined) {
      channel = {root, slots: [], slices: [], reasons: reasons.get(root) ?? []};
      channels.set(root, channel);
    }
    return channel;
  };
  for (const param of space.params) param.slots.forEach((slot, index) => channelOf(slot).slices.push({param, index}));
  for (let slot = 0; slot < space.size; slot++) channels.get(space.find(slot))?.slots.push(slot);

  const groups = new Map<string, ChannelGroupInternal>();
  for (const channel of [...channels.values()].sort((a, b) => a.root - b.root)) {
    const members = [...new Set(channel.slices.map(({param}) =>
      `${paths.get(param.layer) ?? param.layer.name}:${weightRole(param.layer.weights[param.weight])}@${param.axis}`))]
        .sort();
    const key = members.join('|');
    let group = groups.get(key);
    if (group === undefined) {
      group = {id: groups.size, members, channels: []};
      groups.set(key, group);
    }
    group.channels.push(channel);
  }
  return {graph, space, groups: [...groups.values()], paths};
}
