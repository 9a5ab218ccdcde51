/**
 * The magnitude mask kind (tfmot's default): each weight keeps its largest
 * magnitudes, cut on the steps the schedule names. The other kinds start from it.
 */
import * as tf from '@tensorflow/tfjs-core';
import type {LayerVariable} from '@tensorflow/tfjs-layers';

import {prunableWeightsOf} from '../prune_registry';
import type {PruningDecision} from '../pruning_schedule';
import {wasmMagnitudeCut} from '../../kernels/kernels/TfmotMagnitudeCut';
import {cutAtThreshold, magnitudeMask} from './magnitude_mask';
import type {Cut, MaskKind, MaskKindDefinition} from './mask_kind';
import {type MaskResult, keepCount, kthLargestMagnitude} from './radix_select';

/** A mask computed in JavaScript, uploaded in the weight's shape. */
export function uploadMask({mask, threshold}: MaskResult, weight: LayerVariable): Cut {
  return {mask: tf.tensor(mask, weight.shape as number[], 'float32'), threshold};
}

/**
 * The magnitude mask of one weight, computed where the weight lives, with the
 * masked weight: on tfjs-backend-wasm entirely in the wasm heap
 * (wasm/magnitude_cut.ts), elsewhere from the threshold found in a copy of the
 * values (cheaper than building the mask in JavaScript and uploading it).
 */
export async function magnitudeCut(weight: LayerVariable, sparsity: number): Promise<Cut> {
  const name = `weight "${weight.originalName}"`;
  const size = weight.read().size;
  const inPlace = wasmMagnitudeCut(weight.read(), keepCount(size, sparsity), name);
  if (inPlace !== null) return inPlace;
  const values = await weight.read().data() as Float32Array;
  if (size === 0) return uploadMask(magnitudeMask(values, sparsity, name), weight);
  const threshold = kthLargestMagnitude(values, keepCount(size, sparsity), name);
  return {...cutAtThreshold(weight.read(), threshold), threshold: threshold.value};
}

/** The sparsity of the schedule's decision when it says to prune, else null. */
function scheduledSparsity(decide: () => PruningDecision): number | null {
  const {shouldPrune, sparsity} = decide();
  return shouldPrune ? sparsity : null;
}

/** The magnitude kind: the registry's prunable weights, each cut on its own at the schedule's steps. */
export const MAGNITUDE: MaskKind = {
  needsPrunableLayer: true,
  followsSchedule: true,
  group: null,
  weightsOf: prunableWeightsOf,
  checkWeight: () => undefined,
  dueSparsity: (_step, decide) => scheduledSparsity(decide),
  targetSparsity: (decide) => decide().sparsity,
  cut: magnitudeCut,
};

/** The default kind: chosen when no other kind's option is set. */
export const magnitudeKind: MaskKindDefinition = {selects: () => true, create: () => MAGNITUDE};
