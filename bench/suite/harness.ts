/**
 * Timing for the benchmark suite: tinybench runs and times every call; this
 * module interleaves the contenders of one figure round by round, so that a
 * ratio compares A and B measured under the same load, and summarizes the
 * samples (median and spread).
 */
import {Bench, Task} from 'tinybench';

/** The median and spread of a set of samples. */
export interface Summary {
  median: number;
  /** 25th and 75th percentiles (linear interpolation). */
  p25: number;
  p75: number;
  min: number;
  max: number;
  /** Number of samples. */
  samples: number;
}

/** The `q` quantile of sorted values, interpolating linearly between neighbours. */
function quantile(sorted: readonly number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}

/** Median, quartiles and range of `values` (at least one). */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new RangeError('summarize: no samples.');
  const sorted = [...values].sort((a, b) => a - b);
  return {
    median: quantile(sorted, 0.5),
    p25: quantile(sorted, 0.25),
    p75: quantile(sorted, 0.75),
    min: sorted[0],
    max: sorted[sorted.length - 1],
    samples: sorted.length,
  };
}

/** One side of a comparison. */
export interface Contender {
  /** Unique within one {@link interleave} call. */
  name: string;
  /** The work that is timed. */
  fn: () => unknown;
  /** Untimed preparation before each call (such as restoring the weights the call changes). */
  beforeEach?: () => unknown;
}

/** How many calls {@link interleave} makes. */
export interface InterleaveOptions {
  /** Untimed calls of each contender before the first round. */
  warmup: number;
  /** Rounds; in each, every contender runs `perRound` timed calls. */
  rounds: number;
  /** Timed calls per contender and round (default 1); the round's value is their median. */
  perRound?: number;
}

/** What {@link interleave} measured, in milliseconds. */
export interface Interleaved {
  /** Per contender: one value per round (the median of that round's calls), in round order. */
  rounds: Record<string, number[]>;
  /** Per contender: the summary of those per-round values. */
  times: Record<string, Summary>;
}

/**
 * Runs the contenders in rounds, rotating their order every round (A B, B A,
 * ... or A B C, B C A, C A B, ...), so that slow drifts in the machine's load
 * hit every contender alike and `rounds[a][i] / rounds[b][i]` is a fair
 * paired ratio.
 */
export async function interleave(contenders: readonly Contender[], options: InterleaveOptions): Promise<Interleaved> {
  const bench = new Bench({
    iterations: options.perRound ?? 1, time: 0, warmupIterations: options.warmup, warmupTime: 0,
    retainSamples: true, throws: true,
  });
  const tasks: Task[] = contenders.map((c) => {
    bench.add(c.name, c.fn, {async: true, beforeEach: c.beforeEach === undefined ? undefined : async () => {
      await c.beforeEach!();
    }});
    return bench.getTask(c.name)!;
  });
  if (options.warmup > 0) {
    for (const task of tasks) {
      await task.warmup();
      task.reset(false);
    }
  }
  const rounds: Record<string, number[]> = Object.fromEntries(contenders.map((c) => [c.name, []]));
  for (let round = 0; round < options.rounds; round++) {
    for (let i = 0; i < tasks.length; i++) {
      const task = tasks[(i + round) % tasks.length];
      task.reset(false);
      await task.run();
      const result = task.result;
      if (result.state !== 'completed') {
        throw new Error(`benchmark task "${task.name}" ended as ${result.state}` +
            (result.state === 'errored' ? `: ${result.error.message}` : ''));
      }
      rounds[task.name].push(result.latency.p50);
    }
  }
  const times = Object.fromEntries(Object.entries(rounds).map(([name, values]) => [name, summarize(values)]));
  return {rounds, times};
}

/** The per-round ratios `rounds[a][i] / rounds[b][i]`. */
export function pairedRatios(measured: Interleaved, a: string, b: string): number[] {
  return measured.rounds[a].map((value, i) => value / measured.rounds[b][i]);
}
