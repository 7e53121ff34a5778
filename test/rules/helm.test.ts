/**
 * The generated templates/prometheusrule.yaml rendered with the chart (Helm's template
 * engine and the chart's own _helpers.tpl, through test/helm/chart.ts): with every trigger
 * enabled at the seed's thresholds it is exactly alert-rules/prometheusrule.yaml (scoped to
 * the release); thresholds and enabled triggers follow `rollback.triggers`; what it renders
 * passes promtool.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { OUTPUTS, RECEIVER_JOB_MATCHER, type Group } from '../../scripts/rules/generate.js';
import { only, render, rendererBinary } from '../helm/chart.js';
import { promtool, read, show } from './support.js';

interface PrometheusRule {
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec: { groups: Group[] };
}

const NAMESPACE = 'rollback';
const ALL_SEED_DEFAULTS = [
  { healthCheckFailures: 3 },
  { errorRateThreshold: 0.1 },
  { responseTimeThreshold: 5000 },
  { cpuThreshold: 0.95 },
  { memoryThreshold: 0.9 },
];

function prometheusRule(values?: Record<string, unknown>): PrometheusRule {
  return only<PrometheusRule>(render({ values, namespace: NAMESPACE }), 'PrometheusRule');
}

/** The plain PrometheusRule's groups as the chart scopes them: the release's job and namespace. */
function plainGroups(job = 'rollback-receiver'): Group[] {
  const plain = parse(read(OUTPUTS.plain)) as PrometheusRule;
  return plain.spec.groups.map((g) => ({
    ...g,
    rules: g.rules.map((r) => ({ ...r, expr: r.expr.split(RECEIVER_JOB_MATCHER).join(`job="${job}", namespace="${NAMESPACE}"`) })),
  }));
}

