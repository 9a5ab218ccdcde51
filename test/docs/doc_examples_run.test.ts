// The guides' examples run: every ```ts block of README.md and docs/*.md is written into a file
// under .tmp/ and executed, as a user's module importing 'tfjs-model-optimization' (mapped to src/
// by a tsconfig `paths` entry that tsx follows), all in one child process. Blocks that use the
// reader's model or data say so with `<!-- example: uses ... -->` above their fence, and blocks that
// cannot run in Node with `<!-- example: skip: reason -->` (see doc_examples.ts).
import {execFile} from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {promisify} from 'node:util';

import {collectDocExamples} from './doc_examples';
import {FACTORIES} from './example_context';

const root = path.resolve(__dirname, '../..');
const dir = path.join(root, '.tmp/doc-examples-run');

const examples = collectDocExamples(root).filter((example) => example.markdown);

it('has a value for every name the examples may use, and only for those', () => {
  const declared = fs.readFileSync(path.join(__dirname, 'example_globals.d.ts'), 'utf8');
  const names = [...declared.matchAll(/^\s*(?:const|function) (\w+)/gm)].map((m) => m[1]);
  expect(Object.keys(FACTORIES).sort()).toEqual(names.sort());
  const unknown = examples.flatMap((e) => e.uses.filter((name) => !names.includes(name)).map((n) => `${e.where}: ${n}`));
  expect(unknown).toEqual([]);
});

it('skips only the examples that say why', () => {
  const skipped = examples.filter((e) => e.skip !== undefined).map((e) => `${e.where.split(':')[0]}: ${e.skip}`);
  expect(skipped).toEqual([
    'docs/pruning.md: needs @tensorflow/tfjs-vis, a browser library that is not a dependency',
    'docs/pruning.md: downloads:// saves only in a browser',
  ]);
});

it('runs every TypeScript example of README.md and docs/*.md', async () => {
  const runnable = examples.filter((e) => e.skip === undefined);
  expect(runnable.length).toBeGreaterThanOrEqual(15);
  fs.rmSync(dir, {recursive: true, force: true});
  fs.mkdirSync(path.join(dir, 'cwd'), {recursive: true});
  const entries = runnable.map((example, i) => {
    const file = path.join(dir, `example_${String(i).padStart(2, '0')}.ts`);
    fs.writeFileSync(file, `// ${example.where}\n${example.code}\nexport {};\n`);
    return {where: example.where, file, uses: example.uses};
  });
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', strict: true, esModuleInterop: true,
      baseUrl: root,
      paths: {'tfjs-model-optimization': ['src/index.ts'], 'tfjs-model-optimization/node': ['src/node.ts']},
    },
  }));
  // Each example in a process of its own runs alone; the others share one process.
  const runs = [entries.filter((_, i) => !runnable[i].ownProcess),
    ...entries.filter((_, i) => runnable[i].ownProcess).map((entry) => [entry])];
  const results: Array<{where: string; error?: string}> = [];
  for (const [i, run] of runs.entries()) {
    const manifest = path.join(dir, `manifest_${i}.json`);
    fs.writeFileSync(manifest, JSON.stringify(run));
    const {stdout} = await promisify(execFile)(process.execPath, [
      path.join(root, 'node_modules/tsx/dist/cli.mjs'), '--tsconfig', path.join(dir, 'tsconfig.json'),
      path.join(__dirname, 'run_doc_examples.ts'), manifest,
    ], {cwd: path.join(dir, 'cwd'), maxBuffer: 64 * 1024 * 1024});
    const line = stdout.split('\n').find((l) => l.startsWith('DOC_EXAMPLE_RESULTS '));
    expect(line).toBeDefined();
    results.push(...JSON.parse(line!.slice('DOC_EXAMPLE_RESULTS '.length)) as typeof results);
  }
  expect(results.map((r) => r.where).sort()).toEqual(runnable.map((e) => e.where).sort());
  expect(results.filter((r) => r.error !== undefined).map((r) => `${r.where}: ${r.error}`)).toEqual([]);
}, 120000);
