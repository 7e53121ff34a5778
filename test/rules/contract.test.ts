/**
 * The rules against the receiver's contract (SPEC §4, §5): what every alert carries, the
 * labels the receiver matches (checked with the receiver's own matching code), the
 * namespace/deployment the expressions keep, the thresholds the receiver reports, and the
 * receiver's metric names.
 */
import { SEED_TRIGGER_KEYS } from '../../src/config/schema.js';
import { DEFAULT_TRIGGERS, buildTriggers } from '../../src/config/triggers.js';
import { intentFor, matchTrigger } from '../../src/matching/intent.js';
import { Metrics } from '../../src/metrics.js';
import type { Alert } from '../../src/model.js';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { RECEIVER_JOB_MATCHER, findThresholds, loadSources, seedKeyOf, type Rule } from '../../scripts/rules/generate.js';
import { parseDuration } from '../../src/config/duration.js';
import {
  ROOT,
  alertExpectations,
  alertsOf,
  aggregations,
  hasTrailingGrouping,
  matcherLabels,
  metricNames,
  outermostAggregations,
  rangeSeconds,
  read,
} from './support.js';

const sources = loadSources();
const triggerAlerts = alertsOf(sources.triggers);
const receiverAlerts = alertsOf(sources.receiver);
const DEFAULT_NAMES = Object.keys(DEFAULT_TRIGGERS);
const SEVERITIES = ['critical', 'warning', 'info'];

function alertWith(labels: Record<string, string>): Alert {
  return {
    fingerprint: '0123456789abcdef',
    status: 'firing',
    labels,
    annotations: {},
    startsAt: '2024-01-01T00:00:00Z',
    startsAtMs: Date.parse('2024-01-01T00:00:00Z'),
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: '',
  };
}

