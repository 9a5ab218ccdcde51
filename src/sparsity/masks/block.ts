/**
 * The block mask kind (tfmot's `block_size`, `block_pooling_type`): rank-2
 * weights kept or pruned a block at a time, by the pooled magnitude of each block.
 */
import {PruningError} from '../errors';
import {describeParam, usesBlocks} from '../pruning_params';
import {blockMagnitudeMask} from './block_mask';
import {MAGNITUDE, uploadMask} from './magnitude';
import {type MaskKindDefinition, describeWeightShape} from './mask_kind';

export const blockKind: MaskKindDefinition = {
  selects: usesBlocks,
  create: ({blockSize, blockPoolingType}) => ({
    ...MAGNITUDE,
    checkWeight(weight, layerName) {
      if (weight.shape.length === 2) return;
      throw new PruningError(
          `PruneLowMagnitude: block sparsity (blockSize ${describeParam(blockSize)}) needs rank-2 weights, but ` +
          `${describeWeightShape(weight, layerName)}. Prune this layer without blockSize, or leave it unpruned ` +
          'with a PruningPolicy.');
    },
    async cut(weight, sparsity) {
      const values = await weight.read().data() as Float32Array;
      return uploadMask(blockMagnitudeMask(values, weight.shape as number[], blockSize, blockPoolingType, sparsity,
          `weight "${weight.originalName}"`), weight);
    },
  }),
};
