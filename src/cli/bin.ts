#!/usr/bin/env node
/// <reference types="node" />
// (The build type-checks with no ambient types; the command line needs Node's.)
/**
 * The `tfjs-model-optimization` executable (package.json `bin`): runs the
 * command line and sets the exit code. No tfjs backend is needed: the commands
 * work on typed arrays.
 */
import {main} from './main';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
}, (e: unknown) => {
  process.stderr.write(`tfjs-model-optimization: ${String(e)}\n`);
  process.exitCode = 1;
});
