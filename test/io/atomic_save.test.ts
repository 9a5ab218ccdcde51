// fileSystem(dir).save is atomic: at every instant the folder holds its previous model or the new
// one, complete. Checked with real processes: one killed by SIGKILL at random moments while saving a
// 32 MiB model, one whose writes fail under `ulimit -f`, two saving into one folder at once; and in
// this process, with concurrent saves and the leftovers of saves that never finished.
import {ChildProcess, spawn} from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import * as tf from '@tensorflow/tfjs-core';

import {STALE_AFTER_MS} from '../../src/io/atomic_save';
import {fileSystem} from '../../src/io/file_system';
import {MODELS, denseArtifacts, whichModel} from './save_models';

const root = path.resolve(__dirname, '../..');
const worker = path.join(__dirname, 'save_worker.ts');
const WEIGHTS = /^weights\.[0-9a-f]{16}\.bin$/;

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tfmo-atomic-'));
});
afterAll(() => fs.rmSync(tmp, {recursive: true, force: true}));

// Workers still running when a test fails are killed before the next test (and before the cleanup).
const running = new Set<ChildProcess>();
afterEach(async () => {
  const left = [...running];
  await Promise.all(left.map((child) => new Promise((resolve) => {
    child.once('close', resolve);
    child.kill('SIGKILL');
  })));
});

/** The folder's files, sorted, with every weights.<id>.bin written as weights.<id>.bin. */
function layout(dir: string): string[] {
  return fs.readdirSync(dir).map((f) => (WEIGHTS.test(f) ? 'weights.<id>.bin' : f)).sort();
}

function built(...names: string[]): Record<string, tf.io.ModelArtifacts> {
  return Object.fromEntries(names.map((name) => [name, MODELS[name]()]));
}

/** Starts save_worker.ts in a child Node process (one process: SIGKILL reaches the saver itself). */
function startWorker(args: string[], ulimitBlocks?: number): ChildProcess {
  const node = [process.execPath, '--import', 'tsx', worker, ...args];
  const child = ulimitBlocks === undefined ?
    spawn(node[0], node.slice(1), {cwd: root, stdio: ['ignore', 'pipe', 'pipe']}) :
    spawn('bash', ['-c', `ulimit -f ${ulimitBlocks}; exec "$@"`, 'bash', ...node], {cwd: root, stdio: ['ignore', 'pipe', 'pipe']});
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  running.add(child);
  child.once('close', () => running.delete(child));
  return child;
}

/** Resolves with the output once `child` printed `line`, rejects if it exits first. */
function printed(child: ChildProcess, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (chunk: string) => (err += chunk));
    const onData = (chunk: string) => {
      out += chunk;
      if (out.split('\n').includes(line)) {
        child.stdout!.off('data', onData);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code, signal) => reject(new Error(`worker exited (${code ?? signal}) before "${line}": ${err}`)));
  });
}

function exited(child: ChildProcess): Promise<{code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string}> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: string) => (stdout += chunk));
    child.stderr!.on('data', (chunk: string) => (stderr += chunk));
    child.once('close', (code, signal) => resolve({code, signal, stdout, stderr}));
  });
}

describe('a process killed by SIGKILL while saving a 32 MiB model', () => {
  const dir = () => path.join(tmp, 'killed');
  let models: Record<string, tf.io.ModelArtifacts>;
  beforeAll(async () => {
    models = built('big-old', 'big-new');
    await fileSystem(dir()).save(models['big-old']);
  });

  // Each kill starts a worker that saves the new and the old model in turn into the folder (which
  // holds one of them, and the leftovers of the saves killed before), and kills it after a random
  // delay: before, during or after a save, at any step of one (a save takes about 80 ms here).
  it.each([1, 2, 3, 4, 5, 6])('leaves the old or the new model, whole (kill %i of 6)', async () => {
    const child = startWorker([dir(), '0', 'big-new', 'big-old']);
    const done = exited(child);
    await printed(child, 'ready');
    const delay = Math.floor(Math.random() * 500);
    await new Promise((resolve) => setTimeout(resolve, delay));
    child.kill('SIGKILL');
    const {signal, stdout} = await done;
    expect(signal).toBe('SIGKILL');
    const which = whichModel(await fileSystem(dir()).load(), models);
    // The delay and the number of saves the worker completed, to reproduce a failure.
    const saves = stdout.split('\n').filter((l) => l.startsWith('saved')).length;
    expect({delay, saves, which}).toEqual({delay, saves, which: expect.stringMatching(/^big-(old|new)$/)});
  });

  it('leaves only files that a later save deletes once they are an hour old', async () => {
    // A killed save leaves its marker (.model.json.<id>.tmp) and its weights.<id>.bin, nothing listed.
    const leftovers = fs.readdirSync(dir()).filter((f) => f !== 'model.json');
    for (const file of leftovers) expect(file).toMatch(/^(weights\.[0-9a-f]{16}\.bin|\.model\.json\.[0-9a-f]{16}\.tmp)$/);
    const hourAgo = (Date.now() - STALE_AFTER_MS - 60_000) / 1000;
    for (const file of leftovers) fs.utimesSync(path.join(dir(), file), hourAgo, hourAgo);
    await fileSystem(dir()).save(denseArtifacts('after', 4, 3, 1));
    expect(layout(dir())).toEqual(['model.json', 'weights.<id>.bin']);
  });
});

