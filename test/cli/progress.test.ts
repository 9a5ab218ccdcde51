// Progress bars are drawn on a terminal only; the executable is wired into package.json and tsup.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {PassThrough} from 'node:stream';

import {main} from '../../src/cli/main';
import {humanModelPath} from '../artifacts/fixtures';
import {tempDir} from './cli_helpers';

it('draws a progress bar on a terminal, and none when stderr is piped', async () => {
  const terminal = Object.assign(new PassThrough(), {isTTY: true, columns: 100});
  let drawn = '';
  terminal.on('data', (chunk: Buffer) => { drawn += chunk.toString(); });
  const out: string[] = [];
  const io = {out: (t: string) => out.push(t), err: () => {}, errIsTTY: true, progressStream: terminal};
  expect(await main(['quantize', humanModelPath('liveness'), path.join(tempDir(), 'out')], io)).toBe(0);
  expect(drawn).toMatch(/quantizing +.*\d+% \| \d+\/23 weights/);
  expect(out).toHaveLength(1);
});

it('ships the command line as the bin tfjs-model-optimization, built from src/cli/bin.ts', () => {
  const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8'));
  expect(pkg.bin).toEqual({'tfjs-model-optimization': './dist/cli.js'});
  expect(fs.readFileSync('tsup.config.ts', 'utf8')).toContain("cli: 'src/cli/bin.ts'");
  expect(fs.readFileSync('src/cli/bin.ts', 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  expect(pkg.dependencies['cli-progress']).toBeDefined();
});
