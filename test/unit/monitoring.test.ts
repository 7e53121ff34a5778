import { intervalToCron } from '../../src/monitoring/cron.js';
import { classify, escalationFor, missedTicks, unknownStreaks } from '../../src/monitoring/evaluate.js';
import type { SampleRecord } from '../../src/store/records.js';
import { testConfig } from '../support/service.js';
import { ConfigError } from '../../src/config/load.js';
import { PrometheusSampler } from '../../src/monitoring/sampler.js';

function sample(metric: string, state: SampleRecord['state'], at = 0): SampleRecord {
  return { windowId: 'w', at, metric, value: state === 'unknown' ? null : 1, threshold: 0.5, state, detail: '' };
}

describe('monitoring intervals as cron', () => {
  it.each([
    [1000, '*/1 * * * * *'],
    [15_000, '*/15 * * * * *'],
    [60_000, '0 */1 * * * *'],
    [300_000, '0 */5 * * * *'],
    [3_600_000, '0 0 */1 * * *'],
    [6 * 3_600_000, '0 0 */6 * * *'],
  ])('%d ms → %s', (ms, cron) => {
    expect(intervalToCron(ms)).toBe(cron);
  });

  it.each([[7000], [1500], [90_000], [7 * 60_000], [5 * 3_600_000], [48 * 3_600_000]])('rejects %d ms', (ms) => {
    expect(intervalToCron(ms)).toEqual({ problem: expect.stringMatching(/cannot be a cron schedule/) });
  });

  it('is checked at config load, naming the key', () => {
    expect(() => testConfig('monitoring:\n  enhanced:\n    interval: 7s\n')).toThrow(ConfigError);
    try {
      testConfig('monitoring:\n  enhanced:\n    interval: 7s\n    metrics: [error_rate, latency]\n    alert_thresholds: {cpu_usage: 0.9}\n');
    } catch (err) {
      expect((err as ConfigError).problems).toEqual([
        'monitoring.enhanced.interval: 7s cannot be a cron schedule: use whole seconds dividing 60, whole minutes dividing 60, or whole hours dividing 24',
        'monitoring.enhanced.metrics[1]: "latency" has no default query: add one under monitoring.enhanced.queries.latency',
        'monitoring.enhanced.alert_thresholds.cpu_usage: "cpu_usage" is not in monitoring.enhanced.metrics',
      ]);
    }
  });

  it('resolves Prometheus credentials from env and files, naming what is missing', () => {
    const c = testConfig('monitoring:\n  enhanced:\n    auth:\n      bearerToken: {env: PROM_TOKEN}\n', { PROM_TOKEN: 't0ken' });
    expect(c.monitoring.bearerToken).toBe('t0ken');
    expect(() => testConfig('monitoring:\n  enhanced:\n    auth:\n      bearerToken: {file: /nonexistent/token}\n')).toThrow(
      /monitoring\.enhanced\.auth\.bearerToken: cannot read \/nonexistent\/token \(ENOENT\)/,
    );
  });
});

describe('sample classification', () => {
  it('a value over the threshold is a breach; at it, ok', () => {
    expect(classify({ value: 0.06 }, 0.05)).toEqual({ state: 'breach', detail: '0.06000 > threshold 0.05' });
    expect(classify({ value: 0.05 }, 0.05).state).toBe('ok');
  });

  it('empty, NaN and an unanswered query are unknown, never healthy', () => {
    expect(classify({ value: null }, 0.05)).toEqual({ state: 'unknown', detail: 'no data (empty result)' });
    expect(classify({ value: Number.NaN }, 0.05).state).toBe('unknown');
    expect(classify({ value: null, error: 'connection refused' }, 0.05)).toEqual({ state: 'unknown', detail: 'Prometheus did not answer: connection refused' });
  });

  it('a metric without threshold is observed only', () => {
    expect(classify({ value: 0.99 }, null)).toEqual({ state: 'ok', detail: '0.9900 (observed, no threshold)' });
  });
});

describe('window escalation', () => {
  it('escalates on a breach, and on N unknowns in a row per metric', () => {
    const latest = [sample('error_rate', 'breach', 2)];
    expect(escalationFor(latest, latest, 3)).toMatchObject({ reason: 'monitoring_breach' });
    const history = [sample('cpu_usage', 'unknown', 1), sample('cpu_usage', 'unknown', 2), sample('cpu_usage', 'unknown', 3)];
    expect(escalationFor(history, history.slice(-1), 3)).toEqual({ reason: 'monitoring_unknown', metric: 'cpu_usage', count: 3 });
    // An ok sample in between resets the streak.
    const broken = [sample('cpu_usage', 'unknown', 1), sample('cpu_usage', 'ok', 2), sample('cpu_usage', 'unknown', 3)];
    expect(escalationFor(broken, broken.slice(-1), 2)).toBeUndefined();
    expect(unknownStreaks(broken).get('cpu_usage')).toBe(1);
  });

  it('finds the ticks missed while the receiver was down', () => {
    expect(missedTicks(0, 60_000, 60_000, 250_000)).toEqual([120_000, 180_000, 240_000]);
    expect(missedTicks(0, undefined, 60_000, 119_999)).toEqual([60_000]);
    expect(missedTicks(0, 60_000, 60_000, 60_000)).toEqual([]);
  });
});

describe('sample queries', () => {
  it('look back no further than the window start, within minRateWindow..rateWindow', () => {
    const c = testConfig('monitoring:\n  enhanced:\n    rateWindow: 5m\n    minRateWindow: 1m\n');
    const sampler = new PrometheusSampler(c.monitoring);
    const metric = c.monitoring.metrics.find((m) => m.name === 'error_rate')!;
    const watched = { namespace: 'prod', name: 'shop', deployment: 'shop-blue', since: 1_000_000 };
    const range = (at: number) => /\[(\d+s)\]/.exec(sampler.query(metric, watched, at))![1];
    expect(range(1_000_000 + 30_000)).toBe('60s');
    expect(range(1_000_000 + 150_000)).toBe('150s');
    expect(range(1_000_000 + 3_600_000)).toBe('300s');
    expect(sampler.query(metric, watched, 1_060_000)).toContain('deployment="shop-blue"');
  });
});
