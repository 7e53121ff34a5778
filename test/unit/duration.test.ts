import { formatDuration, MAX_DURATION_MS, parseDuration } from '../../src/config/duration.js';

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

  // Found by the hostile-input fuzz run: a window of "99999999999999d" overflowed the Date of its end.
  it.each([['99999999999999d'], ['11y'], ['3651d'], [1e300], [Number.MAX_SAFE_INTEGER], ['9'.repeat(30) + 's']])('refuses %p as longer than the maximum', (input) => {
    expect(parseDuration(input)).toMatch(/is longer than the maximum of 10y$/);
  });

  it('accepts the maximum itself', () => {
    expect(parseDuration('10y')).toBe(MAX_DURATION_MS);
    expect(parseDuration('3650d')).toBe(MAX_DURATION_MS);
  });

  it('formats like Prometheus', () => {
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(120_000)).toBe('2m');
    expect(formatDuration(0)).toBe('0s');
  });
});
