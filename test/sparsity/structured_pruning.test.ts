// Block and M-by-N sparsity through the wrapper and fit, their options in saved configs, and bad values
// (SPEC section 7).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {
  ConstantSparsity,
  PruneLowMagnitude,
  PruningError,
  UpdatePruningStep,
  getSparsity,
  isPrunedMByN,
  pruneLowMagnitude,
  stripPruning,
} from '../../src';
import {fitBatches, seeded} from '../helpers/models';
import {saveToMemory} from '../../src/io/gzipped_size';

const everyStep = (targetSparsity = 0.5) => new ConstantSparsity({targetSparsity, beginStep: 0, frequency: 1});

/** A one-layer model whose kernel is `kernel` (no bias), followed by nothing. */
function withKernel(layer: tfl.layers.Layer, kernel: tf.Tensor): tfl.Sequential {
  const model = tfl.sequential({layers: [layer]});
  model.layers[0].setWeights([kernel]);
  kernel.dispose();
  return model;
}

const denseWith = (rows: number[][]) => withKernel(
    tfl.layers.dense({units: rows[0].length, inputShape: [rows.length], useBias: false}), tf.tensor2d(rows));
const conv1x1With = (channels: number[][]) => withKernel(
    tfl.layers.conv2d({filters: channels[0].length, kernelSize: 1, inputShape: [2, 2, channels.length], useBias: false}),
    tf.tensor4d(channels.flat(), [1, 1, channels.length, channels[0].length]));

/** Trains `model` for `batches` batches of SGD with a tiny learning rate; returns the first wrapper's masks. */
async function trainAndReadMasks(model: tfl.LayersModel, batches = 1): Promise<number[][]> {
  model.compile({optimizer: tf.train.sgd(1e-3), loss: 'meanSquaredError'});
  const inputShape = model.inputs[0].shape.slice(1) as number[];
  const outputShape = model.outputs[0].shape.slice(1) as number[];
  await fitBatches(model, inputShape, outputShape, batches, [new UpdatePruningStep()]);
  return (model.layers[0] as PruneLowMagnitude).getPrunedWeights().map(({mask}) => Array.from(mask.read().dataSync()));
}


describe('block sparsity in training (tfmot reference vectors at sparsity 0.5)', () => {
  it('avg pooling, block [2, 2]: the first step keeps the two bottom blocks', async () => {
    const model = denseWith([[.1, .1, .2, .2], [.1, .1, .2, .2], [.3, .3, .4, .4], [.3, .3, .4, .4]]);
    const pruned = pruneLowMagnitude(model, {pruningSchedule: everyStep(), blockSize: [2, 2], blockPoolingType: 'avg'});
    expect(await trainAndReadMasks(pruned)).toEqual([[0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1]]);
  });

  it('max pooling, block [2, 2]: the same mask from sparse, signed blocks', async () => {
    const model = denseWith([[.1, 0, .2, 0], [0, -.1, 0, -.2], [.3, 0, .4, 0], [0, -.3, 0, -.4]]);
    const pruned = pruneLowMagnitude(model, {pruningSchedule: everyStep(), blockSize: [2, 2], blockPoolingType: 'max'});
    expect(await trainAndReadMasks(pruned)).toEqual([[0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1]]);
  });

  it('keeps whole blocks through training, with a partial last block (kernel [10, 5], block [4, 2])', async () => {
    const model = tfl.sequential({layers: [tfl.layers.dense({units: 5, inputShape: [10]})]});
    const pruned = pruneLowMagnitude(model, {pruningSchedule: everyStep(0.5), blockSize: [4, 2]});
    const [mask] = await trainAndReadMasks(pruned, 3);
    // 3 x 3 blocks; keep round(9 * 0.5) = 4 (half to even). Every block is all ones or all zeros.
    const blocks = new Map<string, Set<number>>();
    mask.forEach((m, i) => {
      const key = `${Math.floor(Math.floor(i / 5) / 4)},${Math.floor((i % 5) / 2)}`;
      blocks.set(key, (blocks.get(key) ?? new Set()).add(m));
    });
    expect([...blocks.values()].every((values) => values.size === 1)).toBe(true);
    expect([...blocks.values()].filter((values) => values.has(1))).toHaveLength(4);
  });

  it('fails to build a wrapper around a rank-3 weight, naming the layer and the shape', () => {
    const model = tfl.sequential({layers: [tfl.layers.conv1d({filters: 4, kernelSize: 3, inputShape: [8, 2], name: 'c1'})]});
    const call = () => pruneLowMagnitude(model, {blockSize: [2, 2]});
    expect(call).toThrow(PruningError);
    expect(call).toThrow(
        'PruneLowMagnitude: block sparsity (blockSize [2, 2]) needs rank-2 weights, but weight ' +
        '"prune_low_magnitude_c1/kernel" of layer "c1" has shape [3, 2, 4] (rank 3). Prune this layer without ' +
        'blockSize, or leave it unpruned with a PruningPolicy.');
  });

  it('accepts any rank with the default block [1, 1]', () => {
    const model = tfl.sequential({layers: [tfl.layers.conv1d({filters: 4, kernelSize: 3, inputShape: [8, 2]})]});
    expect(() => pruneLowMagnitude(model, {blockSize: [1, 1], blockPoolingType: 'max'})).not.toThrow();
  });
});

