/**
 * The channel space of a model: one slot per channel of every tensor and of
 * every layer's parameters, joined into components by a union-find. Two slots
 * in one component must be removed together (Torch-Pruning's dependency
 * graph, one channel at a time). The rules in `channel_rules.ts` fill it.
 */
import type {GraphTensor} from '../graph/model_graph';
import type {Layer} from './layer_access';

/** A slice of a layer's weight that belongs to one channel: `weight[..., index, ...]` along `axis`. */
export interface ParamAxis {
  readonly layer: Layer;
  /** Index of the weight in `layer.weights`. */
  readonly weight: number;
  readonly axis: number;
  /** The slot of each index along `axis`. */
  readonly slots: readonly number[];
}

/** Union-find over integer slots, with the reasons that forbid removing a component. */
export class ChannelSpace {
  private readonly parent: number[] = [];
  private readonly tensorSlots = new Map<GraphTensor, number[] | null>();
  private readonly layerSlots = new Map<Layer, Map<string, number[]>>();
  private readonly reasons = new Map<number, string[]>();
  readonly params: ParamAxis[] = [];
  /** Slots read by a layer that mixes channels (a Dense or convolution input, a model output). */
  readonly mixedReads = new Map<number, GraphTensor>();

  private fresh(count: number): number[] {
    const slots: number[] = [];
    for (let i = 0; i < count; i++) {
      slots.push(this.parent.length);
      this.parent.push(this.parent.length);
    }
    return slots;
  }

  get size(): number {
    return this.parent.length;
  }

  find(slot: number): number {
    let root = slot;
    while (this.parent[root] !== root) root = this.parent[root];
    let s = slot;
    while (this.parent[s] !== root) {
      const next = this.parent[s];
      this.parent[s] = root;
      s = next;
    }
    return root;
  }

  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }

  /** Joins two equally long slot lists index by index. */
  unionAll(a: readonly number[], b: readonly number[]): void {
    a.forEach((slot, i) => this.union(slot, b[i]));
  }

  /** The slots of a tensor's last axis; `null` when its size is unknown (the tensor is then opaque). */
  slotsOf(tensor: GraphTensor): number[] | null {
    let slots = this.tensorSlots.get(tensor);
    if (slots === undefined) {
      const channels = tensor.shape.length >= 2 ? tensor.shape[tensor.shape.length - 1] : null;
      slots = channels == null ? null : this.fresh(channels);
      this.tensorSlots.set(tensor, slots);
    }
    return slots;
  }

  /** The slots of one of a layer's channel axes (`role`), made on first use and shared by its applications. */
  slotsOfLayer(layer: Layer, role: string, count: number): number[] {
    let roles = this.layerSlots.get(layer);
    if (roles === undefined) {
      roles = new Map();
      this.layerSlots.set(layer, roles);
    }
    let slots = roles.get(role);
    if (slots === undefined) {
      slots = this.fresh(count);
      roles.set(role, slots);
    }
    return slots;
  }

  /** The layer's slots for `role`, if any application made them. */
  layerRoleSlots(layer: Layer, role: string): number[] | undefined {
    return this.layerSlots.get(layer)?.get(role);
  }

  /** Whether this layer's slots for `role` already exist (its parameters are then registered). */
  hasLayerRole(layer: Layer, role: string): boolean {
    return this.layerSlots.get(layer)?.has(role) ?? false;
  }

  /** Records that `weight` of `layer` has one slice per slot along `axis`. */
  addParam(layer: Layer, weight: number, axis: number, slots: readonly number[]): void {
    this.params.push({layer, weight, axis, slots});
  }

  /** Forbids removing any component that holds one of `slots`. */
  block(slots: readonly number[] | null, reason: string): void {
    for (const slot of slots ?? []) {
      const list = this.reasons.get(slot);
      if (list === undefined) {
        this.reasons.set(slot, [reason]);
      } else if (!list.includes(reason)) {
        list.push(reason);
      }
    }
  }

  /** Blocks every channel of a tensor (nothing when it is opaque). */
  blockTensor(tensor: GraphTensor, reason: string): void {
    this.block(this.slotsOf(tensor), reason);
  }

  /** Marks slots as read by a layer that mixes channels, so removing them needs them to be zero. */
  markMixedRead(tensor: GraphTensor, slots: readonly number[]): void {
    for (const slot of slots) this.mixedReads.set(slot, tensor);
  }

  /** The reasons that forbid removing each component, by root. */
  reasonsByRoot(): Map<number, string[]> {
    const byRoot = new Map<number, string[]>();
    for (const [slot, reasons] of this.reasons) {
      const root = this.find(slot);
      const list = byRoot.get(root) ?? [];
      for (const reason of reasons) if (!list.includes(reason)) list.push(reason);
      byRoot.set(root, list);
    }
    return byRoot;
  }

  /** Every tensor with known channels and its slots. */
  tensorEntries(): Array<[GraphTensor, number[]]> {
    const entries: Array<[GraphTensor, number[]]> = [];
    for (const [tensor, slots] of this.tensorSlots) if (slots !== null) entries.push([tensor, slots]);
    return entries;
  }
}
