/// <reference types="node" />
// (The build type-checks with no ambient types; the command line needs Node's.)
/**
 * `tfjs-model-optimization prune <model.json> <out-dir> --sparsity S`:
 * pruneArtifacts from the command line, written atomically into `<out-dir>`.
 */
import {pruneArtifacts} from '../artifacts/prune_artifacts';
import type {PruneArtifactsOptions} from '../artifacts/prune_artifacts';
import {describeModel} from '../artifacts/weight_report';
import {
  CliIO,
  Command,
  PROGRAM,
  UsageError,
  excludeValues,
  integerPair,
  numberOption,
} from './command';
import {formatPercent} from './format';
import {parseTransformArgs, transformModel} from './transform_model';

const NAME = 'prune';
const SUMMARY = 'prune a model\'s kernels once by magnitude (per kernel, global, blocks or M:N)';

const HELP = `Usage: ${PROGRAM} prune <model.json> <out-dir> --sparsity <s> [options]

Prunes the kernels of a model (layers or graph format) once, by magnitude, with
no training: in each kernel (convolution filters, depthwise filters, matrices of
MatMul and Dense) the fraction <s> of weights of smallest |w| is set to 0.
Biases and other weights are kept. Accuracy drops without fine-tuning: start
small and measure. Follow with 'quantize' for smaller files.

Arguments:
  <model.json>            the model's JSON file (any name), or a folder holding model.json
  <out-dir>               the folder to write (created if missing)

Options:
  --sparsity <s>          fraction of zeros per kernel, 0 <= s < 1 (not needed with --m-by-n)
  --global                one threshold over all kernels instead of one per kernel
  --block <RxC>           prune whole RxC blocks of each kernel seen as [inputs, outputs]
  --m-by-n <M:N>          zero M of every N consecutive weights along the inputs (e.g. 2:4)
  --exclude <name>        keep a kernel (by name, or a layer's name); /regex/ for a pattern;
                          repeatable
  --force                 replace a model already in <out-dir>
  -h, --help              show this help`;

function options(values: Record<string, string | boolean | string[] | undefined>): PruneArtifactsOptions {
  const mByN = values['m-by-n'] === undefined ? undefined : integerPair(NAME, 'm-by-n', values['m-by-n'] as string, ':');
  if (mByN !== undefined && mByN[0] >= mByN[1]) {
    throw new UsageError(`${NAME}: --m-by-n M:N needs M < N, but got ${mByN[0]}:${mByN[1]}`);
  }
  const given = values['sparsity'] as string | undefined;
  if (given === undefined && mByN === undefined) throw new UsageError(`${NAME}: --sparsity is required`);
  const sparsity = given === undefined ? undefined :
    numberOption(NAME, 'sparsity', given, (n) => n >= 0 && n < 1, 'a number in [0, 1)');
  if (sparsity !== undefined && mByN !== undefined && sparsity !== mByN[0] / mByN[1]) {
    throw new UsageError(`${NAME}: --sparsity ${given} contradicts --m-by-n ${mByN[0]}:${mByN[1]} (which gives ` +
        `${mByN[0] / mByN[1]}); leave --sparsity out`);
  }
  const block = values['block'] === undefined ? undefined : integerPair(NAME, 'block', values['block'] as string, 'x');
  const global = values['global'] === true;
  const combined = [global && '--global', block !== undefined && '--block', mByN !== undefined && '--m-by-n']
      .filter(Boolean);
  if (combined.length > 1) throw new UsageError(`${NAME}: ${combined.join(' and ')} cannot be combined`);
  return {sparsity, global, block, mByN, exclude: excludeValues(NAME, values['exclude'] as string[] | undefined)};
}

async function run(args: string[], io: CliIO): Promise<number> {
  const parsed = parseTransformArgs(NAME, HELP, args, io, {
    'sparsity': {type: 'string'},
    'global': {type: 'boolean'},
    'block': {type: 'string'},
    'm-by-n': {type: 'string'},
  });
  if (parsed === null) return 0;
  const resolved = options(parsed.values);
  const {file, artifacts, result: pruned, written} = await transformModel(io, parsed.input, parsed.outDir, parsed.force,
      'pruning', 'pruneArtifacts', (model, onProgress) => pruneArtifacts(model, {...resolved, onProgress}));
  const before = describeModel(file, artifacts).weights;
  const after = describeModel(written, pruned).weights;
  let kernels = 0;
  let zeros = 0;
  let elements = 0;
  after.forEach((w, i) => {
    if (!w.usedBy.endsWith('kernel') || w.sparsity === null) return;
    const n = w.shape.reduce((p, d) => p * d, 1);
    if (w.sparsity !== before[i].sparsity) kernels++;
    zeros += w.sparsity * n;
    elements += n;
  });
  io.out(`${written}: ${kernels} kernels pruned; kernel sparsity ${formatPercent(elements > 0 ? zeros / elements : 0)} ` +
      `(${Math.round(zeros)} of ${elements} kernel weights are 0)`);
  return 0;
}

/** The `prune` command. */
export const pruneCommand: Command = {name: NAME, summary: SUMMARY, help: HELP, run};
