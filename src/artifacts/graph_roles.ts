/**
 * What each weight of a graph model is, read from the ops that consume it: a
 * convolution filter, a depthwise filter, a matrix of a MatMul (with its
 * transposes), a bias of a fused op, or something else. The op decides the
 * output-channel axis for per-channel quantization and how a kernel is seen as
 * an `[inputs, outputs]` matrix for block and M-by-N pruning.
 *
 * Porting note: tfjs-converter names a weight after its Const node, and folds
 * a BiasAdd (and batch norm) into `_FusedConv2D`, `FusedDepthwiseConv2dNative`
 * and `_FusedMatMul`, whose inputs from the third on are the fused arguments.
 */
import {GraphNode, graphNodes} from './model_format';
import type {ArtifactWeightRole, KernelLayout} from './weight_role';

/** What one consuming op makes of a weight at one of its inputs. */
interface Use {
  /** The output-channel axis as a function of the weight's rank, or null (per tensor). */
  axis: ((rank: number) => number) | null;
  isBias: boolean;
  kernel: KernelLayout | null;
}

const GENERIC: Use = {axis: null, isBias: false, kernel: null};
const BIAS: Use = {axis: null, isBias: true, kernel: null};

/** Filters `[h, w, in, out]` (and `[d, h, w, in, out]`): outputs on the last axis. */
const FILTER: Use = {axis: (rank) => rank - 1, isBias: false, kernel: 'inputs-outputs'};
/** Depthwise filters `[h, w, in, multiplier]`: one channel per input channel; no matrix view. */
const DEPTHWISE: Use = {axis: (rank) => rank - 2, isBias: false, kernel: 'depthwise'};
/** Conv2DBackpropInput filters `[h, w, out, in]`: outputs on axis rank - 2; no matrix view. */
const TRANSPOSED_FILTER: Use = {axis: (rank) => rank - 2, isBias: false, kernel: 'transposed-convolution'};

const CONVOLUTIONS = new Set(['Conv2D', '_FusedConv2D', 'Conv3D', 'Conv1D']);
const DEPTHWISE_CONVOLUTIONS = new Set(['DepthwiseConv2dNative', 'FusedDepthwiseConv2dNative']);
const MATMULS = new Set(['MatMul', '_FusedMatMul', 'BatchMatMul', 'BatchMatMulV2', 'BatchMatMulV3']);
/** Ops whose inputs from index 2 on are fused arguments (bias, batch-norm terms, PReLU alpha). */
const FUSED = new Set(['_FusedConv2D', 'FusedDepthwiseConv2dNative', '_FusedMatMul']);
/** Ops that pass their input through unchanged: a weight read through them keeps their consumers. */
const PASS_THROUGH = new Set(['Identity', 'IdentityN', 'StopGradient', 'Snapshot']);

function boolAttr(node: GraphNode, ...names: string[]): boolean {
  for (const name of names) {
    const value = (node.attr?.[name] as {b?: unknown} | undefined)?.b;
    if (value === true) return true;
  }
  return false;
}

/**
 * A MatMul's operand: `b` is `[in, out]` (or `[out, in]` with transpose_b), `a` is
 * `[out, in]` (or `[in, out]` with transpose_a); the batch axes of BatchMatMul
 * come first. The output channels are the axis that is not contracted.
 */
function matMulUse(node: GraphNode, index: number): Use {
  if (index === 1) {
    const transposed = boolAttr(node, 'transpose_b', 'adj_y');
    return {
      axis: (rank) => (transposed ? rank - 2 : rank - 1), isBias: false,
      kernel: transposed ? 'outputs-inputs' : 'inputs-outputs',
    };
  }
  const transposed = boolAttr(node, 'transpose_a', 'adj_x');
  return {
    axis: (rank) => (transposed ? rank - 1 : rank - 2), isBias: false,
    kernel: transposed ? 'inputs-outputs' : 'outputs-inputs',
  };
}

