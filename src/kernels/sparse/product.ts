/**
 * Reads the four kernels the sparse kernels cover (BatchMatMul,
 * _FusedMatMul, Conv2D, FusedConv2D) as one matrix product
 * `out = act(A x W + bias)` with a static weight `W`: the second operand of
 * a product, or the filter of a 1x1 convolution with unit strides and
 * dilations, no padding and NHWC data (which is a product of the
 * `[batch * height * width, inChannels]` activations with the
 * `[inChannels, outChannels]` filter). Anything else is null: the stock
 * kernel runs it.
 */
import {util} from '@tensorflow/tfjs-core';
import type {NamedAttrMap, TensorInfo} from '@tensorflow/tfjs-core';

/** The fused activations of tfjs's fused kernels. */
export type SparseActivation = 'linear' | 'relu' | 'relu6' | 'elu' | 'leakyrelu' | 'prelu' | 'sigmoid';
const ACTIVATIONS: readonly string[] = ['linear', 'relu', 'relu6', 'elu', 'leakyrelu', 'prelu', 'sigmoid'];

/** One kernel call read as a product. */
export interface Product {
  /** The activations. */
  a: TensorInfo;
  /** Products in the call: 1, or A's batch size when A is transposed (each its own `[k, m]` matrix). */
  batches: number;
  /** Rows of each product (all of A's rows when A is not transposed: its batch axes are rows too). */
  m: number;
  k: number;
  n: number;
  transposeA: boolean;
  /** The weight, `[k, n]` (`[n, k]` when `transposeB`), one matrix. */
  weight: TensorInfo;
  transposeB: boolean;
  outShape: number[];
  /** Length n, or absent. */
  bias?: TensorInfo;
  preluActivationWeights?: TensorInfo;
  activation: SparseActivation;
  leakyreluAlpha: number;
}

type Inputs = Record<string, TensorInfo | undefined>;

const isFloat = (info: TensorInfo | undefined): info is TensorInfo => info != null && info.dtype === 'float32';

/** The fused epilogue, or null when it is not one the sparse kernels apply. */
function epilogue(inputs: Inputs, attrs: NamedAttrMap, n: number):
    Pick<Product, 'bias' | 'preluActivationWeights' | 'activation' | 'leakyreluAlpha'> | null {
  const activation = (attrs.activation ?? 'linear') as string;
  if (!ACTIVATIONS.includes(activation)) return null;
  const {bias, preluActivationWeights} = inputs;
  if (bias != null && (!isFloat(bias) || bias.shape.length !== 1 || bias.shape[0] !== n)) return null;
  if (activation === 'prelu' && !isFloat(preluActivationWeights)) return null;
  return {
    bias: bias ?? undefined,
    preluActivationWeights: activation === 'prelu' ? preluActivationWeights : undefined,
    activation: activation as SparseActivation,
    leakyreluAlpha: (attrs.leakyreluAlpha as number | undefined) ?? 0.2,
  };
}

/** A BatchMatMul or _FusedMatMul call as a product, or null. */
export function readMatMul(inputs: Inputs, attrs: NamedAttrMap): Product | null {
  const {a, b} = inputs;
  if (!isFloat(a) || !isFloat(b) || a.shape.length < 2 || b.shape.length < 2) return null;
  const transposeA = attrs.transposeA === true;
  const transposeB = attrs.transposeB === true;
  const rankA = a.shape.length;
  const rankB = b.shape.length;
  // A weight with batch axes must have a single matrix (its batch axes all 1).
  for (let i = 0; i < rankB - 2; i++) if (b.shape[i] !== 1) return null;
  const rows = transposeA ? a.shape[rankA - 1] : a.shape[rankA - 2];
  const k = transposeA ? a.shape[rankA - 2] : a.shape[rankA - 1];
  const n = transposeB ? b.shape[rankB - 2] : b.shape[rankB - 1];
  if (k !== (transposeB ? b.shape[rankB - 1] : b.shape[rankB - 2]) || k === 0 || n === 0 || rows === 0) return null;
  let batch = 1;
  for (let i = 0; i < rankA - 2; i++) batch *= a.shape[i];
  if (batch === 0) return null;
  // The output's batch axes: A's, broadcast against B's (all 1), which can only add leading 1s.
  const outer: number[] = [];
  for (let i = rankA; i < rankB; i++) outer.push(1);
  for (let i = 0; i < rankA - 2; i++) outer.push(a.shape[i]);
  const fused = epilogue(inputs, attrs, n);
  if (fused === null) return null;
  return {
    a, batches: transposeA ? batch : 1, m: transposeA ? rows : batch * rows, k, n, transposeA,
    weight: b, transposeB, outShape: [...outer, rows, n], ...fused,
  };
}

const allOnes = (value: unknown) =>
  value == null || value === 1 || (Array.isArray(value) && value.every((v) => v === 1));

/** A Conv2D or FusedConv2D call with a 1x1 filter as a product, or null. */
export function readConv1x1(inputs: Inputs, attrs: NamedAttrMap): Product | null {
  const {x, filter} = inputs;
  if (!isFloat(x) || !isFloat(filter) || x.shape.length !== 4 || filter.shape.length !== 4) return null;
  const [fh, fw, inChannels, outChannels] = filter.shape;
  if (fh !== 1 || fw !== 1 || x.shape[3] !== inChannels) return null;
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC' || !allOnes(attrs.strides) || !allOnes(attrs.dilations)) return null;
  const {pad} = attrs;
  const noPadding = pad === 'same' || pad === 'valid' || pad === 0 ||
    (Array.isArray(pad) && (pad as unknown[]).flat().every((v) => v === 0));
  if (!noPadding) return null;
  const m = util.sizeFromShape(x.shape.slice(0, 3));
  if (m === 0 || inChannels === 0 || outChannels === 0) return null;
  const fused = epilogue(inputs, attrs, outChannels);
  if (fused === null) return null;
  return {
    a: x, batches: 1, m, k: inChannels, n: outChannels, transposeA: false, weight: filter, transposeB: false,
    outShape: [...x.shape.slice(0, 3), outChannels], ...fused,
  };
}