describe('M-by-N sparsity in training (tfmot reference vectors)', () => {
  it('2:4 on a Dense kernel [4, 2]', async () => {
    const pruned = pruneLowMagnitude(denseWith([[.74, .68], [-.89, -.45], [-1.68, 1.24], [.31, -.6]]),
        {sparsityMByN: [2, 4]});
    expect(await trainAndReadMasks(pruned)).toEqual([[0, 1, 1, 0, 1, 1, 0, 0]]);
  });

  it('2:4 on a Conv2D kernel [1, 1, 4, 2]', async () => {
    const pruned = pruneLowMagnitude(conv1x1With([[-.36, -.77], [-.43, -.18], [.12, 1.36], [.77, .96]]),
        {sparsityMByN: [2, 4]});
    expect(await trainAndReadMasks(pruned)).toEqual([[0, 0, 1, 0, 0, 1, 1, 1]]);
  });

  it('1:2 on the same Conv2D kernel', async () => {
    const pruned = pruneLowMagnitude(conv1x1With([[-.36, -.77], [-.43, -.18], [.12, 1.36], [.77, .96]]),
        {sparsityMByN: [1, 2]});
    expect(await trainAndReadMasks(pruned)).toEqual([[0, 1, 1, 0, 0, 1, 1, 0]]);
  });

  it('2:4 on a Dense kernel [3, 2] (a partial group)', async () => {
    const pruned = pruneLowMagnitude(denseWith([[1.92, -.21], [-.19, .57], [1.1, -.42]]), {sparsityMByN: [2, 4]});
    expect(await trainAndReadMasks(pruned)).toEqual([[1, 0, 0, 1, 1, 1]]);
  });

  it('leaves a Conv2D with 7 input channels 3/7 = 0.428571 sparse under 2:4, and isPrunedMByN agrees', async () => {
    const model = tfl.sequential({layers: [tfl.layers.conv2d({filters: 4, kernelSize: 3, inputShape: [5, 5, 7]})]});
    const pruned = pruneLowMagnitude(model, {sparsityMByN: [2, 4]});
    await trainAndReadMasks(pruned, 2);
    const [kernel] = await getSparsity(pruned);
    expect(kernel.sparsity).toBeCloseTo(0.428571, 6);
    const stripped = stripPruning(pruned);
    await expect(isPrunedMByN(stripped.layers[0].getWeights()[0], [2, 4])).resolves.toBe(true);
    await expect(isPrunedMByN(model.layers[0].getWeights()[0], [2, 4])).resolves.toBe(false);
  });

  it('computes the masks once, at the first training step, whatever the schedule says', async () => {
    const pruned = pruneLowMagnitude(denseWith([[.74, .68], [-.89, -.45], [-1.68, 1.24], [.31, -.6]]), {
      sparsityMByN: [2, 4],
      pruningSchedule: new ConstantSparsity({targetSparsity: 0.9, beginStep: 50, frequency: 1}),
    });
    const wrapper = pruned.layers[0] as PruneLowMagnitude;
    expect(await trainAndReadMasks(pruned)).toEqual([[0, 1, 1, 0, 1, 1, 0, 0]]);
    // New weights whose 2:4 mask would differ: the mask stays the one of step 1.
    wrapper.layer.setWeights([tf.tensor2d([[9, 9], [1, 1], [1, 1], [9, 9]])]);
    await fitBatches(pruned, [4], [2], 2, [new UpdatePruningStep()]);
    expect(wrapper.pruningStep).toBe(3);
    expect(Array.from(wrapper.getPrunedWeights()[0].mask.read().dataSync())).toEqual([0, 1, 1, 0, 1, 1, 0, 0]);
  });

  it('fails to build a wrapper around a rank-3 weight, naming the layer and the shape', () => {
    const model = tfl.sequential({layers: [tfl.layers.conv1d({filters: 4, kernelSize: 3, inputShape: [8, 2], name: 'c1'})]});
    expect(() => pruneLowMagnitude(model, {sparsityMByN: [2, 4]})).toThrow(
        'PruneLowMagnitude: M-by-N sparsity (sparsityMByN [2, 4]) needs rank-2 or rank-4 weights, but weight ' +
        '"prune_low_magnitude_c1/kernel" of layer "c1" has shape [3, 2, 4] (rank 3). Prune this layer without ' +
        'sparsityMByN, or leave it unpruned with a PruningPolicy.');
  });
});

