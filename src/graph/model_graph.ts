/**
 * The model graph: one walk over a Sequential or functional model (nested
 * models and shared layers included) that lists every application of a layer
 * (a node), the tensors between them, and who produces and consumes each
 * tensor. Channel pruning reads it to find which layers are coupled. The
 * plainer walk over a model's layers ({@link layersOf}), which pruning,
 * stripping, the callbacks and the policies use, is here too.
 *
 * A nested model is not a node of its own: its layers' nodes join the graph,
 * and each application of the nested model adds `link` nodes that connect the
 * outer tensors to its inner inputs and its inner outputs to the outer
 * tensors (identity edges). A shared layer has one node per application.
 */
import * as tfl from '@tensorflow/tfjs-layers';

type Layer = tfl.layers.Layer;
type SymbolicTensor = tfl.SymbolicTensor;

/** A tensor between two nodes, with its shape (the batch dimension is `null`). */
export interface GraphTensor {
  /** Position in {@link ModelGraph.tensors}. */
  readonly index: number;
  readonly shape: ReadonlyArray<number | null>;
  /** The node that computes it; `null` for an input of the top-level model. */
  producer: GraphNode | null;
  /** The nodes that read it, with the input position at which they read it. */
  readonly consumers: Array<{node: GraphNode; input: number}>;
}

/** One application of a layer, or an identity edge across a nested model's boundary. */
export interface GraphNode {
  readonly kind: 'layer' | 'link';
  /** The layer applied; for a link, the nested model whose boundary it crosses. */
  readonly layer: Layer;
  /** The layer's path from the top-level model, e.g. `"encoder/conv1"`. */
  readonly path: string;
  readonly inputs: GraphTensor[];
  readonly outputs: GraphTensor[];
  /** For a link: whether it enters or leaves the nested model, and which of its inputs or outputs. */
  readonly boundary?: {readonly side: 'input' | 'output'; readonly index: number};
}

/** A model as a graph of nodes and tensors, in topological order. */
export interface ModelGraph {
  readonly model: tfl.LayersModel;
  /** Every node, each after the nodes producing its inputs. */
  readonly nodes: GraphNode[];
  readonly tensors: GraphTensor[];
  /** The top-level model's inputs and outputs, in order. */
  readonly inputs: GraphTensor[];
  readonly outputs: GraphTensor[];
  /** Every distinct layer that is not a model or an input layer, with its path (first application's). */
  readonly layers: Array<{layer: Layer; path: string}>;
}

/** Whether `layer` is a Sequential or functional model used as a layer. */
export function isNestedModel(layer: Layer): layer is tfl.LayersModel {
  return layer instanceof tfl.LayersModel;
}

/**
 * Every layer of `roots` and of the models nested in them, each once (a shared
 * layer or model at its first place), depth first in `model.layers` order:
 * the walk over a model's layers, where {@link buildModelGraph} walks its
 * nodes. Disconnected layers are included; input layers are not skipped.
 *
 * @param roots A layer or model, or a list of them.
 * @param options.models Whether to yield the nested models too (each before its layers). Default false.
 */
export function* layersOf(roots: Layer | readonly Layer[], options: {models?: boolean} = {}): Generator<Layer> {
  const seen = new Set<Layer>();
  const stack = (Array.isArray(roots) ? [...roots] : [roots]).reverse();
  while (stack.length > 0) {
    const layer = stack.pop()!;
    if (seen.has(layer)) continue;
    seen.add(layer);
    if (isNestedModel(layer)) {
      if (options.models === true) yield layer;
      for (let i = layer.layers.length - 1; i >= 0; i--) stack.push(layer.layers[i]);
    } else {
      yield layer;
    }
  }
}

/** Properties through which tfjs-layers containers and wrappers hold their inner layers. */
const INNER_LAYER_KEYS = ['layers', 'layer', 'forwardLayer', 'backwardLayer', 'cell', 'cells'];

/** The layers `layer` holds: a model's layers, a wrapper's layer, a Bidirectional's two, an RNN's cell(s). */
function innerLayersOf(layer: Layer): Layer[] {
  const found: Layer[] = [];
  for (const key of INNER_LAYER_KEYS) {
    const value = (layer as unknown as Record<string, unknown>)[key];
    for (const item of Array.isArray(value) ? value : [value]) {
      if (isLayerLike(item)) found.push(item as Layer);
    }
  }
  return found;
}

/** Whether `value` looks like a layer (a name, weights, a class name), whichever copy of tfjs-layers made it. */
function isLayerLike(value: unknown): boolean {
  const v = value as {name?: unknown; weights?: unknown; getClassName?: unknown} | null;
  return v != null && typeof v === 'object' && typeof v.name === 'string' && Array.isArray(v.weights) &&
      typeof v.getClassName === 'function';
}

/**
 * Every layer below `root` and `root` itself, each once, innermost first: the
 * layers of nested models, the layers wrappers hold (pruning and clustering
 * wrappers, Bidirectional, TimeDistributed) and RNN cells, each yielded
 * before the layer that contains it, with the names of the layers that
 * contain it (outermost first, `root` excluded, the layer's own name last).
 * For questions about who owns a weight; {@link layersOf} is the walk over a
 * model's layers.
 */
