/// <reference types="node" />
// (The build type-checks with no ambient types; the command line needs Node's.)
/**
 * The command line's entry: picks the command, prints help, and turns
 * failures into one line and an exit code (0 done, 1 unreadable input or a
 * failed write, 2 bad usage).
 */
import {CliError, CliIO, Command, PROGRAM, UsageError, oneLine} from './command';
import {inspectCommand} from './inspect';
import {pruneCommand} from './prune';
import {quantizeCommand} from './quantize';

/** Every command, in the order the help lists them. */
export const COMMANDS: readonly Command[] = [inspectCommand, quantizeCommand, pruneCommand];

/** The overall `--help` text. */
export const HELP = `Usage: ${PROGRAM} <command> [arguments] [options]

Shrinks TensorFlow.js models (model.json and weights, layers or graph format,
e.g. from tfjs-converter) without training code.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(10)}${c.summary}`).join('\n')}

Run '${PROGRAM} <command> --help' for a command's arguments and options.

Exit codes: 0 done, 1 unreadable input or failed write (nothing written), 2 bad usage.`;

/** Writes to the process's stdout and stderr. */
export function processIO(): CliIO {
  return {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    errIsTTY: process.stderr.isTTY === true,
    progressStream: process.stderr,
  };
}

/**
 * Runs the command line with `argv` (the arguments after the program's name).
 *
 * @returns The exit code.
 */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const command = name === 'help' ? COMMANDS.find((c) => c.name === args[0]) : undefined;
    io.out(command?.help ?? HELP);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  try {
    if (command === undefined) {
      throw new UsageError(name.startsWith('-') ? `unknown option '${name}' before the command` :
        `unknown command '${name}' (the commands are ${COMMANDS.map((c) => c.name).join(', ')})`);
    }
    return await command.run(args, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`${PROGRAM}: ${e.message} (see '${PROGRAM} ${command?.name ?? ''}${command ? ' ' : ''}--help')`);
      return 2;
    }
    io.err(`${PROGRAM}: ${e instanceof CliError ? e.message : oneLine(e)}`);
    return 1;
  }
}
