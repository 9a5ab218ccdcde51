/**
 * What one mask update costs: `PruneLowMagnitude.updateMasks` on the seed
 * CNN's largest kernel (Dense 1600 x 256, 409,600 elements): reading the
 * weights, the threshold (radix selection), the mask, its upload and the
 * `weight * mask` write-back. Compared with one `tf.abs` of the same kernel
 * (the cheapest pass over it on the device) and with tfmot's algorithm ported
 * literally (a full sort through `tf.topk`). Every call starts from one of
 * eight different sets of weights, in turn: with the same weights every time
 * the processor learns the branches that depend on the weights, which flatters
 * any code that has them (a comparison sort, for one, runs several times faster
 * on input it has seen).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {ConstantSparsity, PruneLowMagnitude, pruneLowMagnitude} from '../../src';
import {Backend, Figure, Settings, figure} from './figures';
import {interleave, pairedRatios, summarize} from './harness';
import {tfmotMaskUpdate} from './tfmot_port';

const SPARSITY = 0.7;
/** How many different sets of weights the calls cycle through. */
const WEIGHT_SETS = 8;

export async function measureMaskUpdate(backend: Backend, settings: Settings): Promise<Figure[]> {
  const [rows, units] = settings.maskUpdate.kernelShape;
  const source = tfl.sequential({layers: [tfl.layers.dense({units, inputShape: [rows]})]});
  const model = pruneLowMagnitude(source, {pruningSchedule: new ConstantSparsity({targetSparsity: SPARSITY, beginStep: 0})});
  source.dispose();
  const wrapper = model.layers[0] as PruneLowMagnitude;
  const target = wrapper.getPrunedWeights()[0];
  const originals = Array.from({length: WEIGHT_SETS}, (_, i) => tf.randomNormal([rows, units], 0, 0.05, 'float32', 11 + i));
  let next = 0;
  const restore = () => {
    const copy = originals[next++ % WEIGHT_SETS].clone();
    target.weight.write(copy);
    copy.dispose();
  };
  const ours = {name: 'updateMasks', beforeEach: restore, fn: () => wrapper.updateMasks(SPARSITY)};
  try {
    const vsAbs = await interleave([
      ours,
      {name: 'tf.abs', beforeEach: restore, fn: () => tf.abs(target.weight.read()).dispose()},
    ], settings.maskUpdate.vsAbs);
    const vsTfmot = await interleave([
      ours,
      {name: 'tfmot port', beforeEach: restore, fn: () => tfmotMaskUpdate(target, SPARSITY)},
    ], settings.maskUpdate.vsTfmot);
    const size = rows * units;
    return [
      figure({
        id: 'mask-update-vs-abs', backend,
        title: `mask update (threshold + mask + write-back) of a ${size.toLocaleString('en-US')}-element kernel`,
        baseline: 'one tf.abs of that kernel', unit: 'x',
        target: {comparison: '<=', value: 8, text: 'at most 8x'},
        details: {elements: size, sparsity: SPARSITY, ms: vsAbs.times},
      }, summarize(pairedRatios(vsAbs, 'updateMasks', 'tf.abs'))),
      figure({
        id: 'mask-update-vs-tfmot', backend,
        title: `mask update of a ${size.toLocaleString('en-US')}-element kernel, speed-up over tfmot's algorithm`,
        baseline: 'tfmot\'s algorithm ported literally (full sort through tf.topk)', unit: 'x faster',
        target: {comparison: '>=', value: 20, text: 'at least 20x faster'},
        details: {elements: size, sparsity: SPARSITY, ms: vsTfmot.times},
      }, summarize(pairedRatios(vsTfmot, 'tfmot port', 'updateMasks'))),
    ];
  } finally {
    tf.dispose(originals);
    model.dispose();
  }
}
