// The package as users consume it: build it, then import it from ESM and CommonJS
// through its own name (Node resolves a package's self-reference via "exports").
import {execFileSync} from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

function node(args: string[]): string {
  return execFileSync(process.execPath, args, {cwd: root, encoding: 'utf8'});
}

// dist/ is built once by test/global_setup.cjs.

const probe = `
  const s = new m.PolynomialDecay({initialSparsity: 0.2, finalSparsity: 0.8, beginStep: 100, endStep: 110, frequency: 2});
  const c = new m.ConstantSparsity({targetSparsity: 0.5});
  console.log(JSON.stringify([s.call(102).sparsity.toFixed(4), c.call(100).shouldPrune, typeof m.PruningSchedule]));
`;

it('imports from an ESM consumer', () => {
  const out = node(['--input-type=module', '-e', `import * as m from '${pkg.name}';${probe}`]);
  expect(JSON.parse(out)).toEqual(['0.4928', true, 'function']);
});

it('requires from a CommonJS consumer', () => {
  const out = node(['-e', `const m = require('${pkg.name}');${probe}`]);
  expect(JSON.parse(out)).toEqual(['0.4928', true, 'function']);
});

it('points main, module, types and every export target at built files', () => {
  const targets = [pkg.main, pkg.module, pkg.types];
  for (const entry of Object.values(pkg.exports) as unknown[]) {
    if (typeof entry === 'string') continue;
    for (const cond of Object.values(entry as Record<string, Record<string, string>>)) {
      targets.push(cond.types, cond.default);
    }
  }
  for (const target of targets) expect(fs.existsSync(path.join(root, target))).toBe(true);
});

it('packs only dist/, README.md, LICENSE and package.json', () => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'],
  });
  const files: string[] = JSON.parse(out)[0].files.map((f: {path: string}) => f.path);
  expect(files).toEqual(expect.arrayContaining(['README.md', 'LICENSE', 'package.json', 'dist/index.js']));
  expect(files.filter((f) => !f.startsWith('dist/') && !['README.md', 'LICENSE', 'package.json'].includes(f)))
      .toEqual([]);
});

it('declares side effects for the modules that register classes with tfjs', () => {
  expect(pkg.sideEffects).not.toBe(false);
  expect(pkg.sideEffects).toEqual(expect.arrayContaining(['./dist/index.js', './dist/index.cjs']));
});

it('imports fileSystem from tfjs-model-optimization/node in ESM and CommonJS', () => {
  const esm = node(['--input-type=module', '-e', `import {fileSystem} from '${pkg.name}/node'; console.log(typeof fileSystem);`]);
  const cjs = node(['-e', `console.log(typeof require('${pkg.name}/node').fileSystem);`]);
  expect([esm.trim(), cjs.trim()]).toEqual(['function', 'function']);
});

it('starts tfjs-backend-wasm with 2 threads through useWasmThreads from the built ESM and CommonJS entries', () => {
  const script = (load: string) => `${load}
    (async () => {
      const threads = await useWasmThreads({threads: 2});
      const y = tf.matMul(tf.ones([2, 3]), tf.ones([3, 2]));
      console.log(JSON.stringify([threads, tf.getBackend(), Array.from(y.dataSync())]));
    })();`;
  const esm = node(['--input-type=module', '-e', script(
      `import * as tf from '@tensorflow/tfjs'; import '@tensorflow/tfjs-backend-wasm';
       import {useWasmThreads} from '${pkg.name}/node';`)]);
  const cjs = node(['-e', script(
      `const tf = require('@tensorflow/tfjs'); require('@tensorflow/tfjs-backend-wasm');
       const {useWasmThreads} = require('${pkg.name}/node');`)]);
  for (const out of [esm, cjs]) expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual([2, 'wasm', [3, 3, 3, 3]]);
});

it('runs the built command line with --calibrate on a converter graph model (tfjs-converter and the cpu backend ' +
    'imported at run time)', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tfmo-pkg-cli-'));
  try {
    const bin = path.join(root, typeof pkg.bin === 'string' ? pkg.bin : pkg.bin['tfjs-model-optimization']);
    const model = path.join(root, 'node_modules/@vladmandic/human/models/liveness.json');
    const stdout = node([bin, 'quantize', model, path.join(out, 'q'), '--per-channel', '--calibrate', '1']);
    expect(stdout).toMatch(/model\.json: 4 of 23 weights quantized \(int8 per channel, calibrated on 1 random batch\); /);
    expect(fs.readdirSync(path.join(out, 'q')).sort()).toEqual(['model.json', expect.stringMatching(/^weights\.[0-9a-f]+\.bin$/)]);
  } finally {
    fs.rmSync(out, {recursive: true, force: true});
  }
});
