// Documentation examples cannot rot: every ```ts example in the JSDoc of src/ and in README.md and
// docs/*.md is type-checked against the package's sources, as a user's module importing
// 'tfjs-model-optimization'. Names an example leaves to the reader (`model`, `xs`, ...) are declared
// in test/docs/example_globals.d.ts.
import * as fs from 'node:fs';
import * as path from 'node:path';

import ts from 'typescript';

import {collectDocExamples} from './doc_examples';

const root = path.resolve(__dirname, '../..');

it('type-checks every TypeScript example of the documentation', () => {
  const examples = collectDocExamples(root);
  expect(examples.length).toBeGreaterThan(40);
  const dir = path.join(root, '.tmp/doc-examples');
  fs.rmSync(dir, {recursive: true, force: true});
  fs.mkdirSync(dir, {recursive: true});
  const files = examples.map((example, i) => {
    const file = path.join(dir, `example_${String(i).padStart(3, '0')}.ts`);
    fs.writeFileSync(file, `${example.code}\nexport {};\n`);
    return file;
  });
  const program = ts.createProgram([...files, path.join(__dirname, 'example_globals.d.ts'),
    path.join(__dirname, 'tfjs_vis.d.ts')], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    esModuleInterop: true,
    types: ['node'],
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    baseUrl: root,
    paths: {
      'tfjs-model-optimization': ['src/index.ts'],
      'tfjs-model-optimization/node': ['src/node.ts'],
    },
  });
  const problems = ts.getPreEmitDiagnostics(program)
      .filter((d) => d.file !== undefined && d.file.fileName.startsWith(dir))
      .map((d) => {
        const index = Number(/example_(\d+)\.ts$/.exec(d.file!.fileName)![1]);
        const {line} = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
        return `${examples[index].where} (+${line}): ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
      });
  expect(problems).toEqual([]);
}, 120000);
