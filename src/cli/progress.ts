/// <reference types="node" />
// (The build type-checks with no ambient types; the command line needs Node's.)
/**
 * Progress bars on the error stream (cli-progress), drawn only when it is a
 * terminal: piped or captured output gets the results alone.
 */
import {Presets, SingleBar} from 'cli-progress';

import type {CliIO} from './command';

/** A bar for one stage of a command. */
export interface Progress {
  /** Sets the bar to `done` of `total`. */
  update(done: number, total: number): void;
  /** Removes the bar. */
  stop(): void;
}

const SILENT: Progress = {update: () => {}, stop: () => {}};

/** A bar labelled `label` on `io`'s error stream, or one that draws nothing off a terminal. */
export function startProgress(io: CliIO, label: string): Progress {
  if (!io.errIsTTY || io.progressStream === undefined) return SILENT;
  const bar = new SingleBar({
    format: `${label.padEnd(12)} {bar} {percentage}% | {value}/{total} weights`,
    stream: io.progressStream,
    clearOnComplete: true,
    hideCursor: true,
  }, Presets.shades_classic);
  let started = false;
  return {
    update(done, total) {
      if (!started) {
        bar.start(total, 0);
        started = true;
      }
      bar.setTotal(total);
      bar.update(done);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
