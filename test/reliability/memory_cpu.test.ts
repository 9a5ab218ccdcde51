// Tensor memory over the whole life of a pruned model on the cpu backend (see memory_lifecycle.ts).
import {BATCHES, MemoryReport, optimizerRestoreLeak, pruneTrainStripQuantizeSaveLoad} from './memory_lifecycle';

let report: MemoryReport;
beforeAll(async () => {
  report = await pruneTrainStripQuantizeSaveLoad();
});

describe('memory on cpu', () => {
  it('runs 200 batches with 50 mask updates', () => {
    expect(report.start.dataIds).toEqual(expect.any(Number));
    expect(report.batches).toHaveLength(BATCHES);
    expect(report.maskUpdates).toBe(50);
  });

  it('holds only the optimizer\'s slots more while the model trains, the same after batch 1 and batch 200', () => {
    expect(report.batches[0].numTensors - report.beforeFit.numTensors).toBe(report.optimizerSlots);
    expect(report.batches[BATCHES - 1]).toEqual(report.batches[0]);
  });

  it('returns to the starting tensors, bytes and backend buffers after strip, quantize, save, load and dispose', () => {
    expect(report.end).toEqual(report.start);
  });
});

describe('saving with the optimizer and resuming on cpu', () => {
  // tfjs 4.22 itself leaves one scalar behind per model.save(..., {includeOptimizer: true}) (the
  // iteration count that optimizer.getWeights() creates); pruning must not add to that.
  it.each([['adam'], ['rmsprop'], ['sgd']])('leaves behind only what the same model unpruned leaves (%s)', async (optimizer) => {
    const plain = await optimizerRestoreLeak(false, optimizer, 6);
    const pruned = await optimizerRestoreLeak(true, optimizer, 6);
    expect(pruned).toBe(plain);
  });
});
