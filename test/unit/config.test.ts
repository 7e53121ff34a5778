import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/load.js';

function write(yaml: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'rr-config-')), 'config.yaml');
  writeFileSync(file, yaml);
  return file;
}

function problemsOf(yaml: string, env: Record<string, string> = {}): string[] {
  try {
    loadConfig(write(yaml), env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('starts on defaults with no file: dry-run, port 9095, ./data, all five default triggers', () => {
    const c = loadConfig(undefined, {});
    expect(c.file).toBeNull();
    expect(c.dryRun).toBe(true);
    expect(c.port).toBe(9095);
    expect(c.stateDir).toBe('./data');
    expect(c.bodyLimitBytes).toBe(1024 * 1024);
    expect(c.rollback.triggers.map((t) => t.name)).toEqual(['health_check', 'error_rate', 'response_time', 'cpu', 'memory']);
    expect(c.rollback.triggers.filter((t) => t.actAfterMs === 120_000).map((t) => t.name)).toEqual(['response_time', 'cpu', 'memory']);
    expect(c.rollback.cooldownMs).toBe(300_000);
    expect(c.rollback.maximumRetries).toBe(5);
    expect(c.rollback.retryWindowMs).toBe(3_600_000);
    expect(c.rollback.brake).toEqual({ max: 10, windowMs: 900_000 });
    expect(c.rollback.namespaces.deny).toEqual(['kube-system']);
  });

  it('treats an empty trigger list like none given: every default trigger, as the chart renders the rules', () => {
    expect(loadConfig(write('rollback:\n  triggers: []\n'), {}).rollback.triggers).toHaveLength(5);
  });

  it("accepts the seed's Helm rollback block unchanged", () => {
    const c = loadConfig(
      write(`rollback:
  enabled: true
  automatic: true
  triggers:
    - healthCheckFailures: 3
    - errorRateThreshold: 0.1
    - responseTimeThreshold: 5000
  cooldownPeriod: 300  # seconds
  maximumRetries: 5
`),
      {},
    );
    expect(c.rollback.triggers.map((t) => [t.name, t.threshold])).toEqual([
      ['health_check', 3],
      ['error_rate', 0.1],
      ['response_time', 5000],
    ]);
    expect(c.rollback.cooldownMs).toBe(300_000);
  });

  it("accepts the seed's monitoring block unchanged", () => {
    const c = loadConfig(
      write(`monitoring:
  enhanced:
    enabled: true
    duration: 1800  # 30 minutes
    metrics:
      - error_rate
      - response_time
      - cpu_usage
      - memory_usage
    alert_thresholds:
      error_rate: 0.05
      response_time: 3000
`),
      {},
    );
    expect(c.monitoring.durationMs).toBe(1_800_000);
    expect(c.monitoring.intervalMs).toBe(60_000);
    expect(c.monitoring.cron).toBe('0 */1 * * * *');
    expect(c.monitoring.metrics.map((m) => [m.name, m.threshold])).toEqual([
      ['error_rate', 0.05],
      ['response_time', 3000],
      ['cpu_usage', null],
      ['memory_usage', null],
    ]);
  });

  it('takes named triggers with Alertmanager matchers, strategy, actAfter and automatic', () => {
    const c = loadConfig(
      write(`rollback:
  triggers:
    - name: checkout-latency
      matchers: ['alertname="CheckoutSlow"', 'namespace=~"shop-.*"']
      strategy: blue-green
      actAfter: 90s
    - name: error_rate
      automatic: false
`),
      {},
    );
    const [custom, errorRate] = c.rollback.triggers;
    expect(custom).toMatchObject({ name: 'checkout-latency', strategy: 'blue-green', actAfterMs: 90_000, automatic: true });
    expect(custom!.matchers.map((m) => m.op)).toEqual(['=', '=~']);
    // A default trigger named without matchers keeps its rollback_trigger matcher.
    expect(errorRate!.matchers[0]).toMatchObject({ name: 'rollback_trigger', value: 'error_rate' });
    expect(errorRate!.automatic).toBe(false);
  });

  it('names every bad key', () => {
    const problems = problemsOf(`rollback:
  cooldownPeriod: soon
  maximumRetries: 0
  triggers:
    - errorRateThreshold: 2
    - name: custom
    - name: x
      matchers: ['a=~"("']
    - {healthCheckFailures: 3, errorRateThreshold: 0.1}
  strategy: yolo
server:
  bodyLimit: lots
somethingElse: 1
`);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^rollback\.cooldownPeriod: "soon" is not a duration/),
        expect.stringMatching(/^rollback\.maximumRetries: /),
        expect.stringMatching(/^rollback\.triggers\[0\]\.errorRateThreshold: /),
        expect.stringMatching(/^rollback\.triggers\[2\]\.matchers\[0\]: invalid regular expression/),
        expect.stringMatching(/^rollback\.triggers\[3\]: a seed trigger entry has exactly one of/),
        expect.stringMatching(/^rollback: unknown key "strategy"/),
        expect.stringMatching(/^server\.bodyLimit: "lots" is not a size/),
        expect.stringMatching(/^unknown key "somethingElse"/),
      ]),
    );
  });

  it('rejects a custom trigger without matchers and duplicate trigger names', () => {
    expect(problemsOf(`rollback:\n  triggers:\n    - name: custom\n`)).toEqual([
      expect.stringMatching(/^rollback\.triggers\[0\]: trigger "custom" is not a default trigger .* needs matchers/),
    ]);
    expect(problemsOf(`rollback:\n  triggers:\n    - errorRateThreshold: 0.2\n    - name: error_rate\n`)).toEqual([
      'rollback.triggers[1]: trigger "error_rate" is defined twice',
    ]);
  });

  it('rejects invalid YAML and duplicate keys', () => {
    expect(problemsOf('rollback: [unclosed')[0]).toMatch(/^YAML: /);
    expect(problemsOf('rollback:\n  enabled: true\n  enabled: false\n')[0]).toMatch(/^YAML: .*unique/i);
  });

  it('applies and validates the environment of SPEC §3', () => {
    const c = loadConfig(undefined, { PORT: '8080', ROLLBACK_STATE_DIR: '/var/lib/rr', ROLLBACK_DRY_RUN: 'false', PROMETHEUS_URL: 'http://prom:9090', LOG_LEVEL: 'warn' });
    expect(c).toMatchObject({ port: 8080, stateDir: '/var/lib/rr', dryRun: false, prometheusUrl: 'http://prom:9090', logLevel: 'warn' });
    const problems = problemsOf('', { PORT: 'eighty', ROLLBACK_DRY_RUN: 'yes', LOG_LEVEL: 'loud', PROMETHEUS_URL: 'not a url' });
    expect(problems).toEqual([
      'PORT: must be a port number 0-65535, got "eighty"',
      'ROLLBACK_DRY_RUN: must be "true" or "false", got "yes"',
      expect.stringMatching(/^LOG_LEVEL: must be one of/),
      'PROMETHEUS_URL: "not a url" is not a URL',
    ]);
  });

  it('says when the file cannot be read', () => {
    expect(() => loadConfig('/nonexistent/config.yaml', {})).toThrow(/cannot read the config file/);
  });

  it('rejects a namespace both allowed and denied, and invalid namespace names', () => {
    expect(problemsOf('rollback:\n  namespaces:\n    allow: [prod]\n    deny: [prod]\n')).toEqual(['rollback.namespaces: "prod" is both allowed and denied']);
    expect(problemsOf('rollback:\n  namespaces:\n    allow: [Prod_1]\n')[0]).toMatch(/^rollback\.namespaces\.allow\[0\]: namespace "Prod_1" is not a valid RFC 1123 label/);
  });
});