describe('the new options in saved configs', () => {
  const options = [
    ['block', {blockSize: [2, 4], blockPoolingType: 'max'}, {blockSize: [2, 4], blockPoolingType: 'max', sparsityMByN: null, globalPruning: false}],
    ['M-by-N', {sparsityMByN: [1, 4]}, {blockSize: [1, 1], blockPoolingType: 'avg', sparsityMByN: [1, 4], globalPruning: false}],
    ['global', {globalPruning: true}, {blockSize: [1, 1], blockPoolingType: 'avg', sparsityMByN: null, globalPruning: true}],
  ] as const;

  it.each(options)('%s: getConfig holds every option, and fromConfig(getConfig()) rebuilds them', (_name, params, saved) => {
    const wrapper = pruneLowMagnitude(tfl.layers.dense({units: 4}), params as never);
    const config = wrapper.getConfig();
    expect(config).toMatchObject(saved);
    const rebuilt = PruneLowMagnitude.fromConfig(PruneLowMagnitude, config) as PruneLowMagnitude;
    expect(rebuilt.getConfig()).toEqual(config);
  });

  it.each(options)('%s: survives save -> load -> save with the same topology, masks and behaviour', async (_name, params, saved) => {
    const model = tfl.sequential({layers: [tfl.layers.dense({units: 4, inputShape: [8]}), tfl.layers.dense({units: 2})]});
    const pruned = pruneLowMagnitude(model, {...params, pruningSchedule: everyStep(0.5)} as never);
    await trainAndReadMasks(pruned, 1);
    const first = await saveToMemory(pruned);
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(first));
    const wrapper = loaded.layers[0] as PruneLowMagnitude;
    expect(wrapper).toBeInstanceOf(PruneLowMagnitude);
    expect({
      blockSize: wrapper.blockSize, blockPoolingType: wrapper.blockPoolingType,
      sparsityMByN: wrapper.sparsityMByN, globalPruning: wrapper.globalPruning,
    }).toEqual(saved);
    const second = await saveToMemory(loaded);
    expect(JSON.stringify(second.modelTopology)).toBe(JSON.stringify(first.modelTopology));
    expect(loaded.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(pruned.getWeights().map((w) => Array.from(w.dataSync())));
  });

  it('reads tfmot\'s capitalized pooling type and null options from a config', () => {
    const config = pruneLowMagnitude(tfl.layers.dense({units: 4})).getConfig();
    const rebuilt = PruneLowMagnitude.fromConfig(PruneLowMagnitude, {...config, blockPoolingType: 'MAX', sparsityMByN: null}) as PruneLowMagnitude;
    expect(rebuilt.blockPoolingType).toBe('max');
    expect(rebuilt.sparsityMByN).toBeNull();
    const old = {...config};
    for (const key of ['blockSize', 'blockPoolingType', 'sparsityMByN', 'globalPruning']) delete old[key];
    const fromOld = PruneLowMagnitude.fromConfig(PruneLowMagnitude, old) as PruneLowMagnitude;
    expect([fromOld.blockSize, fromOld.blockPoolingType, fromOld.sparsityMByN, fromOld.globalPruning]).toEqual([[1, 1], 'avg', null, false]);
  });

  it('does not keep the caller\'s arrays', () => {
    const blockSize: [number, number] = [2, 2];
    const wrapper = pruneLowMagnitude(tfl.layers.dense({units: 4}), {blockSize});
    blockSize[0] = 7;
    expect(wrapper.blockSize).toEqual([2, 2]);
  });
});

