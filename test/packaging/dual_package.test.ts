// The dual-package hazard: an ES module imports the package (dist/index.js) while a CommonJS
// dependency requires it (dist/index.cjs), so one Node process holds two copies of every class. Each
// build must work on the other's objects: prune with one, train, strip and quantize with the other,
// in both load orders, through the package's own `exports` (dist/ is built by test/global_setup.cjs).
import {execFileSync} from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');

/** Runs in a child Node process at the package root, so that 'tfjs-model-optimization' resolves to dist/. */
const script = (order: 'esm-first' | 'cjs-first') => `
import {createRequire} from 'node:module';
const require = createRequire(${JSON.stringify(path.join(root, 'package.json'))});
const tf = require('@tensorflow/tfjs');
let esm, cjs;
if (${JSON.stringify(order)} === 'esm-first') {
  esm = await import('tfjs-model-optimization');
  cjs = require('tfjs-model-optimization');
} else {
  cjs = require('tfjs-model-optimization');
  esm = await import('tfjs-model-optimization');
}
await tf.setBackend('cpu');
const xs = tf.randomNormal([16, 6], 0, 1, 'float32', 1);
const ys = tf.randomNormal([16, 2], 0, 1, 'float32', 2);
const model = () => tf.sequential({layers: [
  tf.layers.dense({name: 'd', units: 8, inputShape: [6]}), tf.layers.dense({name: 'e', units: 2}),
]});
const fit = (m, callbacks) => m.fit(xs, ys, {batchSize: 4, epochs: 1, shuffle: false, verbose: 0, callbacks});
const sparsities = async (api, m) => (await api.getSparsity(m)).map((w) => w.sparsity);
const result = {
  distinctBuilds: esm.PruneLowMagnitude !== cjs.PruneLowMagnitude,
  registered: tf.serialization.SerializationMap.getMap().classNameMap['PruneLowMagnitude'][0] === esm.PruneLowMagnitude ?
    'esm' : 'cjs',
};
for (const [a, b, direction] of [[esm, cjs, 'esm->cjs'], [cjs, esm, 'cjs->esm']]) {
  const out = {};
  try {
    // A model pruned by one build (with the other's schedule), trained, stripped and quantized by the other.
    const pruned = a.pruneLowMagnitude(model(), {pruningSchedule: new b.ConstantSparsity({targetSparsity: 0.5, frequency: 1})});
    pruned.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
    await fit(pruned, [new b.UpdatePruningStep()]);
    out.collected = b.collectPruneLowMagnitudeLayers(pruned).length;
    out.pruned = await sparsities(b, pruned);
    const stripped = b.stripPruning(pruned);
    out.stripped = stripped.layers.map((l) => l.getClassName());
    out.strippedSparsity = await sparsities(a, stripped);
    const quantized = await b.quantizeDynamicRange(pruned);
    out.quantizedWrappers = (JSON.stringify(quantized.modelTopology).match(/PruneLowMagnitude/g) ?? []).length;
    // One wrapped layer (the pruning build's own class) in a model trained by the other build.
    const wrapper = a.pruneLowMagnitude(tf.layers.dense({name: 'w', units: 2, inputShape: [6]}),
        {pruningSchedule: new a.ConstantSparsity({targetSparsity: 0.5, frequency: 1})});
    const single = tf.sequential({layers: [wrapper]});
    single.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
    await fit(single, [new b.UpdatePruningStep()]);
    out.single = [b.stripPruning(single).layers[0].getClassName(), ...(await sparsities(b, single))];
    // Saved and loaded (into the registered build's class), then trained by each build.
    let saved;
    await pruned.save(tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
    }));
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved));
    out.loadedIsWrapper = [loaded.layers[0] instanceof a.PruneLowMagnitude, loaded.layers[0] instanceof b.PruneLowMagnitude];
    loaded.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
    await fit(loaded, [new a.UpdatePruningStep()]);
    await fit(loaded, [new b.UpdatePruningStep()]);
    out.loadedStep = loaded.layers[0].pruningStep;
    out.loadedStripped = b.stripPruning(loaded).layers.map((l) => l.getClassName());
    // Errors and schedules across builds.
    const untrained = a.pruneLowMagnitude(model());
    untrained.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
    try {
      await fit(untrained, []);
      out.errorClass = 'no error';
    } catch (e) {
      out.errorClass = [e instanceof a.PruningError, e instanceof b.PruningError, e.name];
    }
    const schedule = a.deserializeSchedule(b.serializeSchedule(new b.PolynomialDecay({
      initialSparsity: 0.1, finalSparsity: 0.5, beginStep: 0, endStep: 10})));
    out.schedule = [schedule instanceof a.PruningSchedule, schedule instanceof b.PruningSchedule, schedule.call(10).sparsity];
  } catch (e) {
    out.error = String(e && e.stack || e);
  }
  result[direction] = out;
}
console.log(JSON.stringify(result));
`;

function run(order: 'esm-first' | 'cjs-first'): Record<string, unknown> {
  const stdout = execFileSync(process.execPath, ['--input-type=module', '-e', script(order)], {
    cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

const expected = {
  collected: 2,
  pruned: [0.5, 0.5],
  stripped: ['Dense', 'Dense'],
  strippedSparsity: [0.5, 0.5],
  quantizedWrappers: 0,
  single: ['Dense', 0.5],
  loadedIsWrapper: [true, true],
  loadedStep: 12,
  loadedStripped: ['Dense', 'Dense'],
  errorClass: [true, true, 'PruningError'],
  schedule: [true, true, Math.fround(0.5)],
};

beforeAll(() => {
  for (const file of ['dist/index.js', 'dist/index.cjs']) {
    if (!fs.existsSync(path.join(root, file))) throw new Error(`${file} is missing: run npm run build first.`);
  }
});

it.each(['esm-first', 'cjs-first'] as const)(
  'the ESM and the CJS builds work on each other\'s objects in one process (%s)', (order) => {
    const result = run(order);
    expect(result).toEqual({
      distinctBuilds: true,
      // The first build to load registers its classes; the other reuses them.
      registered: order === 'esm-first' ? 'esm' : 'cjs',
      'esm->cjs': expected,
      'cjs->esm': expected,
    });
  }, 60000);
