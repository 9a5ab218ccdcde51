/**
 * Embedding: output channel `c` is column `c` of the embedding matrix; its
 * input holds token ids, not channels.
 */
import type {ChannelRule} from './rule';

export const embeddingRule: ChannelRule = {
  classNames: ['Embedding'],
  connect(ctx) {
    const output = ctx.space.slotsOf(ctx.output());
    if (output === null) {
      ctx.blockAll('has an output with an unknown number of channels');
      return;
    }
    ctx.layerSlots('out', output, (slots) => ctx.param('embeddings', 1, slots));
  },
  zeroOutputs(ctx) {
    const table = ctx.weight('embeddings');
    if (table === null) return [null];
    const [rows, columns] = table.shape;
    const zero = new Array<boolean>(columns).fill(true);
    for (let i = 0; i < rows * columns; i++) if (table.values[i] !== 0) zero[i % columns] = false;
    return [zero];
  },
  resize(config, outputChannels) {
    config['outputDim'] = outputChannels;
  },
};