describe('a process whose writes fail (ulimit -f)', () => {
  it('leaves the previous model, no temporary file, and says which folder', async () => {
    const dir = path.join(tmp, 'ulimit');
    const models = built('old', 'big-new');
    await fileSystem(dir).save(models['old']);
    const before = fs.readdirSync(dir).sort();
    // 1024 blocks of 1 KiB: the old model's files fit, the 32 MiB weights do not (EFBIG).
    const {code, stderr} = await exited(startWorker([dir, '1', 'big-new'], 1024));
    expect(code).toBe(2);
    expect(stderr.trim()).toBe(`fileSystem: cannot save the model to ${dir}: EFBIG: file too large, write (any model ` +
        'the folder held before is unchanged).');
    expect(fs.readdirSync(dir).sort()).toEqual(before);
    expect(whichModel(await fileSystem(dir).load(), models)).toBe('old');
  });
});

describe('concurrent saves into one folder', () => {
  it('in one process: the last save to finish wins whole, and only its files remain', async () => {
    // 'a' and 'a-other' share a topology: a mix of the two would load without error.
    const models = built('old', 'a', 'b', 'a-other');
    const dir = path.join(tmp, 'same-process');
    await fileSystem(dir).save(models['old']);
    for (let round = 0; round < 5; round++) {
      const order = round % 2 === 0 ? ['a', 'b', 'a-other', 'old', 'a'] : ['b', 'a-other', 'a', 'b', 'old'];
      await Promise.all(order.map((name) => fileSystem(dir).save(models[name])));
      expect(whichModel(await fileSystem(dir).load(), models)).toBeDefined();
      expect(layout(dir)).toEqual(['model.json', 'weights.<id>.bin']);
    }
  });

  it('from two processes: every load in between sees one model whole, and one wins', async () => {
    // 'a' and 'a-other' share a topology: a mix of the two would load without error.
    const models = built('old', 'a', 'b', 'a-other');
    const dir = path.join(tmp, 'two-processes');
    await fileSystem(dir).save(models['old']);
    const children = [startWorker([dir, '60', 'a', 'b']), startWorker([dir, '60', 'a-other'])];
    const done = Promise.all(children.map(exited));
    await Promise.all(children.map((child) => printed(child, 'ready')));
    const seen: Array<string | undefined> = [];
    let saving = true;
    void done.then(() => (saving = false));
    while (saving) {
      seen.push(whichModel(await fileSystem(dir).load(), models));
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const results = await done;
    expect(results.map((r) => [r.code, r.stderr])).toEqual([[0, ''], [0, '']]);
    expect(seen.length).toBeGreaterThan(20);
    expect(seen.filter((name) => name === undefined)).toEqual([]);
    expect(['a', 'b', 'a-other']).toContain(whichModel(await fileSystem(dir).load(), models));
    expect(layout(dir)).toEqual(['model.json', 'weights.<id>.bin']);
  });
});

describe('what a save deletes', () => {
  it('deletes the files the replaced model.json listed in the folder, and nothing else', async () => {
    const dir = path.join(tmp, 'replaced');
    fs.mkdirSync(path.join(dir, 'sub'), {recursive: true});
    const old = MODELS['old']();
    const data = Buffer.from(old.weightData as ArrayBuffer);
    // A converter's layout: two shards; beside it, files of the user's.
    fs.writeFileSync(path.join(dir, 'group1-shard1of2.bin'), data.subarray(0, 1000));
    fs.writeFileSync(path.join(dir, 'group1-shard2of2.bin'), data.subarray(1000));
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({
      modelTopology: old.modelTopology, format: 'layers-model',
      weightsManifest: [{paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: old.weightSpecs}],
    }));
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    fs.writeFileSync(path.join(dir, 'weights.bin'), 'not listed');
    fs.writeFileSync(path.join(dir, 'sub', 'weights.0123456789abcdef.bin'), 'in a subfolder');
    await fileSystem(dir).save(MODELS['a']());
    expect(layout(dir)).toEqual(['model.json', 'notes.txt', 'sub', 'weights.<id>.bin', 'weights.bin']);
    expect(fs.readdirSync(path.join(dir, 'sub'))).toEqual(['weights.0123456789abcdef.bin']);
  });

  it('keeps the files of a save in progress, and deletes those of saves abandoned an hour ago', async () => {
    const dir = path.join(tmp, 'leftovers');
    await fileSystem(dir).save(MODELS['old']());
    const file = (name: string) => path.join(dir, name);
    const hourAgo = (Date.now() - STALE_AFTER_MS - 60_000) / 1000;
    // In progress: a marker and its weights, fresh. Abandoned: the same, an hour old.
    for (const [id, old] of [['1111111111111111', false], ['2222222222222222', true]] as const) {
      fs.writeFileSync(file(`.model.json.${id}.tmp`), '');
      fs.writeFileSync(file(`weights.${id}.bin`), 'partial');
      if (old) for (const f of [`.model.json.${id}.tmp`, `weights.${id}.bin`]) fs.utimesSync(file(f), hourAgo, hourAgo);
    }
    // A committed save that was replaced (no marker, not listed), and a marker whose save just began.
    fs.writeFileSync(file('weights.3333333333333333.bin'), 'replaced');
    fs.writeFileSync(file('.model.json.4444444444444444.tmp'), '');
    await fileSystem(dir).save(MODELS['a']());
    expect(fs.readdirSync(dir).filter((f) => !WEIGHTS.test(f) || /^weights\.[1-4]{16}/.test(f)).sort()).toEqual([
      '.model.json.1111111111111111.tmp', '.model.json.4444444444444444.tmp', 'model.json', 'weights.1111111111111111.bin',
    ]);
    expect(whichModel(await fileSystem(dir).load(), built('a'))).toBe('a');
  });
});
