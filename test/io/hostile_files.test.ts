// fileSystem(dir) on folders made to hurt: symlinks leading outside, /dev/zero, FIFOs, directories,
// files listed twice, sizes that do not add up, a huge model.json. Loading reads only regular files
// inside the folder, and only as many bytes as the manifest declares, checked before reading;
// saving never writes or deletes anything outside the folder.
import {execFileSync} from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import * as tf from '@tensorflow/tfjs-core';

import {fileSystem} from '../../src/io/file_system';
import {MODELS, whichModel} from './save_models';

let tmp: string;
let dir: string;
let outside: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tfmo-hostile-'));
  dir = path.join(tmp, 'model');
  outside = path.join(tmp, 'outside');
  fs.mkdirSync(dir);
  fs.mkdirSync(outside);
});
afterEach(() => {
  jest.restoreAllMocks();
  fs.rmSync(tmp, {recursive: true, force: true});
});

const modelJson = () => path.join(dir, 'model.json');

/** Writes a model.json listing `paths` for the weights of `artifacts` (the old model by default). */
function writeModelJson(paths: string[], artifacts: tf.io.ModelArtifacts = MODELS['old']()): void {
  fs.writeFileSync(modelJson(), JSON.stringify({
    modelTopology: artifacts.modelTopology, format: 'layers-model', weightsManifest: [{paths, weights: artifacts.weightSpecs}],
  }));
}

const OLD_BYTES = (64 * 96 + 96) * 4;

/** Counts the files fileSystem opens, by path. */
function spyOnOpen(): string[] {
  const opened: string[] = [];
  // fs.promises is the module object that node:fs/promises exports (not a copy, as `import *` makes).
  const original = fs.promises.open;
  jest.spyOn(fs.promises, 'open').mockImplementation(((file: fs.PathLike, ...rest: unknown[]) => {
    opened.push(String(file));
    return (original as (...args: unknown[]) => unknown)(file, ...rest);
  }) as typeof fs.promises.open);
  return opened;
}

