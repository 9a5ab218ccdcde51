// Runs the command line in-process with captured output, and lays out model folders for it.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import {fileSystem} from '../../src/io/file_system';
import {saveToMemory} from '../../src/io/gzipped_size';
import {main} from '../../src/cli/main';
import {smallCnn} from '../artifacts/fixtures';

export interface Run {
  code: number;
  out: string;
  err: string;
}

/** `tfjs-model-optimization ...argv`, with stdout and stderr captured (no progress bars: not a terminal). */
export async function cli(...argv: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, {out: (t) => out.push(t), err: (t) => err.push(t), errIsTTY: false});
  return {code, out: out.join('\n'), err: err.join('\n')};
}

/** A fresh temporary folder. */
export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tfmo-cli-'));
}

/** A folder holding the small CNN as `model.json` and weights (a layers model). */
export async function layersModelDir(): Promise<string> {
  const dir = path.join(tempDir(), 'cnn');
  const model = smallCnn();
  await fileSystem(dir).save(await saveToMemory(model));
  model.dispose();
  return dir;
}

/** The names of the files in `dir` (empty when it does not exist). */
export function listing(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
}