const ruleNames = (pr: PrometheusRule) => pr.spec.groups.map((g) => `${g.name}: ${g.rules.map((r) => r.alert ?? r.record).join(', ')}`);
const ruleByName = (pr: PrometheusRule, name: string) => pr.spec.groups.flatMap((g) => g.rules).find((r) => (r.alert ?? r.record) === name)!;
const markedLine = (expr: string) => expr.split('\n').find((l) => l.includes('# threshold:'))!.trim();

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'rules-helm-'));
  // The first use builds the test renderer (Go, once per source version): give it time here.
  rendererBinary();
}, 300_000);
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('templates/prometheusrule.yaml rendered with the chart', () => {
  test('every trigger enabled at the seed thresholds: exactly the plain PrometheusRule, scoped to the release', () => {
    const pr = prometheusRule({ rollback: { triggers: ALL_SEED_DEFAULTS } });
    expect(pr.spec.groups).toEqual(plainGroups());
    expect(pr.metadata.name).toBe('rollback-receiver');
    expect(pr.metadata.namespace).toBe(NAMESPACE);
    expect(pr.metadata.labels).toMatchObject({ 'app.kubernetes.io/name': 'rollback-receiver', 'app.kubernetes.io/instance': 'rollback-receiver' });
  });

  test('no triggers list: every trigger, as the receiver does', () => {
    expect(prometheusRule({ rollback: { triggers: null } }).spec.groups).toEqual(plainGroups());
  });

  test("the chart's default values (the seed's block): health check, error rate, response time and the receiver's own alerts", () => {
    const pr = prometheusRule();
    const expected = plainGroups().filter((g) => g.name !== 'rollback-triggers.resources');
    expect(pr.spec.groups).toEqual(expected);
  });

  test('thresholds come from rollback.triggers, in the values units', async () => {
    const pr = prometheusRule({
      rollback: {
        triggers: [{ healthCheckFailures: 5 }, { errorRateThreshold: 0.25 }, { responseTimeThreshold: 2500 }, { cpuThreshold: 0.8 }, { memoryThreshold: 0.85 }],
      },
    });
    expect(markedLine(ruleByName(pr, 'RollbackHealthCheckFailing').expr)).toMatch(/^max_over_time\(probe_success\{[^}]*\}\[5m\]\)\s+# threshold/);
    expect(markedLine(ruleByName(pr, 'RollbackErrorRateHigh').expr)).toMatch(/^> 0\.25\s+# threshold/);
    expect(markedLine(ruleByName(pr, 'RollbackResponseTimeHigh').expr)).toMatch(/^\) > 2\.5\s+# threshold/);
    expect(markedLine(ruleByName(pr, 'RollbackCPUUsageHigh').expr)).toMatch(/^> 0\.8\s+# threshold/);
    expect(markedLine(ruleByName(pr, 'RollbackMemoryUsageHigh').expr)).toMatch(/^> 0\.85\s+# threshold/);

    const file = path.join(tmp, 'rendered.rules.yml');
    writeFileSync(file, stringify(pr.spec));
    const r = await promtool(['check', 'rules', file]);
    if (r.code !== 0) throw new Error(`promtool check rules on the rendered PrometheusRule failed\n${show(r)}`);
  });

  test('the rendered thresholds act: error rate 20% fires at the default 0.1 and not at 0.25', async () => {
    const firing =
      'ALERTS{alertname="RollbackErrorRateHigh", alertstate="firing", namespace="prod", deployment="api", rollback_trigger="error_rate", severity="critical"}';
    for (const [threshold, expected] of [
      [0.1, [{ labels: firing, value: 1 }]],
      [0.25, []],
    ] as const) {
      const pr = prometheusRule({ rollback: { triggers: [{ errorRateThreshold: threshold }] } });
      const rules = path.join(tmp, `error-rate-${threshold}.rules.yml`);
      writeFileSync(rules, stringify(pr.spec));
      const t = path.join(tmp, `error-rate-${threshold}.test.yml`);
      writeFileSync(
        t,
        stringify({
          rule_files: [rules],
          evaluation_interval: '1m',
          tests: [
            {
              interval: '1m',
              input_series: [
                { series: 'http_requests_total{namespace="prod", deployment="api", code="500"}', values: '0+12x10' },
                { series: 'http_requests_total{namespace="prod", deployment="api", code="200"}', values: '0+48x10' },
              ],
              promql_expr_test: [{ expr: 'ALERTS{alertname="RollbackErrorRateHigh", alertstate="firing"}', eval_time: '10m', exp_samples: expected }],
            },
          ],
        }),
      );
      const r = await promtool(['test', 'rules', t]);
      if (r.code !== 0) throw new Error(`errorRateThreshold ${threshold}: ${show(r)}`);
    }
  });

  test('a trigger missing from rollback.triggers renders no rule; the recording rule follows cpu/memory', () => {
    expect(ruleNames(prometheusRule({ rollback: { triggers: [{ memoryThreshold: 0.9 }] } }))).toEqual([
      'rollback-triggers.resources: namespace_deployment_pod:kube_pod_owner:relabel, RollbackMemoryUsageHigh',
      expect.stringMatching(/^rollback-receiver: RollbackExecutionFailed, /),
    ]);
    expect(ruleNames(prometheusRule({ rollback: { triggers: [{ errorRateThreshold: 0.1 }, { cpuThreshold: 0.95 }] } }))).toEqual([
      'rollback-triggers.error-rate: RollbackErrorRateHigh',
      'rollback-triggers.resources: namespace_deployment_pod:kube_pod_owner:relabel, RollbackCPUUsageHigh',
      expect.stringMatching(/^rollback-receiver: /),
    ]);
  });

  test('named triggers in the list do not disturb the seed entries', () => {
    const pr = prometheusRule({
      rollback: { triggers: [{ name: 'checkout-latency', matchers: ['alertname="CheckoutSlow"'] }, { errorRateThreshold: 0.2 }] },
    });
    expect(ruleNames(pr)[0]).toBe('rollback-triggers.error-rate: RollbackErrorRateHigh');
    expect(markedLine(ruleByName(pr, 'RollbackErrorRateHigh').expr)).toMatch(/^> 0\.2\s/);
  });

  test('prometheusRule.enabled: false renders no PrometheusRule', () => {
    const manifests = render({ values: { prometheusRule: { enabled: false } }, namespace: NAMESPACE });
    expect(manifests.filter((m) => m.object.kind === 'PrometheusRule')).toEqual([]);
  });

  test('prometheusRule.labels, receiverJob and runbookUrl', () => {
    const pr = prometheusRule({
      prometheusRule: { enabled: true, labels: { release: 'prom', team: 'sre' }, receiverJob: 'custom-job', runbookUrl: 'https://wiki.example.org/rollback' },
    });
    expect(pr.metadata.labels).toMatchObject({ release: 'prom', team: 'sre', 'app.kubernetes.io/name': 'rollback-receiver' });
    const down = ruleByName(pr, 'RollbackReceiverDown');
    expect(down.expr.trim()).toBe(`up{job="custom-job", namespace="${NAMESPACE}"} == 0`);
    expect(down.annotations!.runbook_url).toBe('https://wiki.example.org/rollback#rollbackreceiverdown');
    expect(down.annotations!.description).toContain('{{ $labels.instance }}');
  });

  test("the receiver's job follows the release name (the Service the ServiceMonitor scrapes)", () => {
    const pr = only<PrometheusRule>(render({ release: 'prod', namespace: NAMESPACE }), 'PrometheusRule');
    expect(pr.metadata.name).toBe('prod-rollback-receiver');
    expect(ruleByName(pr, 'RollbackReceiverAbsent').expr.trim()).toBe(`absent(up{job="prod-rollback-receiver", namespace="${NAMESPACE}"})`);
    const service = only(render({ release: 'prod', namespace: NAMESPACE }), 'Service');
    expect(service.metadata.name).toBe('prod-rollback-receiver');
  });
});
