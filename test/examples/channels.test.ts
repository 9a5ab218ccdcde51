// The channel-pruning run of the MNIST example (examples/mnist/channels.ts): options, and a tiny run end to end.
import {existsSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

import * as tf from '@tensorflow/tfjs-core';

import {parseChannelArgs, runChannelPipeline} from '../../examples/mnist/channels';
import {OptionsError} from '../../examples/mnist/options';

afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('parseChannelArgs', () => {
  it('reads the options and their defaults', () => {
    const options = parseChannelArgs(['--sparsity', '50,75', '--epochs', '2', '--backend', 'cpu'])!;
    expect(options.sparsities).toEqual([0.5, 0.75]);
    expect(options.epochs).toBe(2);
    expect(options.fineTuneEpochs).toBe(2);
    expect(options.backend).toBe('cpu');
    expect(parseChannelArgs(['--help'])).toBeNull();
  });

  it.each([
    [['--sparsity', '100'], '--sparsity must list percentages in (0, 100), but got "100".'],
    [['--sparsity', '50,'], '--sparsity must list percentages in (0, 100), but got "50,".'],
    [['--epochs', '0'], '--epochs must be a positive integer, but got "0".'],
    [['--backend', 'webgl'], '--backend must be one of wasm, cpu, but got "webgl".'],
  ])('rejects %j', (argv, message) => {
    expect(() => parseChannelArgs(argv)).toThrow(new OptionsError(message));
  });

  it('rejects unknown options', () => {
    expect(() => parseChannelArgs(['--clusters', '4'])).toThrow(OptionsError);
  });
});

it('prunes half the channels of the seed CNN, shrinks it with the same outputs and quantizes it', async () => {
  const out = mkdtempSync(join(tmpdir(), 'mnist-channels-'));
  try {
    const options = {...parseChannelArgs(['--backend', 'wasm', '--sparsity', '50', '--out', out])!,
      trainSamples: 250, testSamples: 100, epochs: 1, fineTuneEpochs: 1, batchSize: 50, timingRounds: 1};
    const lines: string[] = [];
    const summary = await runChannelPipeline(options, (line) => lines.push(line));
    const [result] = summary.results;
    expect(result.shrunk.widths).toEqual({'conv2d': 16, 'conv2d_1': 32, 'dense': 128, 'dense_1': 10});
    expect(result.shrunk.parameters).toBe(16 * 9 + 16 + 16 * 9 * 32 + 32 + 800 * 128 + 128 + 128 * 10 + 10);
    expect(result.shrunk.maxRelativeDifference).toBeLessThan(1e-5);
    expect(result.shrunk.testAccuracy).toBe(result.pruned.testAccuracy);
    expect(result.int8.gzippedBytes).toBeLessThan(result.shrunk.gzippedBytes / 3);
    expect(existsSync(join(out, 'channels-50-int8', 'model.json'))).toBe(true);
    expect(existsSync(join(out, 'results.json'))).toBe(true);
    expect(lines.some((line) => line.startsWith('| 50% shrunk |'))).toBe(true);
  } finally {
    rmSync(out, {recursive: true, force: true});
  }
}, 120000);
