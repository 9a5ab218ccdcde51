// The packed tarball as users consume it: `npm pack`, install it into a fresh project next to tfjs,
// then import it from ESM, from CommonJS and from TypeScript, and with the umbrella @tensorflow/tfjs.
import {execFileSync} from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const tfjsVersion = pkg.devDependencies['@tensorflow/tfjs-core'].replace(/^[^\d]*/, '');
let dir: string;

function run(cmd: string, args: string[], cwd = dir): string {
  return execFileSync(cmd, args, {cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, npm_config_loglevel: 'error'}});
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tfmo-consumer-'));
  const tarball = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], root))[0].filename;
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({name: 'consumer', version: '1.0.0', private: true}));
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', `./${tarball}`,
    `@tensorflow/tfjs-core@${tfjsVersion}`, `@tensorflow/tfjs-layers@${tfjsVersion}`,
    `@tensorflow/tfjs-backend-cpu@${tfjsVersion}`, `@tensorflow/tfjs@${tfjsVersion}`]);
}, 240000);

afterAll(() => fs.rmSync(dir, {recursive: true, force: true}));

const script = (imports: string) => `${imports}
(async () => {
  await tf.setBackend('cpu');
  const model = tfl.sequential({layers: [tfl.layers.dense({units: 4, inputShape: [3]})]});
  const pruned = m.pruneLowMagnitude(model, {pruningSchedule: new m.ConstantSparsity({targetSparsity: 0.5, frequency: 1})});
  pruned.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
  await pruned.fit(tf.ones([4, 3]), tf.ones([4, 4]), {callbacks: [new m.UpdatePruningStep()], verbose: 0});
  const s = await m.getSparsity(m.stripPruning(pruned));
  console.log(JSON.stringify(s.map((w) => w.zeros)));
})();`;

it('works from an ESM consumer', () => {
  fs.writeFileSync(path.join(dir, 'esm.mjs'), script(`
import * as tf from '@tensorflow/tfjs-core'; import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers'; import * as m from 'tfjs-model-optimization';`));
  expect(run(process.execPath, ['esm.mjs']).trim().split('\n').pop()).toBe('[6]');
});

it('works from a CommonJS consumer', () => {
  fs.writeFileSync(path.join(dir, 'cjs.cjs'), script(`
const tf = require('@tensorflow/tfjs-core'); require('@tensorflow/tfjs-backend-cpu');
const tfl = require('@tensorflow/tfjs-layers'); const m = require('tfjs-model-optimization');`));
  expect(run(process.execPath, ['cjs.cjs']).trim().split('\n').pop()).toBe('[6]');
});

it('type-checks a TypeScript consumer (tsc --noEmit, node16 resolution)', () => {
  fs.writeFileSync(path.join(dir, 'consumer.ts'), `
import * as tfl from '@tensorflow/tfjs-layers';
import {ConstantSparsity, PolynomialDecay, PruneLowMagnitude, UpdatePruningStep, pruneLowMagnitude,
  stripPruning, type WeightSparsity} from 'tfjs-model-optimization';
const model: tfl.Sequential = tfl.sequential({layers: [tfl.layers.dense({units: 4, inputShape: [3]})]});
const pruned: tfl.Sequential = pruneLowMagnitude(model, {pruningSchedule: new ConstantSparsity({targetSparsity: 0.5})});
const wrapper: PruneLowMagnitude = pruneLowMagnitude(tfl.layers.dense({units: 2}));
const schedule = new PolynomialDecay({initialSparsity: 0.2, finalSparsity: 0.8, beginStep: 0, endStep: 10});
const decision: {shouldPrune: boolean; sparsity: number} = schedule.call(5);
const callback: tfl.Callback = new UpdatePruningStep();
const stripped: tfl.Sequential = stripPruning(pruned);
const entry: WeightSparsity | undefined = undefined;
export {wrapper, decision, callback, stripped, entry};
`);
  const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
  for (const resolution of [['--module', 'node16', '--moduleResolution', 'node16'], ['--module', 'esnext', '--moduleResolution', 'bundler']]) {
    expect(() => run(process.execPath, [tsc, '--noEmit', '--strict', '--skipLibCheck', ...resolution, 'consumer.ts']))
        .not.toThrow();
  }
});

it('shares one class registry with the umbrella @tensorflow/tfjs package: a saved pruned model loads', () => {
  fs.writeFileSync(path.join(dir, 'umbrella.mjs'), `
import * as tf from '@tensorflow/tfjs';
import {ConstantSparsity, PruneLowMagnitude, pruneLowMagnitude} from 'tfjs-model-optimization';
await tf.setBackend('cpu');
const model = tf.sequential({layers: [tf.layers.lstm({units: 2, inputShape: [3, 2]}), tf.layers.dense({units: 1})]});
const pruned = pruneLowMagnitude(model, {pruningSchedule: new ConstantSparsity({targetSparsity: 0.5})});
let saved;
await pruned.save(tf.io.withSaveHandler(async (a) => { saved = a; return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}}; }));
const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved));
console.log(JSON.stringify(loaded.layers.map((l) => l instanceof PruneLowMagnitude)));
`);
  expect(run(process.execPath, ['umbrella.mjs']).trim().split('\n').pop()).toBe('[true,true]');
});

it('passes publint and are-the-types-wrong', () => {
  expect(() => run(path.join(root, 'node_modules/.bin/publint'), ['--strict'], root)).not.toThrow();
  expect(() => run(path.join(root, 'node_modules/.bin/attw'), ['--pack', '.'], root)).not.toThrow();
});
