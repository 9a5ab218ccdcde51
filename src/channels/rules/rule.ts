/**
 * The contract of a channel rule: how one kind of layer couples the channels
 * of its inputs, outputs and weights, which of its output channels are
 * exactly zero, and how its config changes when channels go. One file per
 * kind of layer; `index.ts` lists them.
 */
import * as tf from '@tensorflow/tfjs-core';

import type {GraphNode, GraphTensor} from '../../graph/model_graph';
import type {ChannelSpace} from '../channel_space';
import {type Layer, activationName, describeLayer, keepsZero, weightIndex} from '../layer_access';

type ConfigDict = tf.serialization.ConfigDict;

/** What a rule sees of one application of its layer while the channel space is built. */
export class ConnectContext {
  readonly config: ConfigDict;
  readonly where: string;

  /** `layer` is the node's layer, or the layer a pruning wrapper holds. */
  constructor(readonly space: ChannelSpace, readonly node: GraphNode, readonly layer: Layer = node.layer) {
    this.config = layer.getConfig();
    this.where = describeLayer(node.path, layer);
  }

  input(i = 0): GraphTensor {
    return this.node.inputs[i];
  }

  output(i = 0): GraphTensor {
    return this.node.outputs[i];
  }

  /**
   * Blocks every channel of the output when the layer's activation does not
   * map 0 to 0: a removed channel would not read as zero after it.
   */
  blockUnlessActivationKeepsZero(): void {
    const activation = activationName(this.config);
    if (!keepsZero(activation)) {
      this.space.blockTensor(this.output(), `${this.where} has activation '${activation}', which does not map 0 to 0`);
    }
  }

  /** Blocks every channel this node reads or writes, with `reason` after the layer's name. */
  blockAll(reason: string): void {
    const text = `${this.where} ${reason}`;
    for (const tensor of [...this.node.inputs, ...this.node.outputs]) this.space.blockTensor(tensor, text);
  }

  /**
   * The layer's slots for `role` joined to `tensorSlots`; on the layer's
   * first application `register` records which weight axes they index.
   */
  layerSlots(role: string, tensorSlots: readonly number[], register: (slots: number[]) => void): number[] {
    const first = !this.space.hasLayerRole(this.layer, role);
    const slots = this.space.slotsOfLayer(this.layer, role, tensorSlots.length);
    if (slots.length !== tensorSlots.length) {
      this.blockAll(`is applied to tensors with ${tensorSlots.length} and ${slots.length} channels`);
    } else {
      this.space.unionAll(slots, tensorSlots);
    }
    if (first) register(slots);
    return slots;
  }

  /** Registers `slots` as indexing axis `axis` of the weight called `role` (when the layer has it). */
  param(role: string, axis: number | ((rank: number) => number), slots: readonly number[]): void {
    const index = weightIndex(this.layer, role);
    if (index < 0) return;
    const rank = this.layer.weights[index].shape.length;
    this.space.addParam(this.layer, index, typeof axis === 'number' ? axis : axis(rank), slots);
  }
}

/** A weight's values, row-major, with its shape. */
export interface WeightValues {
  readonly values: ArrayLike<number>;
  readonly shape: readonly number[];
}

/** What a rule sees when it says which of its output channels are exactly zero. */
export interface ZeroContext {
  readonly node: GraphNode;
  readonly config: ConfigDict;
  /** Per input: whether each channel is exactly zero for any model input (null when unknown). */
  readonly inputs: ReadonlyArray<readonly boolean[] | null>;
  /** The weight called `role`, or null when the layer has none. */
  weight(role: string): WeightValues | null;
}

/** How one kind of layer takes part in channel pruning. */
export interface ChannelRule {
  /** The tfjs class names it handles. */
  readonly classNames: readonly string[];
  /** Joins the node's slots, registers the layer's weight axes, blocks what cannot be removed. */
  connect(ctx: ConnectContext): void;
  /** Per output, whether each channel is exactly zero; null where nothing is known. */
  zeroOutputs(ctx: ZeroContext): Array<boolean[] | null>;
  /** Writes the new number of output channels into the layer's config (layers that own them). */
  resize?(config: ConfigDict, outputChannels: number): void;
}
