/**
 * Training progress a person can follow: per epoch, the batches done, the
 * running loss and accuracy and the time left. A cli-progress bar on a
 * terminal, plain lines otherwise (logs, CI, pipes).
 */
import * as tfl from '@tensorflow/tfjs-layers';
import {Presets, SingleBar} from 'cli-progress';

/** How progress is shown: a redrawn bar, plain lines, or not at all. */
export type ProgressMode = 'bar' | 'lines' | 'silent';

/** A bar when stdout is a terminal, lines otherwise. */
export function defaultProgressMode(): ProgressMode {
  return process.stdout.isTTY ? 'bar' : 'lines';
}

/** One phase of training (one `fit` call). */
export interface PhaseInfo {
  /** Shown at the start of each line, e.g. `Baseline`. */
  label: string;
  epochs: number;
  batchesPerEpoch: number;
}

/** Plain lines per epoch: about this many progress lines, then a summary. */
const LINES_PER_EPOCH = 4;

/**
 * A tfjs callback that reports one phase's progress. It is a `CustomCallback`
 * instance, so it can share a `callbacks` array with `UpdatePruningStep`
 * (tfjs cannot mix Callback instances with plain callback objects).
 */
export function createProgressCallback(phase: PhaseInfo, mode: ProgressMode, write = printLine): tfl.CustomCallback {
  const reporter = mode === 'bar' ? new BarReporter(phase) : mode === 'lines' ? new LineReporter(phase, write) : null;
  let epochStart = 0;
  let epoch = 0;
  let running = new RunningMean();
  return new tfl.CustomCallback({
    onEpochBegin: async (index) => {
      epoch = index;
      epochStart = Date.now();
      running = new RunningMean();
      reporter?.startEpoch(index);
    },
    onBatchEnd: async (batch, logs) => {
      const elapsed = Date.now() - epochStart;
      const done = batch + 1;
      const msLeft = (elapsed / done) * (phase.batchesPerEpoch - done);
      running.add(metric(logs, 'size'), metric(logs, 'loss'), metric(logs, 'acc', 'accuracy'));
      reporter?.batch(done, running.loss, running.acc, msLeft);
    },
    onEpochEnd: async (_index, logs) => {
      reporter?.endEpoch(epoch, Date.now() - epochStart, {
        loss: metric(logs, 'loss'),
        acc: metric(logs, 'acc', 'accuracy'),
        valLoss: metric(logs, 'val_loss'),
        valAcc: metric(logs, 'val_acc', 'val_accuracy'),
      });
    },
  });
}

/** The mean loss and accuracy of the epoch so far, weighted by batch size (what Keras shows). */
class RunningMean {
  private count = 0;
  private lossSum = 0;
  private accSum = 0;

  add(size: number, loss: number, acc: number): void {
    const weight = Number.isFinite(size) ? size : 1;
    this.count += weight;
    this.lossSum += weight * loss;
    this.accSum += weight * acc;
  }

  get loss(): number {
    return this.lossSum / this.count;
  }

  get acc(): number {
    return this.accSum / this.count;
  }
}

function printLine(line: string): void {
  console.log(line);
}

function metric(logs: tfl.Logs | undefined, ...names: string[]): number {
  for (const name of names) {
    const value = logs?.[name];
    if (typeof value === 'number') return value;
  }
  return NaN;
}

interface EpochSummary {
  loss: number;
  acc: number;
  valLoss: number;
  valAcc: number;
}

interface Reporter {
  startEpoch(epoch: number): void;
  batch(done: number, loss: number, acc: number, msLeft: number): void;
  endEpoch(epoch: number, ms: number, summary: EpochSummary): void;
}

function epochTitle(phase: PhaseInfo, epoch: number): string {
  return `${phase.label} epoch ${epoch + 1}/${phase.epochs}`;
}

/**
 * Formats a duration as `12.3s` below a minute, else as `1m 05s` (seconds 00-59). Rounds first and
 * splits after, so that 119.6 s reads `2m 00s`, not `1m 60s`, and 59.96 s reads `1m 00s`, not `60.0s`.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  const tenths = Math.round(ms / 100);
  if (tenths < 600) return `${(tenths / 10).toFixed(1)}s`;
  const seconds = Math.round(ms / 1000);
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m ${String(seconds % 60).padStart(2, '0')}s`;
}

function summaryText(summary: EpochSummary): string {
  return `loss ${summary.loss.toFixed(4)}, accuracy ${summary.acc.toFixed(4)}, ` +
    `val_loss ${summary.valLoss.toFixed(4)}, val_accuracy ${summary.valAcc.toFixed(4)}`;
}

class LineReporter implements Reporter {
  private readonly every: number;

  constructor(private readonly phase: PhaseInfo, private readonly write: (line: string) => void) {
    this.every = Math.max(1, Math.ceil(phase.batchesPerEpoch / LINES_PER_EPOCH));
  }

  startEpoch(): void {}

  batch(done: number, loss: number, acc: number, msLeft: number): void {
    if (done % this.every !== 0 || done === this.phase.batchesPerEpoch) return;
    this.write(`  ${this.phase.label}: batch ${done}/${this.phase.batchesPerEpoch}, loss ${loss.toFixed(4)}, ` +
      `accuracy ${acc.toFixed(4)}, about ${formatDuration(msLeft)} left in this epoch`);
  }

  endEpoch(epoch: number, ms: number, summary: EpochSummary): void {
    this.write(`${epochTitle(this.phase, epoch)}: ${summaryText(summary)} (${formatDuration(ms)})`);
  }
}

class BarReporter implements Reporter {
  private readonly bar = new SingleBar({
    format: '{title} |{bar}| {value}/{total} batches | loss {loss} | accuracy {acc} | {left} left',
    stream: process.stdout,
    hideCursor: true,
    clearOnComplete: true,
  }, Presets.shades_classic);

  constructor(private readonly phase: PhaseInfo) {}

  startEpoch(epoch: number): void {
    this.bar.start(this.phase.batchesPerEpoch, 0,
        {title: epochTitle(this.phase, epoch), loss: '-', acc: '-', left: '?'});
  }

  batch(done: number, loss: number, acc: number, msLeft: number): void {
    this.bar.update(done, {loss: loss.toFixed(4), acc: acc.toFixed(4), left: formatDuration(msLeft)});
  }

  endEpoch(epoch: number, ms: number, summary: EpochSummary): void {
    this.bar.stop();
    console.log(`${epochTitle(this.phase, epoch)}: ${summaryText(summary)} (${formatDuration(ms)})`);
  }
}