export function* layerTree(root: Layer): Generator<{layer: Layer; path: string[]}> {
  const seen = new Set<Layer>();
  function* visit(layer: Layer, path: string[]): Generator<{layer: Layer; path: string[]}> {
    if (seen.has(layer)) return;
    seen.add(layer);
    for (const inner of innerLayersOf(layer)) yield* visit(inner, [...path, inner.name]);
    yield {layer, path};
  }
  yield* visit(root, []);
}

class GraphBuilder {
  readonly nodes: GraphNode[] = [];
  readonly tensors: GraphTensor[] = [];
  readonly layers: Array<{layer: Layer; path: string}> = [];
  private readonly byId = new Map<number, GraphTensor>();
  private readonly seenLayers = new Set<Layer>();
  private readonly visitedModels = new Set<tfl.LayersModel>();
  private readonly pending = new Set<number>();

  tensorOf(symbolic: SymbolicTensor): GraphTensor | undefined {
    return this.byId.get(symbolic.id);
  }

  private newTensor(symbolic: SymbolicTensor, producer: GraphNode | null): GraphTensor {
    const tensor: GraphTensor = {index: this.tensors.length, shape: [...symbolic.shape], producer, consumers: []};
    this.tensors.push(tensor);
    this.byId.set(symbolic.id, tensor);
    return tensor;
  }

  private addNode(kind: GraphNode['kind'], layer: Layer, path: string, inputs: GraphTensor[],
      boundary?: GraphNode['boundary']): GraphNode {
    const node: GraphNode = {kind, layer, path, inputs, outputs: [], ...(boundary ? {boundary} : {})};
    inputs.forEach((tensor, input) => tensor.consumers.push({node, input}));
    this.nodes.push(node);
    return node;
  }

  /** The graph tensor of `symbolic`, visiting everything it depends on first. */
  visit(symbolic: SymbolicTensor, prefix: string, modelInputs: Set<number>): GraphTensor {
    const known = this.byId.get(symbolic.id);
    if (known !== undefined) return known;
    if (this.pending.has(symbolic.id)) {
      throw new Error(`model graph: tensor ${symbolic.name} depends on itself.`);
    }
    const layer = symbolic.sourceLayer;
    if (modelInputs.has(symbolic.id) || layer.getClassName() === 'InputLayer') {
      return this.newTensor(symbolic, null);
    }
    this.pending.add(symbolic.id);
    const inbound = layer.inboundNodes[symbolic.nodeIndex];
    const inputs = inbound.inputTensors.map((t) => this.visit(t, prefix, modelInputs));
    if (isNestedModel(layer)) {
      this.visitNested(layer, prefix, inputs, inbound.outputTensors);
    } else {
      const path = prefix + layer.name;
      if (!this.seenLayers.has(layer)) {
        this.seenLayers.add(layer);
        this.layers.push({layer, path});
      }
      const node = this.addNode('layer', layer, path, inputs);
      for (const output of inbound.outputTensors) node.outputs.push(this.newTensor(output, node));
    }
    this.pending.delete(symbolic.id);
    const tensor = this.byId.get(symbolic.id);
    if (tensor === undefined) throw new Error(`model graph: no node computes tensor ${symbolic.name}.`);
    return tensor;
  }

  /** One application of a nested model: links in, its inner graph (once), links out. */
  private visitNested(
      model: tfl.LayersModel, prefix: string, outerInputs: GraphTensor[], outerOutputs: SymbolicTensor[]): void {
    const path = prefix + model.name;
    const innerPrefix = `${path}/`;
    const innerInputIds = new Set(model.inputs.map((t) => t.id));
    const innerInputs = model.inputs.map((t) => this.byId.get(t.id) ?? this.newTensor(t, null));
    outerInputs.forEach((outer, i) => {
      const link = this.addNode('link', model, path, [outer], {side: 'input', index: i});
      link.outputs.push(innerInputs[i]);
      if (innerInputs[i].producer === null) innerInputs[i].producer = link;
    });
    if (!this.visitedModels.has(model)) {
      this.visitedModels.add(model);
      for (const output of model.outputs) this.visit(output, innerPrefix, innerInputIds);
    }
    model.outputs.forEach((inner, j) => {
      const link = this.addNode('link', model, path, [this.visit(inner, innerPrefix, innerInputIds)],
          {side: 'output', index: j});
      link.outputs.push(this.newTensor(outerOutputs[j], link));
    });
  }
}

/**
 * Builds the graph of `model`: every node reachable from its outputs, in
 * topological order.
 *
 * @param model A Sequential or functional model (built: it has inputs).
 */
export function buildModelGraph(model: tfl.LayersModel): ModelGraph {
  const builder = new GraphBuilder();
  const inputIds = new Set(model.inputs.map((t) => t.id));
  for (const output of model.outputs) builder.visit(output, '', inputIds);
  const inputs = model.inputs.map((t) => builder.tensorOf(t)).filter((t): t is GraphTensor => t !== undefined);
  const outputs = model.outputs.map((t) => builder.visit(t, '', inputIds));
  return {model, nodes: builder.nodes, tensors: builder.tensors, inputs, outputs, layers: builder.layers};
}
