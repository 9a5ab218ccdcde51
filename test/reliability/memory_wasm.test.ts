// Tensor memory over the whole life of a pruned model on the wasm backend, with the training kernels
// (stock tfjs cannot train a Conv2D on wasm); see memory_lifecycle.ts.
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';

import {registerTrainingKernels, unregisterTrainingKernels} from '../../src';
import {BATCHES, MemoryReport, optimizerRestoreLeak, pruneTrainStripQuantizeSaveLoad} from './memory_lifecycle';

let report: MemoryReport;
beforeAll(async () => {
  registerTrainingKernels({backends: ['wasm']});
  await tf.setBackend('wasm');
  await tf.ready();
  report = await pruneTrainStripQuantizeSaveLoad();
});

afterAll(async () => {
  unregisterTrainingKernels({backends: ['wasm']});
  await tf.setBackend('cpu');
});

describe('memory on wasm', () => {
  it('runs on wasm, 200 batches with 50 mask updates', () => {
    expect(tf.getBackend()).toBe('wasm');
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

  it('leaves behind only what the same model unpruned leaves when saving with the optimizer and resuming', async () => {
    expect(await optimizerRestoreLeak(true, 'adam', 6)).toBe(await optimizerRestoreLeak(false, 'adam', 6));
  });
});
