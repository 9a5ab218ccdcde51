/**
 * Option checks shared by quantizeArtifacts and pruneArtifacts, in the style of
 * src/util/validation.ts (messages name the function, the option, the rule and
 * the value received), and the copy of the artifacts' non-weight fields that
 * both return.
 */
import type * as tf from '@tensorflow/tfjs-core';

import {argumentMessage, deepCopy} from '../util/validation';

/** Called after each weight with the number of weights done and their total. */
export type ProgressCallback = (done: number, total: number) => void;

/** Copies of the `exclude` patterns (RegExps without the g and y flags, which would make `test` stateful). */
export function excludePatterns(caller: string, value: unknown): Array<string | RegExp> {
  const exclude = value ?? [];
  if (!Array.isArray(exclude)) {
    throw new TypeError(argumentMessage(caller, 'exclude', 'must be an array of strings and RegExps', exclude));
  }
  return exclude.map((pattern: unknown, i) => {
    if (typeof pattern === 'string') return pattern;
    if (pattern instanceof RegExp) return new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
    throw new TypeError(argumentMessage(caller, `exclude[${i}]`, 'must be a string or a RegExp', pattern));
  });
}

/** The `onProgress` option (or another callback option, `name`): a function or undefined. */
export function progressCallback(caller: string, value: unknown, name = 'onProgress'): ProgressCallback | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') {
    throw new TypeError(argumentMessage(caller, name, 'must be a function', value));
  }
  return value as ProgressCallback;
}

/**
 * New artifacts: deep copies of every field of `artifacts` but the weights, with the
 * given weights, format and `convertedBy`.
 */
export function withWeights(artifacts: tf.io.ModelArtifacts, format: 'layers-model' | 'graph-model',
    convertedBy: string, weightSpecs: tf.io.WeightsManifestEntry[], weightData: ArrayBuffer): tf.io.ModelArtifacts {
  const {weightSpecs: _specs, weightData: _data, ...rest} = artifacts;
  // JSON fields only (deepCopy, not structuredClone: see its porting note).
  const copy = deepCopy(Object.fromEntries(Object.entries(rest).filter(([, v]) => typeof v !== 'function')));
  return {...copy, format, convertedBy, weightSpecs, weightData};
}

/** Lets the event loop run (a browser page redraw, a progress bar) when `budgetMs` passed since `since`. */
export async function yieldIfBusy(since: {time: number}, budgetMs = 50): Promise<void> {
  const now = Date.now();
  if (now - since.time < budgetMs) return;
  await new Promise((resolve) => setTimeout(resolve, 0));
  since.time = Date.now();
}
