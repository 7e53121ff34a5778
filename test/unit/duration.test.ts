import { formatDuration, parseDuration } from '../../src/config/duration.js';

describe('durations', () => {
  it.each([
    [300, 300_000],
    [0.5, 500],
    ['120s', 120_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['7d', 604_800_000],
    ['250ms', 250],
  ])('parses %p', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each([[-1], ['5 minutes'], [''], ['m5'], [true], [Number.NaN]])('rejects %p with a message', (input) => {
    expect(typeof parseDuration(input)).toBe('string');
  });

  it('formats like Prometheus', () => {
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(120_000)).toBe('2m');
    expect(formatDuration(0)).toBe('0s');
  });
});
