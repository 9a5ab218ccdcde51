/**
 * Zero tests shared by the rules: which output channels of a weight layout
 * receive nothing but zeros.
 */
import type {WeightValues} from './rule';

/**
 * For a kernel whose last two axes are input and output channels (`inFirst`)
 * or output and input channels, whether each output channel gets only zeros:
 * every weight linking it to an input channel that is not known to be zero is 0.
 */
export function outputsFedOnlyZeros(
    kernel: WeightValues, inFirst: boolean, inputZero: readonly boolean[] | null): boolean[] {
  const rank = kernel.shape.length;
  const a = kernel.shape[rank - 2];
  const b = kernel.shape[rank - 1];
  const outputs = inFirst ? b : a;
  const fed = new Array<boolean>(outputs).fill(false);
  const {values} = kernel;
  for (let i = 0; i < values.length; i++) {
    if (values[i] === 0) continue;
    const p = Math.floor(i / b) % a;
    const q = i % b;
    const [input, output] = inFirst ? [p, q] : [q, p];
    if (inputZero?.[input] !== true) fed[output] = true;
  }
  return fed.map((f) => !f);
}

/** Whether bias entry `c` is zero (no bias counts as zero). */
export function biasZero(bias: WeightValues | null, c: number): boolean {
  return bias === null || bias.values[c] === 0;
}

/** Ands a list of per-channel flags with a bias test and an activation test. */
export function withBias(fedZero: boolean[], bias: WeightValues | null, activationKeepsZero: boolean): boolean[] {
  return fedZero.map((zero, c) => activationKeepsZero && zero && biasZero(bias, c));
}