describe('loading refuses', () => {
  it('a weights file that is a symlink to a file outside the folder, even of the right size', async () => {
    const secret = path.join(outside, 'secret.bin');
    fs.writeFileSync(secret, Buffer.alloc(OLD_BYTES, 7));
    fs.symlinkSync(secret, path.join(dir, 'weights.bin'));
    writeModelJson(['weights.bin']);
    await expect(fileSystem(dir).load()).rejects.toThrow(new Error(`fileSystem: the weights file ` +
        `${path.join(dir, 'weights.bin')} listed in ${modelJson()} resolves to ${fs.realpathSync(secret)}, outside ` +
        `${dir}; only files inside the model's folder are read.`));
  });

  it('a weights path through a subfolder that is a symlink leading outside', async () => {
    fs.writeFileSync(path.join(outside, 'weights.bin'), Buffer.alloc(OLD_BYTES));
    fs.symlinkSync(outside, path.join(dir, 'sub'));
    writeModelJson(['sub/weights.bin']);
    await expect(fileSystem(dir).load()).rejects.toThrow(`fileSystem: the weights file ${path.join(dir, 'sub', 'weights.bin')} ` +
        `listed in ${modelJson()} resolves to ${fs.realpathSync(path.join(outside, 'weights.bin'))}, outside ${dir}; only ` +
        "files inside the model's folder are read.");
  });

  it('a model.json that is a symlink to a file outside the folder', async () => {
    const theirs = path.join(outside, 'model.json');
    fs.writeFileSync(theirs, JSON.stringify({modelTopology: {}}));
    fs.symlinkSync(theirs, modelJson());
    await expect(fileSystem(dir).load()).rejects.toThrow(`fileSystem: ${modelJson()} resolves to ` +
        `${fs.realpathSync(theirs)}, outside ${dir}; only files inside the model's folder are read.`);
  });

  it('a symlink to /dev/zero at once, without reading from it', async () => {
    fs.symlinkSync('/dev/zero', path.join(dir, 'weights.bin'));
    writeModelJson(['weights.bin']);
    const opened = spyOnOpen();
    const start = Date.now();
    await expect(fileSystem(dir).load()).rejects.toThrow(`fileSystem: the weights file ${path.join(dir, 'weights.bin')} ` +
        `listed in ${modelJson()} resolves to /dev/zero, outside ${dir}; only files inside the model's folder are read.`);
    expect(Date.now() - start).toBeLessThan(1000);
    expect(opened).toEqual([fs.realpathSync(modelJson())]);
  });

  it('a FIFO listed as a weights file, and a FIFO as model.json, without opening them (which would block)', async () => {
    execFileSync('mkfifo', [path.join(dir, 'weights.bin')]);
    writeModelJson(['weights.bin']);
    const regularModelJson = fs.realpathSync(modelJson());
    const opened = spyOnOpen();
    await expect(fileSystem(dir).load()).rejects.toThrow(`fileSystem: the weights file ${path.join(dir, 'weights.bin')} ` +
        `listed in ${modelJson()} is a FIFO, not a regular file; only regular files are read.`);
    fs.rmSync(modelJson());
    execFileSync('mkfifo', [modelJson()]);
    await expect(fileSystem(dir).load()).rejects.toThrow(
        `fileSystem: ${modelJson()} is a FIFO, not a regular file; only regular files are read.`);
    expect(opened).toEqual([regularModelJson]); // never a FIFO
  });

  it('a directory listed as a weights file', async () => {
    fs.mkdirSync(path.join(dir, 'weights.bin'));
    writeModelJson(['weights.bin']);
    await expect(fileSystem(dir).load()).rejects.toThrow(`fileSystem: the weights file ${path.join(dir, 'weights.bin')} ` +
        `listed in ${modelJson()} is a directory, not a regular file; only regular files are read.`);
  });

  it('a file listed 600 times, before reading any weights (not 600 MiB of reads)', async () => {
    fs.writeFileSync(path.join(dir, 'big.bin'), Buffer.alloc(1 << 20));
    writeModelJson(Array.from({length: 600}, () => 'big.bin'));
    expect(fs.statSync(modelJson()).size).toBeLessThan(20_000);
    const opened = spyOnOpen();
    await expect(fileSystem(dir).load()).rejects.toThrow(`fileSystem: ${modelJson()} has a malformed 'weightsManifest' ` +
        `(it lists ${path.join(dir, 'big.bin')} twice).`);
    expect(opened).toEqual([fs.realpathSync(modelJson())]);
  });

  it('two names of one file (hard links), as the same file', async () => {
    fs.writeFileSync(path.join(dir, 'one.bin'), Buffer.alloc(OLD_BYTES / 2));
    fs.linkSync(path.join(dir, 'one.bin'), path.join(dir, 'two.bin'));
    writeModelJson(['one.bin', 'two.bin']);
    await expect(fileSystem(dir).load()).rejects.toThrow(`fileSystem: ${modelJson()} has a malformed 'weightsManifest' ` +
        `(${path.join(dir, 'one.bin')} and ${path.join(dir, 'two.bin')} are the same file).`);
  });

  it('files larger than the manifest declares, comparing sizes before reading any of them', async () => {
    for (const name of ['x.bin', 'y.bin', 'z.bin']) fs.writeFileSync(path.join(dir, name), Buffer.alloc(1 << 20));
    writeModelJson(['x.bin', 'y.bin', 'z.bin']);
    const opened = spyOnOpen();
    await expect(fileSystem(dir).load()).rejects.toThrow(`fileSystem: ${['x.bin', 'y.bin', 'z.bin'].map((f) => path.join(dir, f))
        .join(', ')} are corrupt: ${modelJson()} lists ${OLD_BYTES} bytes of weights, but the files hold ${3 << 20}.`);
    expect(opened).toEqual([fs.realpathSync(modelJson())]);
  });

  it('a model.json of more than 256 MiB, without reading it', async () => {
    fs.writeFileSync(modelJson(), '{}');
    fs.truncateSync(modelJson(), 256 * 1024 * 1024 + 1); // sparse: no disk space used
    const opened = spyOnOpen();
    await expect(fileSystem(dir).load()).rejects.toThrow(`fileSystem: ${modelJson()} holds ${256 * 1024 * 1024 + 1} ` +
        'bytes; a model.json is at most 268435456 bytes (256 MiB).');
    expect(opened).toEqual([]);
  });

  it('a symlink loop, naming the file', async () => {
    fs.symlinkSync('loop.bin', path.join(dir, 'loop.bin'));
    writeModelJson(['loop.bin']);
    await expect(fileSystem(dir).load()).rejects.toThrow(
        new RegExp(`^fileSystem: cannot read ${escape(path.join(dir, 'loop.bin'))}: ELOOP: `));
  });
});

