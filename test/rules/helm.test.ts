/**
 * The generated templates/prometheusrule.yaml rendered with the chart (Helm's template
 * engine and the chart's own _helpers.tpl, through test/helm/chart.ts): with every trigger
 * enabled at the seed's thresholds it is exactly alert-rules/prometheusrule.yaml (scoped to
 * the release); thresholds and enabled triggers follow `rollback.triggers`, the other
 * numbers `prometheusRule.*`; what it renders passes promtool, and acts as configured.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { OUTPUTS, scopeReceiverSelectors, type Group } from '../../scripts/rules/generate.js';
import { MODERN_API_VERSIONS, only, render, renderRaw, rendererBinary } from '../helm/chart.js';
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

interface PromtoolCase {
  interval: string;
  input_series: { series: string; values: string }[];
  promql_expr_test: { expr: string; eval_time: string; exp_samples: { labels: string; value: number }[] }[];
}

/** Runs `promtool test rules` on the rendered rule's groups; throws with promtool's output when a case fails. */
async function promtoolOnRendered(pr: PrometheusRule, name: string, tests: PromtoolCase[]): Promise<void> {
  const rules = path.join(tmp, `${name}.rules.yml`);
  writeFileSync(rules, stringify(pr.spec));
  const file = path.join(tmp, `${name}.test.yml`);
  writeFileSync(file, stringify({ rule_files: [rules], evaluation_interval: '1m', tests }));
  const r = await promtool(['test', 'rules', file]);
  if (r.code !== 0) throw new Error(`${name}: ${show(r)}`);
}

/**
 * Expectations on the firing ALERTS series (labels only: promtool's alert_rule_test would
 * also compare every annotation): a trigger alert fires for prod/<deployment>, or nothing fires.
 */
const firing = (alertname: string, trigger: string, deployment: string, evalTime: string, severity = 'critical') => ({
  expr: `ALERTS{alertname="${alertname}", alertstate="firing"}`,
  eval_time: evalTime,
  exp_samples: [
    {
      labels: `ALERTS{alertname="${alertname}", alertstate="firing", namespace="prod", deployment="${deployment}", rollback_trigger="${trigger}", severity="${severity}"}`,
      value: 1,
    },
  ],
});
const quiet = (alertname: string, evalTime: string) => ({ expr: `ALERTS{alertname="${alertname}", alertstate="firing"}`, eval_time: evalTime, exp_samples: [] });

/** The plain PrometheusRule's groups as the chart scopes them: the release's job and namespace. */
function plainGroups(job = 'rollback-receiver'): Group[] {
  const plain = parse(read(OUTPUTS.plain)) as PrometheusRule;
  return plain.spec.groups.map((g) => ({
    ...g,
    rules: g.rules.map((r) => ({ ...r, expr: scopeReceiverSelectors(r.expr, `job="${job}", namespace="${NAMESPACE}"`, `job="${job}"`) })),
  }));
}