describe('every alert', () => {
  // runbook_url is the chart's (prometheusRule.runbookUrl): no placeholder host in the sources.
  test.each([...triggerAlerts, ...receiverAlerts].map((r) => [r.alert!, r] as const))('%s has a summary and a description', (_name, rule) => {
    const a = rule.annotations ?? {};
    expect(Object.keys(a).sort()).toEqual(['description', 'summary']);
    expect(a.summary!.trim().length).toBeGreaterThan(10);
    expect(a.description!.trim().length).toBeGreaterThan(a.summary!.trim().length);
    expect(SEVERITIES).toContain(rule.labels?.severity);
  });

  test('alert names are unique, and each has a runbook section (the anchor the chart links)', () => {
    const names = [...triggerAlerts, ...receiverAlerts].map((r) => r.alert!);
    expect(new Set(names).size).toBe(names.length);
    const headings = [...read('alert-rules/runbooks.md').matchAll(/^### (\w+)$/gm)].map((m) => m[1]);
    expect(headings.sort()).toEqual([...names].sort());
  });

  // alert-rules/README.md: | alert | `for:` | why |, one row per alert, with the rule's value.
  test("every alert's `for:` (or why it has none) is documented", () => {
    const rows = new Map(
      [...read('alert-rules/README.md').matchAll(/^\| (Rollback\w+) \| (`\d+[smh]`|none) \| (.+) \|$/gm)].map((m) => [m[1]!, { for: m[2]!, why: m[3]!.trim() }]),
    );
    for (const rule of [...triggerAlerts, ...receiverAlerts]) {
      const row = rows.get(rule.alert!);
      expect([rule.alert, row?.for]).toEqual([rule.alert, rule.for === undefined ? 'none' : `\`${rule.for}\``]);
      expect(row!.why.length).toBeGreaterThan(30);
    }
    expect(rows.size).toBe(triggerAlerts.length + receiverAlerts.length);
  });
});

describe('the data the rules read', () => {
  // Every range is at least 4 scrape intervals of the series it reads, so a missed scrape
  // or two never leaves rate() or the probe count short. The triggers assume the seed's
  // 60 s (probes; application and cAdvisor metrics are scraped at least as often), the
  // receiver's own rules the chart's ServiceMonitor interval.
  const chartValues = parse(fs.readFileSync(path.join(ROOT, 'helm/rollback-receiver/values.yaml'), 'utf8')) as {
    serviceMonitor: { interval: string };
    prometheusRule: { probeInterval: string };
  };
  const seconds = (d: string) => (parseDuration(d) as number) / 1000;

  test.each([
    ['trigger', triggerAlerts, seconds(chartValues.prometheusRule.probeInterval)],
    ['receiver', receiverAlerts, seconds(chartValues.serviceMonitor.interval)],
  ] as const)('every range of a %s alert is at least 4 scrape intervals (%#)', (_kind, rules, interval) => {
    const short = rules.flatMap((r) => rangeSeconds(r.expr).filter((s) => s < 4 * interval).map((s) => `${r.alert}: ${s}s`));
    expect(short).toEqual([]);
    expect(rules.flatMap((r) => rangeSeconds(r.expr)).length).toBeGreaterThan(0);
  });

  test('the range reader finds ranges and subquery ranges, not steps or label values', () => {
    expect(rangeSeconds('max_over_time((x == 1)[4m:15s]) + rate(y{a="[1s]"}[5m]) + z[1h30m]')).toEqual([240, 300, 5400]);
  });

  // kube-prometheus-stack scrapes the kubelet's /metrics/cadvisor and /metrics/resource, and
  // both export container_cpu_usage_seconds_total / container_memory_working_set_bytes.
  test.each(['RollbackCPUUsageHigh', 'RollbackMemoryUsageHigh'])('%s reads cAdvisor only: job, metrics_path and image matchers', (name) => {
    const rule = triggerAlerts.find((r) => r.alert === name)!;
    const selectors = [...rule.expr.matchAll(/(?<![\w:])(container_\w+)\{([^}]*)\}/g)];
    expect(selectors.length).toBeGreaterThan(0);
    for (const [, metric, matchers] of selectors) {
      expect([metric, matchers]).toEqual([metric, expect.stringContaining('job="kubelet"')]);
      expect(matchers).toContain('metrics_path="/metrics/cadvisor"');
      expect(matchers).toContain('image!=""');
    }
  });

  test('no recording rule is shipped (kube-prometheus-stack records the pod owners; the chart can read its rule)', () => {
    expect([...sources.triggers.groups, ...sources.receiver.groups].flatMap((g) => g.rules).filter((r) => r.record !== undefined)).toEqual([]);
  });
});

describe('trigger alerts carry exactly what the receiver matches', () => {
  test('every default trigger has an alert, and every alert is a default trigger', () => {
    const triggers = triggerAlerts.map((r) => r.labels?.rollback_trigger);
    expect(new Set(triggers)).toEqual(new Set(DEFAULT_NAMES));
    expect(new Set(Object.values(SEED_TRIGGER_KEYS))).toEqual(new Set(DEFAULT_NAMES));
  });

  test.each(triggerAlerts.map((r) => [r.alert!, r] as const))('%s: static labels are rollback_trigger and severity only', (_name, rule) => {
    // namespace and deployment come from the expression (per workload), never fixed here;
    // no rollback_strategy/rollback_target either, so the receiver's defaults apply.
    expect(Object.keys(rule.labels ?? {}).sort()).toEqual(['rollback_trigger', 'severity']);
    expect(DEFAULT_NAMES).toContain(rule.labels!.rollback_trigger);
  });

  test.each(triggerAlerts.map((r) => [r.alert!, r] as const))('%s: the outermost aggregations keep namespace and deployment', (_name, rule) => {
    expect(hasTrailingGrouping(rule.expr)).toBe(false);
    const outer = outermostAggregations(rule.expr);
    expect(outer.length).toBeGreaterThan(0);
    for (const a of outer) {
      expect(a.clause?.kind).toBe('by');
      expect(a.clause!.labels).toEqual(expect.arrayContaining(['namespace', 'deployment']));
    }
  });

  test('the PromQL reader finds nested aggregations and ignores them for the result labels', () => {
    const expr = 'sum by (namespace, deployment) (x * on (pod) group_left (deployment) max by (pod, deployment) (y)) / sum by (namespace, deployment) (z) > 1';
    expect(aggregations(expr).map((a) => a.op)).toEqual(['sum', 'max', 'sum']);
    expect(outermostAggregations(expr).map((a) => a.clause?.labels)).toEqual([
      ['namespace', 'deployment'],
      ['namespace', 'deployment'],
    ]);
    expect(outermostAggregations('sum(rate(x[5m])) > 1')[0]!.clause).toBeUndefined();
    expect(hasTrailingGrouping('sum(rate(x[5m])) by (namespace) > 1')).toBe(true);
  });

  // The labels Prometheus really produces (asserted by the promtool tests) go through the
  // receiver's own trigger matching and target derivation.
  test('every firing expectation of the promtool tests is matched by the receiver to its trigger and target', () => {
    const { triggers } = buildTriggers(undefined);
    const byName = new Map(triggerAlerts.map((r) => [r.alert!, r]));
    const checked: string[] = [];
    for (const e of alertExpectations().filter((x) => byName.has(x.alertname))) {
      for (const exp of e.alerts) {
        const labels = { alertname: e.alertname, ...exp.exp_labels };
        const trigger = matchTrigger(alertWith(labels), triggers);
        expect(trigger?.name).toBe(byName.get(e.alertname)!.labels!.rollback_trigger);
        const intent = intentFor(alertWith(labels), trigger!);
        expect(intent.namespace).toBe(exp.exp_labels!.namespace);
        expect(intent.name).toBe(exp.exp_labels!.deployment);
        expect(intent.nameLabel).toBe('deployment');
        expect(intent.strategy).toBe('deployment-undo');
        checked.push(e.alertname);
      }
    }
    expect(new Set(checked)).toEqual(new Set(byName.keys()));
  });

  test.each(triggerAlerts.map((r) => [r.alert!, r] as const))("%s: its threshold is the receiver's default for the trigger", (_name, rule) => {
    const [t] = findThresholds(rule.expr);
    const trigger = rule.labels!.rollback_trigger!;
    expect(t!.key).toBe(seedKeyOf(rule));
    // valuesDefault is in the values' (and the receiver's) unit: ms for response_time.
    expect(Number(t!.valuesDefault)).toBe(DEFAULT_TRIGGERS[trigger]!.threshold);
  });

  test('performance triggers are sustained, and the receiver waits 2 more minutes before acting', () => {
    const forMinutes = (r: Rule) => Number(/^(\d+)m$/.exec(r.for ?? '0m')![1]);
    for (const r of triggerAlerts) {
      const act = DEFAULT_TRIGGERS[r.labels!.rollback_trigger!]!.actAfterMs;
      if (['response_time', 'cpu', 'memory'].includes(r.labels!.rollback_trigger!)) {
        expect(act).toBe(120_000);
        expect(forMinutes(r)).toBeGreaterThanOrEqual(3);
      } else {
        expect(act).toBe(0);
      }
    }
  });
});

describe("the receiver's own alerts", () => {
  const metrics = new Metrics({ triggers: DEFAULT_NAMES, defaultMetrics: false });
  const registered = new Map<string, { type: string; labelNames: string[] }>(
    metrics.registry.getMetricsAsArray().map((m) => {
      const labelNames = (metrics.registry.getSingleMetric(m.name) as unknown as { labelNames?: readonly string[] }).labelNames ?? [];
      return [m.name, { type: String(m.type), labelNames: [...labelNames] as string[] }];
    }),
  );
  /** A series name as exposed: histograms add _bucket/_sum/_count. */
  const exposed = new Map<string, { labelNames: string[] }>();
  for (const [name, m] of registered) {
    if (m.type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) exposed.set(name + s, { labelNames: [...m.labelNames, ...(s === '_bucket' ? ['le'] : [])] });
    else exposed.set(name, m);
  }
  /** Labels the scrape adds (ServiceMonitor / scrape config). */
  const TARGET_LABELS = ['job', 'namespace', 'instance', 'pod', 'service', 'endpoint', 'container'];

  test('the registry is the one of src/metrics.ts', () => {
    expect([...registered.keys()]).toEqual(expect.arrayContaining(['rollback_executions_total', 'rollback_escalations_total', 'rollback_webhooks_received_total']));
  });

  test.each(receiverAlerts.map((r) => [r.alert!, r] as const))('%s never carries rollback_trigger, and the receiver does not match it', (_name, rule) => {
    expect(rule.labels?.rollback_trigger).toBeUndefined();
    expect(rule.expr).not.toContain('rollback_trigger');
    const { triggers } = buildTriggers(undefined);
    const labels = { alertname: rule.alert!, ...rule.labels, namespace: 'rollback', job: 'rollback-receiver', deployment: 'rollback-receiver' };
    expect(matchTrigger(alertWith(labels), triggers)).toBeUndefined();
  });

  test.each(receiverAlerts.map((r) => [r.alert!, r] as const))('%s uses only metrics of src/metrics.ts (and up), with their labels', (_name, rule) => {
    const names = metricNames(rule.expr);
    expect(names.length).toBeGreaterThan(0);
    for (const n of names) expect(n === 'up' || exposed.has(n) ? n : `${n} (not in src/metrics.ts)`).toBe(n);
    const known = new Set([...TARGET_LABELS, ...names.flatMap((n) => exposed.get(n)?.labelNames ?? [])]);
    const used = [...matcherLabels(rule.expr).flatMap((m) => m.labels), ...aggregations(rule.expr).flatMap((a) => a.clause?.labels ?? [])];
    expect(used.filter((l) => !known.has(l))).toEqual([]);
  });

  test.each(receiverAlerts.map((r) => [r.alert!, r] as const))('%s is scoped to the receiver scrape job', (_name, rule) => {
    for (const m of matcherLabels(rule.expr)) expect(`${m.metric}: ${m.labels.includes('job')}`).toBe(`${m.metric}: true`);
    expect(rule.expr).toContain(RECEIVER_JOB_MATCHER);
  });

  test('the metric reader finds selectors, not functions, keywords or labels', () => {
    expect(metricNames('sum by (namespace, job) (increase(rollback_alerts_total{job=~"x", decision="a"}[15m])) > 0')).toEqual(['rollback_alerts_total']);
    expect(metricNames('up{job="x"} == 0 or absent(up{job="x"})')).toEqual(['up']);
    expect(metricNames('histogram_quantile(0.95, sum by (le) (rate(a_bucket[5m]))) > 5 # threshold: x')).toEqual(['a_bucket']);
  });
});
