// The second half of test/reliability/resume.test.ts, run in a fresh Node process (through tsx):
// loads a pruned model that was saved in the middle of training, trains it on the rest of the
// batches and saves the result.
//
//   tsx test/reliability/resume_worker.ts <modelDir> <dataFile> <fromBatch> <toBatch> <batchSize> <outDir>
//
// <dataFile> is JSON {x, y, xShape, yShape} (float32 values); the model was saved with its
// optimizer (includeOptimizer), so loading compiles it and restores the optimizer's state.
import '@tensorflow/tfjs-backend-cpu';
import * as fs from 'node:fs';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {PruneLowMagnitude, UpdatePruningStep, collectPruneLowMagnitudeLayers} from '../../src';
import {fileSystem} from '../../src/node';

interface Data {
  x: number[];
  y: number[];
  xShape: number[];
  yShape: number[];
}

async function main(): Promise<void> {
  const [modelDir, dataFile, from, to, batchSizeText, outDir] = process.argv.slice(2);
  await tf.setBackend('cpu');
  const data = JSON.parse(fs.readFileSync(dataFile, 'utf8')) as Data;
  const batchSize = Number(batchSizeText);
  const start = Number(from) * batchSize;
  const count = (Number(to) - Number(from)) * batchSize;
  const model = await tfl.loadLayersModel(fileSystem(modelDir));
  const stepsAtLoad = collectPruneLowMagnitudeLayers(model).map((w: PruneLowMagnitude) => w.pruningStep);
  const x = tf.slice(tf.tensor(data.x, data.xShape), start, count);
  const y = tf.slice(tf.tensor(data.y, data.yShape), start, count);
  await model.fit(x, y, {batchSize, epochs: 1, shuffle: false, verbose: 0, callbacks: [new UpdatePruningStep()]});
  await model.save(fileSystem(outDir), {includeOptimizer: true});
  fs.writeFileSync(`${outDir}/steps.json`, JSON.stringify({stepsAtLoad}));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
