// The command line's help and its answers to bad usage: exit code 2 and one line on stderr.
import {execFile} from 'node:child_process';
import * as path from 'node:path';
import {promisify} from 'node:util';

import {cli} from './cli_helpers';
import {humanModelPath} from '../artifacts/fixtures';

it('prints the overall help with every command', async () => {
  for (const argv of [[], ['--help'], ['-h']]) {
    const run = await cli(...argv);
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/^Usage: tfjs-model-optimization <command>/);
    for (const command of ['inspect', 'quantize', 'prune']) expect(run.out).toContain(`\n  ${command} `);
  }
});

it('prints each command\'s help', async () => {
  expect((await cli('inspect', '--help')).out).toMatch(/^Usage: tfjs-model-optimization inspect <model.json> \[--json\]/);
  expect((await cli('quantize', '-h')).out).toMatch(/^Usage: tfjs-model-optimization quantize <model.json> <out-dir>/);
  const prune = await cli('help', 'prune');
  expect(prune.code).toBe(0);
  expect(prune.out).toContain('--m-by-n <M:N>');
});

it.each([
  [['frob'], "unknown command 'frob' (the commands are inspect, quantize, prune) (see 'tfjs-model-optimization --help')"],
  [['--frob'], "unknown option '--frob' before the command (see 'tfjs-model-optimization --help')"],
  [['quantize'], "quantize: expected <model.json> <out-dir>, but got none (see 'tfjs-model-optimization quantize --help')"],
  [['quantize', 'a.json', 'out', '--dtype', 'int4'],
    "quantize: --dtype must be one of int8, uint8, uint16, float16, but got \"int4\" (see 'tfjs-model-optimization quantize --help')"],
  [['quantize', 'a.json', 'out', '--dtype', 'float16', '--per-channel'],
    "quantize: --per-channel cannot be used with --dtype float16 (float16 has no scale) (see 'tfjs-model-optimization quantize --help')"],
  [['quantize', 'a.json', 'out', '--min-elements=-3'],
    "quantize: --min-elements must be an integer >= 0, but got \"-3\" (see 'tfjs-model-optimization quantize --help')"],
  [['quantize', 'a.json', 'out', '--exclude', '/(/'],
    /^tfjs-model-optimization: quantize: --exclude \/\(\/ is not a valid regular expression \(.+\) \(see/],
  [['quantize', 'a.json', 'out', '--bits', '8'], /^tfjs-model-optimization: quantize: Unknown option '--bits'/],
  [['quantize', 'a.json', 'out', '--calibrate', '0'],
    "quantize: --calibrate must be an integer from 1 to 10000, but got \"0\" (see 'tfjs-model-optimization quantize --help')"],
  [['quantize', 'a.json', 'out', '--calibrate', '4', '--dtype', 'uint8'],
    "quantize: --calibrate rounds int8 codes; it cannot be used with --dtype uint8 (see 'tfjs-model-optimization quantize --help')"],
  [['quantize', 'a.json', 'out', '--calibrate', '4', '--calibrate-range', '1,-1'],
    "quantize: --calibrate-range must be two numbers lo,hi with lo < hi, but got \"1,-1\" (see 'tfjs-model-optimization quantize --help')"],
  [['quantize', 'a.json', 'out', '--calibrate-range', '0,255'],
    "quantize: --calibrate-range needs --calibrate <n> (see 'tfjs-model-optimization quantize --help')"],
  [['prune', 'a.json', 'out'], "prune: --sparsity is required (see 'tfjs-model-optimization prune --help')"],
  [['prune', 'a.json', 'out', '--sparsity', '1.5'],
    "prune: --sparsity must be a number in [0, 1), but got \"1.5\" (see 'tfjs-model-optimization prune --help')"],
  [['prune', 'a.json', 'out', '--sparsity', '0.5', '--block', '0x4'],
    "prune: --block must be two integers >= 1 written like 1x4, but got \"0x4\" (see 'tfjs-model-optimization prune --help')"],
  [['prune', 'a.json', 'out', '--m-by-n', '4:2'],
    "prune: --m-by-n M:N needs M < N, but got 4:2 (see 'tfjs-model-optimization prune --help')"],
  [['prune', 'a.json', 'out', '--sparsity', '0.5', '--global', '--block', '1x4'],
    "prune: --global and --block cannot be combined (see 'tfjs-model-optimization prune --help')"],
])('answers %j with exit code 2 and one line', async (argv, message) => {
  const run = await cli(...argv);
  expect(run.code).toBe(2);
  expect(run.out).toBe('');
  expect(run.err.split('\n')).toHaveLength(1);
  if (typeof message === 'string') expect(run.err).toBe(`tfjs-model-optimization: ${message}`);
  else expect(run.err).toMatch(message);
});

it('sets the exit code of the process and prints one line (the executable, run by Node)', async () => {
  const root = path.resolve('.');
  const bin = path.join(root, 'src/cli/bin.ts');
  const run = (args: string[]) => promisify(execFile)(process.execPath, ['--import', 'tsx', bin, ...args], {cwd: root})
      .then(({stdout, stderr}) => ({code: 0, stdout, stderr}), (e) => ({code: e.code as number, stdout: e.stdout, stderr: e.stderr}));
  const bad = await run(['prune', humanModelPath('liveness'), '/nonexistent/out']);
  expect(bad).toEqual({code: 2, stdout: '', stderr: "tfjs-model-optimization: prune: --sparsity is required (see 'tfjs-model-optimization prune --help')\n"});
  const help = await run(['--help']);
  expect(help.code).toBe(0);
  expect(help.stdout).toMatch(/^Usage: tfjs-model-optimization/);
}, 30000);