describe('bad values of the new options', () => {
  const cases: [string, object, ErrorConstructor, string][] = [
    ['blockSize not an array', {blockSize: 2}, TypeError,
      "'blockSize' must be an array of two integers [height, width], but got 2."],
    ['blockSize of three numbers', {blockSize: [1, 2, 3]}, TypeError,
      "'blockSize' must be an array of two integers [height, width], but got [1, 2, 3]."],
    ['blockSize with a fraction', {blockSize: [2, 1.5]}, TypeError,
      "'blockSize' must be an array of two integers [height, width], but got [2, 1.5]."],
    ['blockSize with a zero', {blockSize: [0, 2]}, RangeError, "'blockSize' must hold integers >= 1, but got [0, 2]."],
    ['blockPoolingType not a string', {blockPoolingType: 1}, TypeError, "'blockPoolingType' must be 'avg' or 'max', but got 1."],
    ['blockPoolingType "AVG"', {blockPoolingType: 'AVG'}, RangeError, "'blockPoolingType' must be 'avg' or 'max', but got \"AVG\"."],
    ['blockPoolingType "mean"', {blockPoolingType: 'mean'}, RangeError, "'blockPoolingType' must be 'avg' or 'max', but got \"mean\"."],
    ['sparsityMByN not a pair', {sparsityMByN: '2:4'}, TypeError,
      "'sparsityMByN' must be an array of two integers [m, n], but got \"2:4\"."],
    ['sparsityMByN with m = n', {sparsityMByN: [4, 4]}, RangeError, "'sparsityMByN' must satisfy 1 <= m < n, but got [4, 4]."],
    ['sparsityMByN with m = 0', {sparsityMByN: [0, 4]}, RangeError, "'sparsityMByN' must satisfy 1 <= m < n, but got [0, 4]."],
    ['sparsityMByN with blocks', {sparsityMByN: [2, 4], blockSize: [2, 2]}, RangeError,
      "'blockSize' must be [1, 1] when 'sparsityMByN' is set, but got [2, 2]."],
    ['globalPruning not a boolean', {globalPruning: 'yes'}, TypeError, "'globalPruning' must be a boolean, but got \"yes\"."],
    ['globalPruning with sparsityMByN', {globalPruning: true, sparsityMByN: [2, 4]}, RangeError,
      "'globalPruning' must be false when 'sparsityMByN' is set (M-by-N masks are per group), but got true."],
    ['globalPruning with blocks', {globalPruning: true, blockSize: [1, 2]}, RangeError,
      "'blockSize' must be [1, 1] when 'globalPruning' is true, but got [1, 2]."],
    ['a pruningPolicy without allowPruning', {pruningPolicy: {}}, TypeError,
      "'pruningPolicy' must be a PruningPolicy (an object with allowPruning(layer) and optionally " +
      'ensureModelSupportsPruning(model)), but got an object.'],
  ];

  it.each(cases)('pruneLowMagnitude rejects %s', (_what, params, type, message) => {
    const model = tfl.sequential({layers: [tfl.layers.dense({units: 2, inputShape: [3]})]});
    expect(() => pruneLowMagnitude(model, params as never)).toThrow(type);
    expect(() => pruneLowMagnitude(model, params as never)).toThrow(`pruneLowMagnitude: ${message}`);
  });

  it.each(cases.filter(([what]) => !what.includes('pruningPolicy')))(
      'the PruneLowMagnitude constructor rejects %s, naming itself', (_what, params, type, message) => {
        const build = () => new PruneLowMagnitude({layer: tfl.layers.dense({units: 2}), ...params});
        expect(build).toThrow(type);
        expect(build).toThrow(`PruneLowMagnitude: ${message}`);
      });

  it('rejects a pruningPolicy with a layer input', () => {
    const policy = {allowPruning: () => true};
    expect(() => pruneLowMagnitude(tfl.layers.dense({units: 2}), {pruningPolicy: policy as never})).toThrow(
        "pruneLowMagnitude: 'pruningPolicy' applies to models only, but 'toPrune' is an instance of Dense; wrap " +
        'layers one by one instead.');
    expect(() => pruneLowMagnitude([tfl.layers.dense({units: 2})], {pruningPolicy: policy as never})).toThrow(
        "pruneLowMagnitude: 'pruningPolicy' applies to models only, but 'toPrune' is an array; wrap layers one by " +
        'one instead.');
  });
});

describe('memory', () => {
  it('keeps the tensor count constant across batches of block and M-by-N pruning', async () => {
    for (const params of [{blockSize: [2, 2]}, {sparsityMByN: [2, 4]}]) {
      const model = tfl.sequential({layers: [tfl.layers.dense({units: 4, inputShape: [8]})]});
      const pruned = pruneLowMagnitude(model, {...params, pruningSchedule: everyStep(0.5)} as never);
      pruned.compile({optimizer: 'adam', loss: 'meanSquaredError'});
      const counts: number[] = [];
      const recorder = new tfl.CustomCallback({onBatchEnd: async () => {
        counts.push(tf.memory().numTensors);
      }});
      const x = seeded([20, 8], 1);
      const y = seeded([20, 4], 2);
      await pruned.fit(x, y, {batchSize: 1, epochs: 1, callbacks: [new UpdatePruningStep(), recorder as unknown as tfl.Callback], verbose: 0});
      tf.dispose([x, y]);
      expect(counts[19]).toBe(counts[4]);
    }
  });
});
