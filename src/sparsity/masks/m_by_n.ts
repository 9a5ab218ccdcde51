/**
 * The M-by-N mask kind (tfmot's `sparsity_m_by_n`): `m` zeros in every `n`
 * weights along the input channels of rank-2 and rank-4 weights, cut once, at
 * the first training step (the schedule is not followed).
 */
import {PruningError} from '../errors';
import {describeParam} from '../pruning_params';
import {mByNMask} from './m_by_n_mask';
import {MAGNITUDE, uploadMask} from './magnitude';
import {type MaskKindDefinition, describeWeightShape} from './mask_kind';

export const mByNKind: MaskKindDefinition = {
  selects: (options) => options.sparsityMByN !== null,
  create: (options) => {
    const mByN = options.sparsityMByN as [number, number];
    return {
      ...MAGNITUDE,
      followsSchedule: false,
      checkWeight(weight, layerName) {
        if (weight.shape.length === 2 || weight.shape.length === 4) return;
        throw new PruningError(
            `PruneLowMagnitude: M-by-N sparsity (sparsityMByN ${describeParam(mByN)}) needs rank-2 or rank-4 ` +
            `weights, but ${describeWeightShape(weight, layerName)}. Prune this layer without sparsityMByN, or ` +
            'leave it unpruned with a PruningPolicy.');
      },
      dueSparsity: (step) => (step === 1 ? 0 : null),
      targetSparsity: () => mByN[0] / mByN[1],
      async cut(weight) {
        const values = await weight.read().data() as Float32Array;
        return uploadMask(mByNMask(values, weight.shape as number[], mByN, `weight "${weight.originalName}"`), weight);
      },
    };
  },
};
