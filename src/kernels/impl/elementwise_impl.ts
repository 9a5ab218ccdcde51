/**
 * The loops of the element-wise kernels for the cpu backend (kernels/Add.ts,
 * Sub, Multiply, RealDiv, Relu, Step, Sqrt, Floor) on float32 data. The stock kernels share one loop that
 * calls the operation through a closure, about 15 ns per element (the
 * optimizer's updates of a 409,600-weight Dense kernel took 6 ms per
 * operation), and broadcast a bias through an index conversion per element.
 * These loops are written out per operation; results are bit-identical (the
 * same double-precision operation, rounded once to float32). Other dtypes and
 * other broadcasts go to the stock kernels.
 */
import {Add, backend_util, Multiply, RealDiv, Sub, util} from '@tensorflow/tfjs-core';
import type {StepAttrs, TensorInfo} from '@tensorflow/tfjs-core';

import {cpuFloats, delegate} from '../kernel_util';
import type {CpuBackendLike, KernelBuilder} from '../kernel_util';

// Module-level aliases: inside a vm context (Jest runs tests in one) every lookup of the global
// `Math` goes through an interceptor, which costs more than these loops' arithmetic.
const {floor, max, sqrt} = Math;

/**
 * How one operand maps onto the output, as the period with which its values
 * repeat: its size when it has the output's size, 1 for a scalar, the bias
 * size for a bias of the trailing axes; null for any other broadcast.
 */
function periodOf(shape: number[], outShape: number[]): number | null {
  const size = util.sizeFromShape(shape);
  if (size === util.sizeFromShape(outShape) || size === 1) return size;
  // Leading ones aside, the operand must be the output's trailing axes.
  const core = shape.slice(shape.findIndex((d) => d !== 1));
  const tail = outShape.slice(outShape.length - core.length);
  return core.length > 0 && core.every((d, i) => d === tail[i]) ? size : null;
}

type Binary = (a: Float32Array, b: Float32Array, out: Float32Array, period: number) => void;

/**
 * One binary operation written out twice: `b` repeating with `period` over
 * `a`, or `a` repeating over `b` (argument order kept, so Sub and RealDiv stay
 * right).
 */
export interface BinaryLoops {
  kernelName: string;
  bRepeats: Binary;
  aRepeats: Binary;
}

export const ADD: BinaryLoops = {
  kernelName: Add,
  bRepeats: (a, b, out, period) => {
    for (let base = 0; base < out.length; base += period) {
      for (let j = 0; j < period; j++) out[base + j] = a[base + j] + b[j];
    }
  },
  aRepeats: (a, b, out, period) => {
    for (let base = 0; base < out.length; base += period) {
      for (let j = 0; j < period; j++) out[base + j] = a[j] + b[base + j];
    }
  },
};

export const SUB: BinaryLoops = {
  kernelName: Sub,
  bRepeats: (a, b, out, period) => {
    for (let base = 0; base < out.length; base += period) {
      for (let j = 0; j < period; j++) out[base + j] = a[base + j] - b[j];
    }
  },
  aRepeats: (a, b, out, period) => {
    for (let base = 0; base < out.length; base += period) {
      for (let j = 0; j < period; j++) out[base + j] = a[j] - b[base + j];
    }
  },
};

export const MULTIPLY: BinaryLoops = {
  kernelName: Multiply,
  bRepeats: (a, b, out, period) => {
    for (let base = 0; base < out.length; base += period) {
      for (let j = 0; j < period; j++) out[base + j] = a[base + j] * b[j];
    }
  },
  aRepeats: (a, b, out, period) => {
    for (let base = 0; base < out.length; base += period) {
      for (let j = 0; j < period; j++) out[base + j] = a[j] * b[base + j];
    }
  },
};

