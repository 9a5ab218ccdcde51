// The MNIST example's durations: seconds are always 00-59 (issue 14 saw "6m 60s").
import {formatDuration} from '../../examples/mnist/progress';

describe('formatDuration', () => {
  it.each<[number, string]>([
    [0, '0.0s'],
    [12_345, '12.3s'],
    [59_940, '59.9s'],
    // Below a minute, but a minute once rounded to tenths: the minutes form, not "60.0s".
    [59_960, '1m 00s'],
    [60_000, '1m 00s'],
    [65_000, '1m 05s'],
    // 6 min 59.6 s rounds up to the next minute: "7m 00s", never "6m 60s".
    [419_600, '7m 00s'],
    [419_400, '6m 59s'],
    [119_500, '2m 00s'],
    [328_670, '5m 29s'],
    [3_600_000, '60m 00s'],
  ])('formats %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('keeps the seconds between 00 and 59 for every duration up to two hours', () => {
    const bad: string[] = [];
    for (let ms = 0; ms <= 7_200_000; ms += 100) {
      const text = formatDuration(ms);
      const match = /^(\d+)m (\d{2})s$/.exec(text);
      if (match !== null ? Number(match[2]) > 59 : !/^\d{1,2}\.\ds$/.test(text) || parseFloat(text) >= 60) {
        bad.push(`${ms} ms -> ${text}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('shows an unknown duration as a question mark', () => {
    expect(formatDuration(NaN)).toBe('?');
    expect(formatDuration(Infinity)).toBe('?');
  });
});
