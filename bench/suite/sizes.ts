/**
 * How small the result is: the seed CNN pruned to 70% (every kernel, one
 * shot, through this package's own masks) and stripped, then also quantized
 * to int8; the gzipped weights as a fraction of their information bound (the
 * entropy of the zero mask plus the order-0 entropy of the non-zero values).
 * Sizes do not vary between runs, so each figure is one sample.
 */
import * as tfl from '@tensorflow/tfjs-layers';

import {
  ConstantSparsity, PruneLowMagnitude, collectPruneLowMagnitudeLayers, getGzippedModelSize, pruneLowMagnitude,
  quantizeDynamicRange, stripPruning,
} from '../../src';
import {gzippedByteLength, saveToMemory} from '../../src/io/gzipped_size';
import {weightBytes} from '../../src/io/model_json';
import {informationBound} from '../information_bound';
import {disposeWithOptimizer, seedCnn} from '../seed_cnn';
import {Backend, Figure, figure} from './figures';
import {summarize} from './harness';

export const SPARSITY = 0.7;

/**
 * A plain copy of `model` with every kernel pruned to `sparsity` in one shot:
 * wrapped, each wrapper's masks cut at that sparsity, then stripped.
 */
export async function prunedCopy(model: tfl.LayersModel, sparsity: number): Promise<tfl.LayersModel> {
  const wrapped = pruneLowMagnitude(model, {pruningSchedule: new ConstantSparsity({targetSparsity: sparsity, beginStep: 0})});
  for (const wrapper of collectPruneLowMagnitudeLayers(wrapped) as PruneLowMagnitude[]) {
    await wrapper.updateMasks(sparsity);
  }
  const stripped = stripPruning(wrapped);
  wrapped.dispose();
  return stripped;
}

export async function measureSizes(backend: Backend): Promise<Figure[]> {
  const original = seedCnn();
  const pruned = await prunedCopy(original, SPARSITY);
  try {
    const variants: Array<[string, string, Awaited<ReturnType<typeof saveToMemory>>]> = [
      ['size-pruned', 'pruned, float32', await saveToMemory(pruned)],
      ['size-pruned-int8', 'pruned + int8', await quantizeDynamicRange(pruned)],
    ];
    const baselineGzipped = await getGzippedModelSize(original);
    const figures: Figure[] = [];
    for (const [id, label, artifacts] of variants) {
      const gzippedWeights = gzippedByteLength(weightBytes(artifacts));
      const bound = informationBound(artifacts);
      figures.push(figure({
        id, backend,
        title: `gzipped weights of the seed CNN at ${SPARSITY * 100}% sparsity, ${label}`,
        baseline: 'the information bound (mask entropy + order-0 entropy of the non-zero values)', unit: 'of bound',
        target: null,
        details: {
          gzippedWeightsBytes: gzippedWeights, boundBytes: Math.round(bound),
          gzippedModelBytes: await getGzippedModelSize(artifacts), gzippedUnprunedModelBytes: baselineGzipped,
        },
      }, summarize([gzippedWeights / bound])));
    }
    return figures;
  } finally {
    disposeWithOptimizer(original);
    pruned.dispose();
  }
}