function useAt(node: GraphNode, index: number): Use {
  const op = node.op;
  if (FUSED.has(op) && index >= 2) return BIAS;
  if (CONVOLUTIONS.has(op)) return index === 1 ? FILTER : GENERIC;
  if (DEPTHWISE_CONVOLUTIONS.has(op)) return index === 1 ? DEPTHWISE : GENERIC;
  if (op === 'Conv2DBackpropInput') return index === 1 ? TRANSPOSED_FILTER : GENERIC;
  if (MATMULS.has(op)) return index <= 1 ? matMulUse(node, index) : GENERIC;
  if (op === 'BiasAdd' && index === 1) return BIAS;
  return GENERIC;
}

/** Ops that read a weight as a table of rows (an embedding): a weight operand, as kernels are. */
const LOOKUPS = new Set(['GatherV2', 'Gather', 'ResourceGather', 'GatherNd']);

/**
 * Whether a graph model's weight is a weight operand, worth quantizing: a kernel (the filter or matrix
 * of a convolution, a depthwise convolution or a MatMul), a table only lookup ops read, or a weight no
 * known op reads (its use is unknown: it is treated as before). Constants that elementwise, shape or
 * other ops read (`Add`/`Mul` operands such as folded batch-norm terms, normalisation constants or
 * anchors, `Reshape`/`Concat`/`Pad` operands, PReLU alphas) are not: they are small or sensitive, and
 * an error in them moves every output that reads them.
 */
export function isWeightOperand(role: ArtifactWeightRole): boolean {
  return role.ops.length === 0 || role.kernel !== null || role.ops.every((op) => LOOKUPS.has(op));
}

/** `name`, `name:1` and `^name` (a control input) all name the node `name`; control inputs are not data. */
function inputNode(input: string): string | null {
  if (input.startsWith('^')) return null;
  const colon = input.lastIndexOf(':');
  return colon > 0 && /^\d+$/.test(input.slice(colon + 1)) ? input.slice(0, colon) : input;
}

/**
 * The role of every weight named in `names`, from the GraphDef `topology`
 * (tfjs-converter's model.json `modelTopology`). A weight consumed by several ops
 * keeps a channel axis and a kernel layout only when they all agree; a weight
 * no op consumes (or only ops this module does not know) is quantized per tensor
 * and never pruned.
 *
 * @param shapes The shape of each weight, by name (from the weights manifest).
 */
export function describeGraphWeights(
    topology: Record<string, unknown>, shapes: ReadonlyMap<string, readonly number[]>): Map<string, ArtifactWeightRole> {
  const consumers = new Map<string, Array<{node: GraphNode; index: number}>>();
  for (const node of graphNodes(topology)) {
    (node.input ?? []).forEach((input, index) => {
      if (typeof input !== 'string') return;
      const source = inputNode(input);
      if (source === null) return;
      let list = consumers.get(source);
      if (list === undefined) consumers.set(source, list = []);
      list.push({node, index});
    });
  }
  const usesOf = (name: string, seen: Set<string>): Array<{op: string; use: Use}> => {
    if (seen.has(name)) return [];
    seen.add(name);
    return (consumers.get(name) ?? []).flatMap(({node, index}) =>
      PASS_THROUGH.has(node.op) ? usesOf(node.name, seen) : [{op: node.op, use: useAt(node, index)}]);
  };
  const roles = new Map<string, ArtifactWeightRole>();
  for (const [name, shape] of shapes) {
    const uses = usesOf(name, new Set());
    const rank = shape.length;
    const axes = new Set(uses.map(({use}) => (use.axis === null ? null : use.axis(rank))));
    const kernels = new Set(uses.map(({use}) => use.kernel));
    const axis = axes.size === 1 ? [...axes][0] : null;
    roles.set(name, {
      names: [name],
      ops: [...new Set(uses.map(({op}) => op))],
      isBias: uses.length > 0 && uses.every(({use}) => use.isBias),
      channelAxis: axis !== null && axis !== undefined && axis >= 0 && axis < rank ? axis : null,
      kernel: kernels.size === 1 && rank >= 2 ? [...kernels][0] : null,
    });
  }
  return roles;
}
