// Extracts the TypeScript examples of the documentation: every ```ts block of an `@example` in
// src/ and of README.md and docs/*.md, each with the file and line it came from.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface DocExample {
  /** `file:line` of the opening fence. */
  where: string;
  code: string;
}

const FENCE = /^\s*(?:\*\s?)?```(\w*)\s*$/;

function blocks(file: string, text: string, stripStars: boolean): DocExample[] {
  const lines = text.split('\n');
  const found: DocExample[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (open === null || !['ts', 'typescript'].includes(open[1])) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !FENCE.test(lines[i]); i++) {
      body.push(stripStars ? lines[i].replace(/^\s*\*\s?/, '') : lines[i]);
    }
    found.push({where: `${file}:${start + 1}`, code: body.join('\n')});
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
    ...sources.flatMap((f) => blocks(path.relative(root, f), fs.readFileSync(f, 'utf8'), true)),
    ...markdown.flatMap((f) => blocks(path.relative(root, f), fs.readFileSync(f, 'utf8'), false)),
  ];
}
