/// <reference types="node" />
// (The build type-checks with no ambient types; the command line needs Node's.)
/**
 * What every command of the command line shares: the shape of a command, the
 * two kinds of failure (bad usage: exit 2; unreadable input or a failed write:
 * exit 1), where output goes, and the parsing of option values.
 */
import {parseArgs} from 'node:util';

/** The program's name, as users type it. */
export const PROGRAM = 'tfjs-model-optimization';

/** Where a command writes: results to `out`, progress and errors to `err`. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  /** Whether `err` is a terminal (progress bars are drawn only there). */
  readonly errIsTTY: boolean;
  /** The stream progress bars draw on (process.stderr), or undefined for none. */
  readonly progressStream?: NodeJS.WritableStream;
}

/** One command: `tfjs-model-optimization <name> ...`. */
export interface Command {
  readonly name: string;
  /** One line for the overall help. */
  readonly summary: string;
  /** The command's `--help` text. */
  readonly help: string;
  /** Runs the command with its arguments (the command's name removed); resolves to the exit code. */
  run(args: string[], io: CliIO): Promise<number>;
}

/** Bad usage: a missing or unknown argument, a value out of range. Exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Input that cannot be read or used, or output that cannot be written. Exit code 1. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

/** The text of an error on one line. */
export function oneLine(e: unknown): string {
  const message = (e as {message?: unknown} | null)?.message;
  return (typeof message === 'string' ? message : String(e)).replace(/\s*\n\s*/g, ' ').trim();
}

/** The options of a command, as node:util's parseArgs takes them. */
export type OptionSpecs = Record<string, {type: 'string' | 'boolean'; short?: string; multiple?: boolean}>;

/** What {@link parseCommandArgs} gives: option values by name, and the positional arguments. */
export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** node:util's parseArgs, strict, with its errors turned into UsageErrors naming the command. */
export function parseCommandArgs(command: string, args: string[], options: OptionSpecs): ParsedArgs {
  try {
    const parsed = parseArgs({args, options, allowPositionals: true, strict: true});
    return {values: parsed.values as ParsedArgs['values'], positionals: parsed.positionals};
  } catch (e) {
    throw new UsageError(`${command}: ${oneLine(e)}`);
  }
}

/** Checks the number of positional arguments. */
export function positionals(command: string, values: string[], names: readonly string[]): string[] {
  if (values.length !== names.length) {
    const got = values.length === 0 ? 'none' : values.map((v) => JSON.stringify(v)).join(' ');
    throw new UsageError(`${command}: expected ${names.map((n) => `<${n}>`).join(' ')}, but got ${got}`);
  }
  return values;
}

/** `--exclude` values: `/source/flags` is a regular expression, anything else a name. */
export function excludeValues(command: string, values: readonly string[] | undefined): Array<string | RegExp> {
  return (values ?? []).map((value) => {
    const match = /^\/(.+)\/([a-z]*)$/.exec(value);
    if (match === null) return value;
    try {
      return new RegExp(match[1], match[2]);
    } catch (e) {
      throw new UsageError(`${command}: --exclude ${value} is not a valid regular expression (${oneLine(e)})`);
    }
  });
}

/** A `--name` value that must be a number in [min, max) or [min, max]. */
export function numberOption(command: string, name: string, value: string, rule: (n: number) => boolean,
    ruleText: string): number {
  const n = value.trim() === '' ? NaN : Number(value);
  if (!Number.isFinite(n) || !rule(n)) {
    throw new UsageError(`${command}: --${name} must be ${ruleText}, but got ${JSON.stringify(value)}`);
  }
  return n;
}

/** A pair of positive integers written `AxB` (sep `x`) or `A:B` (sep `:`). */
export function integerPair(command: string, name: string, value: string, sep: 'x' | ':'): [number, number] {
  const parts = value.split(sep);
  if (parts.length !== 2 || !parts.every((p) => /^\d+$/.test(p)) || parts.some((p) => Number(p) < 1)) {
    const example = sep === 'x' ? '1x4' : '2:4';
    throw new UsageError(`${command}: --${name} must be two integers >= 1 written like ${example}, but got ` +
        `${JSON.stringify(value)}`);
  }
  return [Number(parts[0]), Number(parts[1])];
}