const ruleNames = (pr: PrometheusRule) => pr.spec.groups.map((g) => `${g.name}: ${g.rules.map((r) => r.alert ?? r.record).join(', ')}`);
const ruleByName = (pr: PrometheusRule, name: string) => pr.spec.groups.flatMap((g) => g.rules).find((r) => (r.alert ?? r.record) === name)!;
/** The first line of the expression holding the marker (a threshold by default). */
const markedLine = (expr: string, marker = '# threshold:') => expr.split('\n').find((l) => l.includes(marker))!.trim();

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
    expect(markedLine(ruleByName(pr, 'RollbackHealthCheckFailing').expr)).toMatch(/^>= 5\s+# threshold/);
    expect(markedLine(ruleByName(pr, 'RollbackErrorRateHigh').expr)).toMatch(/^> 0\.25\s+# threshold/);
    expect(markedLine(ruleByName(pr, 'RollbackResponseTimeHigh').expr)).toMatch(/^> 2\.5\s+# threshold/);
    expect(markedLine(ruleByName(pr, 'RollbackCPUUsageHigh').expr)).toMatch(/^> 0\.8\s+# threshold/);
    expect(markedLine(ruleByName(pr, 'RollbackMemoryUsageHigh').expr)).toMatch(/^> 0\.85\s+# threshold/);

    const file = path.join(tmp, 'rendered.rules.yml');
    writeFileSync(file, stringify(pr.spec));
    const r = await promtool(['check', 'rules', file]);
    if (r.code !== 0) throw new Error(`promtool check rules on the rendered PrometheusRule failed\n${show(r)}`);
  });

  // 600 requests a minute (10/s), 20 % failing.
  const errorRate20 = [
    { series: 'http_requests_total{namespace="prod", deployment="api", code="500"}', values: '0+120x10' },
    { series: 'http_requests_total{namespace="prod", deployment="api", code="200"}', values: '0+480x10' },
  ];

  test('the rendered thresholds act: error rate 20% fires at the default 0.1 and not at 0.25', async () => {
    await promtoolOnRendered(prometheusRule({ rollback: { triggers: [{ errorRateThreshold: 0.1 }] } }), 'error-rate-0.1', [
      { interval: '1m', input_series: errorRate20, promql_expr_test: [firing('RollbackErrorRateHigh', 'error_rate', 'api', '10m')] },
    ]);
    await promtoolOnRendered(prometheusRule({ rollback: { triggers: [{ errorRateThreshold: 0.25 }] } }), 'error-rate-0.25', [
      { interval: '1m', input_series: errorRate20, promql_expr_test: [quiet('RollbackErrorRateHigh', '10m')] },
    ]);
  });

  test('healthCheckFailures: 5 with probes every 30s: 4 consecutive failures never fire, the 5th does', async () => {
    const pr = prometheusRule({ rollback: { triggers: [{ healthCheckFailures: 5 }] }, prometheusRule: { probeInterval: '30s' } });
    // Window max(4, N + 1) = 6 probe intervals = 3m, step a quarter of 30 s (whole seconds).
    expect(ruleByName(pr, 'RollbackHealthCheckFailing').expr).toContain('[3m:7s]');
    expect(ruleByName(pr, 'RollbackHealthCheckFailing').expr).toMatch(/\/\n\s+30 {2}# param: probeIntervalSeconds/);
    await promtoolOnRendered(pr, 'health-5-at-30s', [
      {
        // Probes every 30 s: 4 failures (1m..2m30s), then successes.
        interval: '30s',
        input_series: [{ series: 'probe_success{namespace="prod", deployment="api"}', values: '1 1 0 0 0 0 1x10' }],
        promql_expr_test: [quiet('RollbackHealthCheckFailing', '2m'), quiet('RollbackHealthCheckFailing', '3m')],
      },
      {
        // 5 failures (1m..3m), the 5th at 3m.
        interval: '30s',
        input_series: [{ series: 'probe_success{namespace="prod", deployment="api"}', values: '1 1 0 0 0 0 0 1x10' }],
        promql_expr_test: [quiet('RollbackHealthCheckFailing', '2m'), firing('RollbackHealthCheckFailing', 'health_check', 'api', '3m')],
      },
    ]);
  });

  // REGRESSION (the review's first false positive): 3 requests a minute, one failing.
  const lowTraffic = [
    { series: 'http_requests_total{namespace="prod", deployment="admin", code="500"}', values: '0+1x10' },
    { series: 'http_requests_total{namespace="prod", deployment="admin", code="200"}', values: '0+2x10' },
  ];

  test('prometheusRule.minRequestRate: the default keeps 3 requests a minute quiet; 0.01 lets them fire', async () => {
    await promtoolOnRendered(prometheusRule(), 'min-traffic-default', [
      { interval: '1m', input_series: lowTraffic, promql_expr_test: [quiet('RollbackErrorRateHigh', '10m')] },
    ]);
    const lowered = prometheusRule({ prometheusRule: { minRequestRate: 0.01 } });
    expect(markedLine(ruleByName(lowered, 'RollbackErrorRateHigh').expr, '# param: minRequestRate')).toMatch(/^>= 0\.01\s+# param/);
    await promtoolOnRendered(lowered, 'min-traffic-0.01', [
      { interval: '1m', input_series: lowTraffic, promql_expr_test: [firing('RollbackErrorRateHigh', 'error_rate', 'admin', '10m')] },
    ]);
  });

  test("prometheusRule.podOwnerRule reads kube-prometheus-stack's recording rule, and records nothing itself", async () => {
    const pr = prometheusRule({ rollback: { triggers: [{ cpuThreshold: 0.95 }] }, prometheusRule: { podOwnerRule: 'namespace_workload_pod:kube_pod_owner:relabel' } });
    const cpu = ruleByName(pr, 'RollbackCPUUsageHigh').expr;
    expect(cpu).toContain('namespace_workload_pod:kube_pod_owner:relabel{workload_type="deployment"}');
    expect(cpu).not.toContain('kube_replicaset_owner');
    expect(pr.spec.groups.flatMap((g) => g.rules).filter((r) => r.record !== undefined)).toEqual([]);
    // Only the recording rule's series map the pod (no kube_pod_owner / kube_replicaset_owner here).
    const input = [
      { series: 'namespace_workload_pod:kube_pod_owner:relabel{namespace="prod", workload="api", workload_type="deployment", pod="api-7d9c-a"}', values: '1x15' },
      { series: 'namespace_workload_pod:kube_pod_owner:relabel{namespace="prod", workload="db", workload_type="statefulset", pod="db-0"}', values: '1x15' },
      { series: 'kube_pod_container_resource_limits{namespace="prod", pod="api-7d9c-a", container="app", resource="cpu"}', values: '1x15' },
      { series: 'kube_pod_container_resource_limits{namespace="prod", pod="db-0", container="pg", resource="cpu"}', values: '1x15' },
      { series: 'container_cpu_usage_seconds_total{job="kubelet", metrics_path="/metrics/cadvisor", namespace="prod", pod="api-7d9c-a", container="app", image="app:v2"}', values: '0+58x15' },
      { series: 'container_cpu_usage_seconds_total{job="kubelet", metrics_path="/metrics/cadvisor", namespace="prod", pod="db-0", container="pg", image="pg:16"}', values: '0+60x15' },
    ];
    await promtoolOnRendered(pr, 'pod-owner-rule', [
      { interval: '1m', input_series: input, promql_expr_test: [firing('RollbackCPUUsageHigh', 'cpu', 'api', '10m', 'warning')] },
    ]);
  });

  test('a value outside the enum for podOwnerRule, or a probe interval that is no duration, is refused naming the key', () => {
    const owner = renderRaw({ values: { prometheusRule: { podOwnerRule: 'my_rule' } } });
    expect(owner.status).not.toBe(0);
    expect(owner.stderr).toContain('- prometheusRule.podOwnerRule');
    const probe = renderRaw({ values: { prometheusRule: { probeInterval: 'often' } } });
    expect(probe.status).not.toBe(0);
    expect(probe.stderr).toContain('- prometheusRule.probeInterval');
    const tooShort = renderRaw({ values: { prometheusRule: { probeInterval: '2s' } } });
    expect(tooShort.stderr).toContain('prometheusRule.probeInterval: 2s is shorter than 4s');
  });

  test('RollbackTargetStillReverted follows prometheusRule.revertedFor and reads the target-labelled metrics by job only', () => {
    const reverted = (values?: Record<string, unknown>) => ruleByName(prometheusRule(values), 'RollbackTargetStillReverted').expr;
    expect(markedLine(reverted(), '# param: revertedSeconds')).toBe('> 86400  # param: revertedSeconds');
    expect(markedLine(reverted({ prometheusRule: { revertedFor: '2h' } }), '# param: revertedSeconds')).toBe('> 7200  # param: revertedSeconds');
    // The ServiceMonitor honours the workload's namespace label on these metrics: the release namespace would match none.
    expect(reverted()).toContain('rollback_target_reverted{job="rollback-receiver"}');
    expect(reverted()).not.toContain(`namespace="${NAMESPACE}"`);
  });

  test('RollbackStuck follows rollback.executionTimeout (+ 5 minutes)', () => {
    const stuck = (values?: Record<string, unknown>) => markedLine(ruleByName(prometheusRule(values), 'RollbackStuck').expr, '# param: stuckRollbackSeconds');
    expect(stuck()).toMatch(/^> 900\s/);
    expect(stuck({ rollback: { executionTimeout: '20m' } })).toMatch(/^> 1500\s/);
    expect(stuck({ rollback: { executionTimeout: 120 } })).toMatch(/^> 420\s/);
  });

  test('a trigger missing from rollback.triggers renders no rule; a group without rules is left out', () => {
    expect(ruleNames(prometheusRule({ rollback: { triggers: [{ memoryThreshold: 0.9 }] } }))).toEqual([
      'rollback-triggers.resources: RollbackMemoryUsageHigh',
      expect.stringMatching(/^rollback-receiver: RollbackExecutionFailed, /),
    ]);
    expect(ruleNames(prometheusRule({ rollback: { triggers: [{ errorRateThreshold: 0.1 }, { cpuThreshold: 0.95 }] } }))).toEqual([
      'rollback-triggers.error-rate: RollbackErrorRateHigh',
      'rollback-triggers.resources: RollbackCPUUsageHigh',
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

  test('prometheusRule.enabled: false, or a cluster without the PrometheusRule CRD, renders no PrometheusRule', () => {
    const manifests = render({ values: { prometheusRule: { enabled: false } }, namespace: NAMESPACE });
    expect(manifests.filter((m) => m.object.kind === 'PrometheusRule')).toEqual([]);
    const noCrd = render({ namespace: NAMESPACE, apiVersions: MODERN_API_VERSIONS.filter((v) => !v.startsWith('monitoring.coreos.com/')) });
    expect(noCrd.filter((m) => m.object.kind === 'PrometheusRule')).toEqual([]);
    expect(noCrd.map((m) => m.object.kind)).toContain('Deployment');
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
    const alerts = pr.spec.groups.flatMap((g) => g.rules);
    expect(alerts.filter((r) => r.annotations!.runbook_url !== `https://wiki.example.org/rollback#${r.alert!.toLowerCase()}`)).toEqual([]);
  });

  test('without prometheusRule.runbookUrl no alert carries a runbook_url (no placeholder host)', () => {
    const alerts = prometheusRule().spec.groups.flatMap((g) => g.rules);
    expect(alerts.length).toBeGreaterThan(10);
    expect(alerts.filter((r) => 'runbook_url' in (r.annotations ?? {}))).toEqual([]);
  });

  test("the receiver's job follows the release name (the Service the ServiceMonitor scrapes)", () => {
    const pr = only<PrometheusRule>(render({ release: 'prod', namespace: NAMESPACE }), 'PrometheusRule');
    expect(pr.metadata.name).toBe('prod-rollback-receiver');
    expect(ruleByName(pr, 'RollbackReceiverAbsent').expr.trim()).toBe(`absent(up{job="prod-rollback-receiver", namespace="${NAMESPACE}"})`);
    const service = only(render({ release: 'prod', namespace: NAMESPACE }), 'Service');
    expect(service.metadata.name).toBe('prod-rollback-receiver');
  });
});
