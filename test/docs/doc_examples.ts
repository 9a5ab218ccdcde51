// Extracts the TypeScript examples of the documentation: every ```ts block of an `@example` in
// src/ and of README.md and docs/*.md, each with the file and line it came from.
//
// In README.md and docs/*.md, every ts block also RUNS in the tests (doc_examples_run.test.ts). A
// block that uses names the reader brings (their `model`, their data) says which, in an HTML comment
// on the line right above its fence; a block that cannot run in Node says why it is skipped; a block
// that needs a fresh process (one that initializes a backend in its own way) says so:
//
//   <!-- example: uses model, xTrain, yTrain -->
//   <!-- example: skip: downloads:// saves only in a browser -->
//   <!-- example: own process -->
//
// The names are those of example_globals.d.ts; example_context.ts builds a small value for each
// before the block runs. A block without a comment must run on its own.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface DocExample {
  /** `file:line` of the opening fence. */
  where: string;
  code: string;
  /** Whether the block is in README.md or docs/*.md (those run), not in a JSDoc comment. */
  markdown: boolean;
  /** Names the block takes from the reader's context (`<!-- example: uses ... -->`). */
  uses: string[];
  /** Why the block does not run (`<!-- example: skip: ... -->`), or undefined. */
  skip?: string;
  /** Whether the block runs in a process of its own (`<!-- example: own process -->`). */
  ownProcess?: boolean;
}

const FENCE = /^\s*(?:\*\s?)?```(\w*)\s*$/;
const DIRECTIVE = /^\s*<!--\s*example:\s*(.*?)\s*-->\s*$/;

/** Reads the `<!-- example: ... -->` comment above a fence; throws on one it does not understand. */
function directive(where: string, line: string | undefined): Pick<DocExample, 'uses' | 'skip' | 'ownProcess'> {
  const match = line === undefined ? null : DIRECTIVE.exec(line);
  if (match === null) return {uses: []};
  if (match[1] === 'own process') return {uses: [], ownProcess: true};
  const uses = /^uses\s+(\w+(?:\s*,\s*\w+)*)$/.exec(match[1]);
  if (uses !== null) return {uses: uses[1].split(',').map((name) => name.trim())};
  const skip = /^skip:\s*(\S.*)$/.exec(match[1]);
  if (skip !== null) return {uses: [], skip: skip[1]};
  throw new Error(`${where}: cannot read "${line!.trim()}"; write <!-- example: uses name, name --> or ` +
      '<!-- example: skip: the reason --> or <!-- example: own process -->.');
}

function blocks(file: string, text: string, markdown: boolean): DocExample[] {
  const lines = text.split('\n');
  const found: DocExample[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (open === null) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !FENCE.test(lines[i]); i++) {
      body.push(markdown ? lines[i] : lines[i].replace(/^\s*\*\s?/, ''));
    }
    if (!['ts', 'typescript'].includes(open[1])) continue;
    const where = `${file}:${start + 1}`;
    found.push({where, code: body.join('\n'), markdown, ...(markdown ? directive(where, lines[start - 1]) : {uses: []})});
  }
  return found;
}

function walk(dir: string): string[] {
  return fs.readdirSync(dir, {withFileTypes: true}).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? walk(full) : [full];
  });
}

/** Every TypeScript example of the documentation under `root`. */
export function collectDocExamples(root: string): DocExample[] {
  const sources = walk(path.join(root, 'src')).filter((f) => f.endsWith('.ts'));
  const markdown = [path.join(root, 'README.md'),
    ...fs.readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => path.join(root, 'docs', f))];
  return [
    ...sources.flatMap((f) => blocks(path.relative(root, f), fs.readFileSync(f, 'utf8'), false)),
    ...markdown.flatMap((f) => blocks(path.relative(root, f), fs.readFileSync(f, 'utf8'), true)),
  ];
}
