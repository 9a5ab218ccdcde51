/** What the benchmarks record about the machine they ran on. */
import * as fs from 'node:fs';
import * as os from 'node:os';

/** The CPU's model name (from /proc/cpuinfo on Linux, else what Node reports). */
export function cpuModel(): string {
  try {
    const line = fs.readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    if (line) return line.split(':')[1].trim();
  } catch {
    // Not Linux: fall back to what Node reports.
  }
  return os.cpus()[0]?.model ?? 'unknown';
}