describe('loading accepts', () => {
  it('a symlink that stays inside the folder', async () => {
    const old = MODELS['old']();
    fs.mkdirSync(path.join(dir, 'data'));
    fs.writeFileSync(path.join(dir, 'data', 'w.bin'), Buffer.from(old.weightData as ArrayBuffer));
    fs.symlinkSync(path.join('data', 'w.bin'), path.join(dir, 'weights.bin'));
    writeModelJson(['weights.bin']);
    expect(whichModel(await fileSystem(dir).load(), {old})).toBe('old');
  });

  it('a folder reached through a symlink (the files are inside its real path)', async () => {
    await fileSystem(dir).save(MODELS['old']());
    fs.symlinkSync(dir, path.join(tmp, 'alias'));
    expect(whichModel(await fileSystem(path.join(tmp, 'alias')).load(), {old: MODELS['old']()})).toBe('old');
  });
});

describe('saving leaves everything outside the folder as it was', () => {
  it('replaces a model.json that is a symlink to a file outside, instead of writing through it', async () => {
    const theirs = path.join(outside, 'model.json');
    fs.writeFileSync(theirs, 'their file');
    fs.symlinkSync(theirs, modelJson());
    await fileSystem(dir).save(MODELS['a']());
    expect(fs.readFileSync(theirs, 'utf8')).toBe('their file');
    expect(fs.lstatSync(modelJson()).isFile()).toBe(true);
    expect(whichModel(await fileSystem(dir).load(), {a: MODELS['a']()})).toBe('a');
  });

  it('neither writes nor deletes the outside file that the previous model listed through a symlink', async () => {
    const victim = path.join(outside, 'victim.bin');
    const old = MODELS['old']();
    fs.writeFileSync(victim, Buffer.from(old.weightData as ArrayBuffer));
    fs.symlinkSync(victim, path.join(dir, 'weights.bin'));
    fs.symlinkSync(outside, path.join(dir, 'sub'));
    writeModelJson(['weights.bin', '../outside/victim.bin', 'sub/victim.bin', path.join(outside, 'victim.bin')]);
    await fileSystem(dir).save(MODELS['a']());
    expect(Buffer.from(fs.readFileSync(victim)).equals(Buffer.from(old.weightData as ArrayBuffer))).toBe(true);
    expect(fs.readdirSync(outside)).toEqual(['victim.bin']);
    expect(fs.lstatSync(path.join(dir, 'weights.bin')).isSymbolicLink()).toBe(true); // not a regular file: kept
  });

  it('keeps its own model.json and the files of a save in progress when the previous manifest lists them', async () => {
    const inProgress = ['.model.json.0123456789abcdef.tmp', 'weights.0123456789abcdef.bin'];
    for (const name of inProgress) fs.writeFileSync(path.join(dir, name), '');
    writeModelJson(['model.json', ...inProgress]);
    await fileSystem(dir).save(MODELS['a']());
    expect(whichModel(await fileSystem(dir).load(), {a: MODELS['a']()})).toBe('a');
    for (const name of inProgress) expect(fs.existsSync(path.join(dir, name))).toBe(true);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
