/**
 * Every metric the Grafana dashboard, the shipped alert rules (alert-rules/*.rules.yml)
 * and the chart's PrometheusRule query exists on the receiver's /metrics: the names come
 * from the receiver's own registry (src/metrics.ts), histograms with their
 * _bucket/_sum/_count series.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { parseDuration } from '../../src/config/duration.js';
import { Metrics } from '../../src/metrics.js';
import { CHART_DIR, ROOT, ofKind, render } from './chart.js';

/** The series names the receiver exposes (and `up`, the scrape's own series). */
async function exposedNames(): Promise<Set<string>> {
  const metrics = new Metrics({ triggers: ['health_check', 'error_rate', 'response_time', 'cpu', 'memory'] });
  const names = new Set<string>(['up']);
  for (const m of await metrics.registry.getMetricsAsJSON()) {
    names.add(m.name);
    if (String(m.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${m.name}${suffix}`);
  }
  return names;
}

const KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'inf', 'nan', 'atan2']);

/** Metric names a PromQL expression selects (functions, keywords, labels, strings, durations and Grafana variables excluded). */
function metricNames(expr: string): string[] {
  const s = expr
    .replace(/#.*$/gm, '') // comments
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""') // strings
    .replace(/\$\{[^}]*\}|\$\w+/g, '') // Grafana variables
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\[[^\]]*\]/g, '') // ranges and subqueries
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '') // label lists
    .replace(/\boffset\s+-?\w+/g, '');
  const names = new Set<string>();
  for (const m of s.matchAll(/(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(?!\s*\()/g)) {
    if (!KEYWORDS.has(m[1]!.toLowerCase())) names.add(m[1]!);
  }
  return [...names];
}

interface Panel {
  type: string;
  title: string;
  interval?: string;
  options?: { legend?: { calcs?: string[] } };
  fieldConfig?: { defaults?: { mappings?: { options: Record<string, { text: string }> }[] } };
  datasource?: { type: string; uid: string };
  targets?: { expr: string; instant?: boolean; datasource?: { uid: string } }[];
  panels?: Panel[];
}
interface Dashboard {
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown; definition?: string }[] };
  uid: string;
  title: string;
}

const DASHBOARD_FILE = path.join(CHART_DIR, 'dashboards/rollback-receiver.json');
const dashboard = JSON.parse(fs.readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
const dashboardExprs = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: p.title, expr: t.expr })));

const RULE_FILES = fs.existsSync(path.join(ROOT, 'alert-rules'))
  ? fs
      .readdirSync(path.join(ROOT, 'alert-rules'))
      .filter((f) => f.endsWith('.rules.yml'))
      .map((f) => path.join(ROOT, 'alert-rules', f))
  : [];

interface RuleGroups {
  groups: { name: string; rules: { alert?: string; record?: string; expr: string | number }[] }[];
}

function ruleExprs(groups: RuleGroups, file: string): { where: string; expr: string }[] {
  return groups.groups.flatMap((g) => g.rules.map((r) => ({ where: `${file}: ${r.alert ?? r.record}`, expr: String(r.expr) })));
}

function missing(exprs: { where: string; expr: string }[], exposed: Set<string>, only?: RegExp): string[] {
  return exprs.flatMap(({ where, expr }) => metricNames(expr).filter((n) => (!only || only.test(n)) && !exposed.has(n)).map((n) => `${where}: ${n}`));
}

describe('metric name extraction', () => {
  test('finds selectors, skips functions, labels, strings, durations and variables', () => {
    expect(
      metricNames('histogram_quantile(0.9, sum by (le, strategy) (rate(rollback_execution_duration_seconds_bucket{job=~"$job"}[$__rate_interval])))').sort(),
    ).toEqual(['rollback_execution_duration_seconds_bucket']);
    expect(metricNames('time() - max by (namespace, name) (rollback_last_success_timestamp_seconds offset 5m) > bool 1e3').sort()).toEqual([
      'rollback_last_success_timestamp_seconds',
    ]);
    expect(metricNames('a_total / on(instance) group_left(x) b_total unless absent(up{job="x"})').sort()).toEqual(['a_total', 'b_total', 'up']);
  });
});

describe('Grafana dashboard', () => {
  test('uses only metrics the receiver exposes', async () => {
    const exposed = await exposedNames();
    expect(dashboardExprs.length).toBeGreaterThan(10);
    expect(missing(dashboardExprs, exposed)).toEqual([]);
    for (const v of dashboard.templating.list.filter((x) => x.type === 'query')) {
      const metric = /label_values\(\s*([a-zA-Z_:][\w:]*)/.exec(v.definition ?? '')?.[1];
      expect([v.name, metric && exposed.has(metric)]).toEqual([v.name, true]);
    }
  });

  test('has a ${datasource} Prometheus variable that every panel and query uses', () => {
    const ds = dashboard.templating.list.find((v) => v.name === 'datasource');
    expect(ds).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const p of panels) {
      expect([p.title, p.datasource?.uid]).toEqual([p.title, '${datasource}']);
      for (const t of p.targets ?? []) expect([p.title, t.datasource?.uid]).toEqual([p.title, '${datasource}']);
    }
  });

  test('covers rollbacks by result, decisions, cooldowns, windows and breaches, escalations, webhooks, duration quantiles, notifications', () => {
    const byTitle = (re: RegExp) => panels.filter((p) => re.test(p.title)).flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    expect(byTitle(/^Rollbacks by result$/).join()).toMatch(/sum by \(result\) \(increase\(rollback_executions_total/);
    expect(byTitle(/^Decisions by reason$/).join()).toMatch(/sum by \(decision\) \(increase\(rollback_alerts_total/);
    expect(byTitle(/cooldowns/i).join()).toContain('rollback_cooldown_active');
    expect(byTitle(/Monitoring windows/).join()).toContain('rollback_monitoring_windows_active');
    expect(byTitle(/breaches/).join()).toContain('rollback_monitoring_breaches_total');
    expect(byTitle(/^Escalations by reason$/).join()).toContain('rollback_escalations_total');
    expect(byTitle(/^Webhook requests by status$/).join()).toMatch(/sum by \(status\) \(rate\(rollback_webhooks_received_total/);
    const quantiles = byTitle(/^Execution duration/).join('\n');
    for (const q of ['0.5', '0.9', '0.99']) expect(quantiles).toContain(`histogram_quantile(${q}, sum by (le) (rate(rollback_execution_duration_seconds_bucket`);
    expect(byTitle(/^Notifications by channel and result$/).join()).toMatch(/sum by \(channel, result\) \(increase\(rollback_notifications_total/);
  });

  test('the Receiver row shows health (up), the mode from rollback_build_info{dry_run}, the version, restarts, internal errors and the oldest running rollback', () => {
    const panel = (title: string) => panels.find((p) => p.title === title)!;
    const exprOf = (title: string) => panel(title).targets![0]!.expr;
    expect(exprOf('Receiver')).toBe('min(up{job=~"$job"})');
    expect(panel('Receiver').fieldConfig!.defaults!.mappings!.map((m) => Object.values(m.options)[0]!.text)).toEqual(['DOWN', 'UP']);
    // 1 when a receiver runs live, 0 when dry-run: mapped to the words.
    expect(exprOf('Mode')).toBe('max(rollback_build_info{job=~"$job", dry_run="false"}) or max(rollback_build_info{job=~"$job", dry_run="true"}) * 0');
    expect(panel('Mode').fieldConfig!.defaults!.mappings!.map((m) => [Object.keys(m.options)[0], Object.values(m.options)[0]!.text])).toEqual([
      ['0', 'DRY-RUN'],
      ['1', 'LIVE'],
    ]);
    expect(exprOf('Version')).toContain('max by (version) (rollback_build_info');
    expect(exprOf('Restarts')).toContain('changes(process_start_time_seconds');
    expect(exprOf('Internal errors')).toContain('increase(rollback_internal_errors_total{job=~"$job"}[$__range])');
    expect(exprOf('Oldest running rollback')).toBe('time() - min(rollback_in_progress_oldest_start_timestamp_seconds{job=~"$job"} > 0)');
  });

  // A timeseries of increase(x[$__rate_interval]) draws overlapping windows (the range is
  // longer than the step): summing its points counts every event several times. Event
  // counts are therefore increase over $__interval (each point its own step) with a
  // minimum interval of 4 scrapes, or increase over $__range in stat and table panels.
  test('event counts are never multiplied by overlapping ranges', () => {
    const counting = panels.filter((p) => (p.targets ?? []).some((t) => /\bincrease\(/.test(t.expr)));
    expect(counting.length).toBeGreaterThan(5);
    const chartValues = parse(fs.readFileSync(path.join(CHART_DIR, 'values.yaml'), 'utf8')) as { serviceMonitor: { interval: string } };
    const scrapeSeconds = (parseDuration(chartValues.serviceMonitor.interval) as number) / 1000;
    for (const p of counting) {
      for (const t of p.targets!) {
        const range = /\bincrease\([^[]*\[([^\]]+)\]\)/.exec(t.expr)![1];
        if (p.type === 'timeseries') {
          expect([p.title, range]).toEqual([p.title, '$__interval']);
          expect([p.title, (parseDuration(p.interval ?? '0s') as number) / 1000 >= 4 * scrapeSeconds]).toEqual([p.title, true]);
        } else {
          expect([p.title, range, t.instant]).toEqual([p.title, '$__range', true]);
        }
      }
    }
    // A legend "sum" is only shown where it is a count of events.
    const summed = panels.filter((p) => p.options?.legend?.calcs?.includes('sum'));
    for (const p of summed) expect(counting).toContain(p);
  });

  test('panels have unique ids and grid positions within 24 columns', () => {
    const all = dashboard.panels;
    expect(new Set(all.map((p) => (p as unknown as { id: number }).id)).size).toBe(all.length);
    for (const p of all) {
      const g = (p as unknown as { gridPos: { x: number; w: number } }).gridPos;
      expect(g.x + g.w).toBeLessThanOrEqual(24);
    }
    expect(dashboard.uid).toBe('rollback-receiver');
  });
});

describe('alert rules', () => {
  test('alert-rules/*.rules.yml exist (the rules of SPEC §6)', () => {
    expect(RULE_FILES.map((f) => path.basename(f)).sort()).toEqual(expect.arrayContaining(['rollback-receiver.rules.yml', 'rollback-triggers.rules.yml']));
  });

  test('every rollback_* metric the shipped rules use exists on the receiver', async () => {
    const exposed = await exposedNames();
    const exprs = RULE_FILES.flatMap((f) => ruleExprs(parse(fs.readFileSync(f, 'utf8')) as RuleGroups, path.basename(f)));
    const receiverMetrics = exprs.flatMap((e) => metricNames(e.expr)).filter((n) => n.startsWith('rollback_'));
    expect(receiverMetrics.length).toBeGreaterThan(0);
    expect(missing(exprs, exposed, /^rollback_/)).toEqual([]);
  });

  test("every rollback_* metric the chart's PrometheusRule uses exists on the receiver", async () => {
    const exposed = await exposedNames();
    const rules = ofKind(render(), 'PrometheusRule');
    expect(rules).toHaveLength(1);
    const exprs = ruleExprs(rules[0]!.spec as RuleGroups, 'PrometheusRule');
    expect(exprs.flatMap((e) => metricNames(e.expr)).filter((n) => n.startsWith('rollback_')).length).toBeGreaterThan(0);
    expect(missing(exprs, exposed, /^rollback_/)).toEqual([]);
  });

  test('prometheusRule.enabled=false renders no PrometheusRule; its labels come from prometheusRule.labels', () => {
    expect(ofKind(render({ values: { prometheusRule: { enabled: false } } }), 'PrometheusRule')).toHaveLength(0);
    const rule = ofKind(render({ values: { prometheusRule: { labels: { release: 'prom', team: 'sre' } } } }), 'PrometheusRule')[0]!;
    expect(rule.metadata.labels).toMatchObject({ release: 'prom', team: 'sre' });
  });
});