export const REAL_DIV: BinaryLoops = {
  kernelName: RealDiv,
  bRepeats: (a, b, out, period) => {
    for (let base = 0; base < out.length; base += period) {
      for (let j = 0; j < period; j++) out[base + j] = a[base + j] / b[j];
    }
  },
  aRepeats: (a, b, out, period) => {
    for (let base = 0; base < out.length; base += period) {
      for (let j = 0; j < period; j++) out[base + j] = a[j] / b[base + j];
    }
  },
};

/**
 * A scalar operand is widened to a full-length array first: a period-1 inner
 * loop would cost more than the copy.
 */
function widen(values: Float32Array, period: number, length: number): Float32Array {
  return period === 1 && length > 1 ? new Float32Array(length).fill(values[0]) : values;
}

/** The cpu kernel of a binary operation: `loops`, or the stock kernel for other dtypes and broadcasts. */
export function binaryKernel(loops: BinaryLoops): KernelBuilder {
  return (replaced) => (args) => {
    const {a, b} = args.inputs as {a: TensorInfo; b: TensorInfo};
    if (a.dtype !== 'float32' || b.dtype !== 'float32') {
      return delegate(replaced, args, loops.kernelName, 'cpu', `${a.dtype} and ${b.dtype} data`);
    }
    const outShape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const size = util.sizeFromShape(outShape);
    const periodA = periodOf(a.shape, outShape);
    const periodB = periodOf(b.shape, outShape);
    if (periodA == null || periodB == null || (periodA !== size && periodB !== size)) {
      return delegate(replaced, args, loops.kernelName, 'cpu', 'this broadcast');
    }
    const backend = args.backend as CpuBackendLike;
    const aValues = cpuFloats(backend, a);
    const bValues = cpuFloats(backend, b);
    const out = new Float32Array(size);
    if (size > 0) {
      if (periodA === size) {
        loops.bRepeats(aValues, widen(bValues, periodB, size), out, periodB === 1 ? size : periodB);
      } else {
        loops.aRepeats(widen(aValues, periodA, size), bValues, out, periodA === 1 ? size : periodA);
      }
    }
    return backend.makeTensorInfo(outShape, 'float32', out);
  };
}

/** A unary operation's loop over float32 values; `attrs` are the kernel's. */
export type UnaryLoop = (x: Float32Array, out: Float32Array, attrs: unknown) => void;

/** The cpu kernel of a unary operation: `loop` on float32 data, the stock kernel otherwise. */
export function unaryKernel(kernelName: string, loop: UnaryLoop): KernelBuilder {
  return (replaced) => (args) => {
    const {x} = args.inputs as {x: TensorInfo};
    if (x.dtype !== 'float32') return delegate(replaced, args, kernelName, 'cpu', `${x.dtype} data`);
    const backend = args.backend as CpuBackendLike;
    const values = cpuFloats(backend, x);
    const out = new Float32Array(values.length);
    loop(values, out, args.attrs);
    return backend.makeTensorInfo(x.shape, 'float32', out);
  };
}

/** Relu, with the stock NaN rule (max(0, NaN) is NaN). */
export const RELU: UnaryLoop = (x, out) => {
  for (let i = 0; i < x.length; i++) out[i] = max(0, x[i]);
};

/** Step (the ReLU gradient's mask), with the stock NaN rule. */
export const STEP: UnaryLoop = (x, out, attrs) => {
  const alpha = (attrs as StepAttrs).alpha;
  if (Object.is(alpha, 0)) {
    // The usual alpha (the ReLU gradient, magnitude masks) without a branch on the sign: on random
    // signs that branch mispredicted often enough to make the loop three times slower.
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      out[i] = v === v ? +(v > 0) : NaN;
    }
    return;
  }
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    out[i] = v > 0 ? 1 : Number.isNaN(v) ? NaN : alpha;
  }
};

/** Sqrt (Adam's update). */
export const SQRT: UnaryLoop = (x, out) => {
  for (let i = 0; i < x.length; i++) out[i] = sqrt(x[i]);
};

/** Floor (Dropout's mask). */
export const FLOOR: UnaryLoop = (x, out) => {
  for (let i = 0; i < x.length; i++) out[i] = floor(x[i]);
};
