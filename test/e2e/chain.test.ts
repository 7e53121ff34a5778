/**
 * The whole chain with real components on loopback (scripts/demo/chain.ts builds it; the
 * demo prints the same scenario):
 *
 *   exporter (the application) → Prometheus 2.42 evaluating the project's own
 *   alert-rules/*.rules.yml (`for:` shortened) → Alertmanager 0.25 (bearer token from
 *   `credentials_file`) → the real `rollback-receiver serve` process, live, with exactly
 *   src/kube/rbac-rules.yaml → the Deployment in the envtest kube-apiserver.
 *
 * v1 healthy → broken rollout (v2 `app:broken`) → the broken version serves 40 % errors →
 * RollbackErrorRateHigh fires → Alertmanager → /webhook → rollback to v1 → v1 serves
 * cleanly → the monitoring window ends recovered and the alert resolves.
 *
 * The receiver runs as its own process (test/support/daemon.ts, not startServe): its port
 * is picked before it starts, so Alertmanager's webhook URL and Prometheus's scrape job for
 * it are in their configs from the start, and it sits in a process group with a watchdog
 * like Prometheus and Alertmanager. Everything is asserted through what operators see: the
 * Kubernetes API, the receiver's HTTP API, /metrics and report, Prometheus, Alertmanager.
 * A failing scenario prints the timeline of all components; CHAIN_TIMELINE=1 prints it always.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { connectCluster } from '../envtest/connect.js';
import { waitFor } from '../envtest/wait.js';
import { ROOT } from '../support/process.js';
import {
  ERROR_RATE_ALERT,
  OPERATOR_TOKEN,
  RULE_FILES,
  WEBHOOK_TOKEN,
  observe,
  runScenario,
  startChain,
  testRules,
  type Chain,
  type ChainEvent,
  type DecisionView,
  type ScenarioResult,
} from '../../scripts/demo/chain.js';

const cluster = connectCluster();

let chain: Chain;
let stopObserving: (() => Promise<void>) | undefined;
const events: ChainEvent[] = [];
let t0 = Date.now();
let result: ScenarioResult | undefined;

function timeline(): string {
  return [...events]
    .sort((a, b) => a.at - b.at)
    .flatMap((e) => [`+${((e.at - t0) / 1000).toFixed(1).padStart(5)}s ${e.source.padEnd(12)} ${e.text}`, ...(e.detail ?? []).map((d) => `${' '.repeat(21)}${d}`)])
    .join('\n');
}

function diagnostics(): string {
  return [
    '--- timeline ---',
    timeline(),
    '--- receiver log (tail) ---',
    chain?.receiver.logTail(30) ?? '',
    '--- alertmanager log (tail) ---',
    chain?.alertmanager.logTail(15) ?? '',
  ].join('\n');
}

function played(): ScenarioResult {
  if (!result) throw new Error('the scenario did not complete (see the first failure)');
  return result;
}

/** `name{labels} value` from the exposition text; undefined when the series is absent. */
function metric(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

beforeAll(async () => {
  t0 = Date.now();
  const ns = await cluster.ns('chain');
  chain = await startChain({ cluster, namespace: ns });
  stopObserving = observe(chain, (e) => events.push(e));
}, 120_000);

afterAll(async () => {
  await stopObserving?.();
  if (process.env.CHAIN_TIMELINE) process.stderr.write(`${timeline()}\n`);
  await chain?.stop();
});

describe('the whole chain: Prometheus rules → Alertmanager → receiver → Kubernetes', () => {
  it("evaluates the project's own rule files, changed only in their `for:` durations", async () => {
    for (const [file, copy] of Object.entries(testRules())) {
      const original = fs.readFileSync(path.join(ROOT, 'alert-rules', file), 'utf8').split('\n');
      const changed = copy.split('\n').flatMap((line, i) => (line === original[i] ? [] : [`${original[i]?.trim()} → ${line.trim()}`]));
      expect(copy.split('\n')).toHaveLength(original.length);
      expect(changed.length).toBeGreaterThan(0);
      for (const c of changed) expect(c).toMatch(/^for: \d+[mh] → for: \d+[sm]$/);
    }
    const groups = (await chain.prometheus.api<{ data: { groups: { file: string; rules: { name: string; duration?: number; labels?: Record<string, string> }[] }[] } }>('/api/v1/rules')).data.groups;
    expect(new Set(groups.map((g) => path.basename(g.file)))).toEqual(new Set(RULE_FILES));
    const rule = groups.flatMap((g) => g.rules).find((r) => r.name === ERROR_RATE_ALERT);
    expect(rule).toMatchObject({ duration: 1, labels: { rollback_trigger: 'error_rate', severity: 'critical' } }); // for: 1m → 1s
  });

  it('plays the incident: the error-rate alert rolls the broken rollout back to v1, then resolves', async () => {
    try {
      result = await runScenario(chain, (text) => events.push({ at: Date.now(), source: 'scenario', text }));
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${diagnostics()}`);
    }
    expect(result.rollback.status).toBe('success');
    expect(result.window.status).toBe('recovered');
  }, 150_000);

  it('leaves the Deployment on v1, rolled out, with the story in its Kubernetes Events', async () => {
    const { namespace: ns, name, workloads: k } = chain;
    played();
    const d = await k.available(ns, name, 2, 30_000);
    expect(k.image(d)).toBe('app:v1');
    // kubectl rollout undo semantics: the old template comes back as a new revision.
    expect(d.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
    const reasons = await waitFor(async () => {
      const r = (await k.events(ns, name)).map((e) => e.reason);
      return r.includes('RollbackSucceeded') ? r : undefined;
    }, 20_000, { description: 'RollbackSucceeded event' });
    expect(reasons).toEqual(expect.arrayContaining(['RollbackStarted', 'RollbackSucceeded']));
    expect(reasons).not.toContain('RollbackFailed');
    expect(reasons).not.toContain('RollbackEscalated');
  });

  it('decides executed exactly once; Alertmanager re-sends are duplicates; the resolution is recorded', async () => {
    const { executed, resolved, raisedAt } = played();
    const all = (await chain.decisions()).sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    const mine = all.filter((d) => d.fingerprint === executed.fingerprint);
    expect(mine).toEqual(all); // nothing else reached the receiver for this Deployment
    const by = (decision: string): DecisionView[] => mine.filter((d) => d.decision === decision);
    expect(mine.map((d) => d.decision).filter((x) => !['executed', 'duplicate', 'resolved'].includes(x))).toEqual([]);

    expect(by('executed')).toHaveLength(1);
    expect(mine[0]!.id).toBe(executed.id); // the first the receiver heard of it
    expect(executed).toMatchObject({
      alertname: ERROR_RATE_ALERT,
      status: 'firing',
      trigger: 'error_rate',
      namespace: chain.namespace,
      name: chain.name,
      strategy: 'deployment-undo',
    });
    expect(Date.parse(executed.startsAt)).toBeGreaterThan(raisedAt); // Prometheus's activeAt, after the errors began

    const duplicates = by('duplicate');
    expect(duplicates.length).toBeGreaterThanOrEqual(1); // repeat_interval 2s while the alert was firing
    for (const d of duplicates) {
      expect(d).toMatchObject({ status: 'firing', startsAt: executed.startsAt, rollbackId: null });
      expect(d.reason).toMatch(/already decided/i);
    }
    expect(by('resolved').length).toBeGreaterThanOrEqual(1);
    expect(resolved).toMatchObject({ status: 'resolved', startsAt: executed.startsAt });
    expect(Date.parse(resolved.at)).toBeGreaterThan(Math.max(...duplicates.map((d) => Date.parse(d.at))));
  });

  it('counts it all on /metrics: one successful automatic undo, duplicates, webhooks all 200', async () => {
    const { executed } = played();
    const decisions = (await chain.decisions()).filter((d) => d.fingerprint === executed.fingerprint);
    const count = (x: string) => decisions.filter((d) => d.decision === x).length;
    const text = await chain.metrics();
    expect(metric(text, 'rollback_executions_total{strategy="deployment-undo",kind="automatic",result="success"}')).toBe(1);
    expect(metric(text, 'rollback_executions_total{strategy="deployment-undo",kind="automatic",result="failed"}') ?? 0).toBe(0);
    expect(metric(text, 'rollback_alerts_total{trigger="error_rate",decision="executed"}')).toBe(1);
    expect(metric(text, 'rollback_alerts_total{trigger="error_rate",decision="duplicate"}')).toBe(count('duplicate'));
    expect(metric(text, 'rollback_alerts_total{trigger="error_rate",decision="resolved"}')).toBe(count('resolved'));
    // One alert per notification (grouped by alertname, namespace, deployment): one webhook per decision.
    expect(metric(text, 'rollback_webhooks_received_total{status="200"}')).toBe(decisions.length);
    const otherStatuses = text.split('\n').filter((l) => /^rollback_webhooks_received_total\{status="(?!200")/.test(l) && !/ 0$/.test(l));
    expect(otherStatuses).toEqual([]); // in particular no 401: Alertmanager sent the token from credentials_file
    expect(metric(text, 'rollback_in_progress')).toBe(0);
    expect(metric(text, 'rollback_monitoring_windows_active')).toBe(0);
    expect(metric(text, 'rollback_monitoring_breaches_total{metric="error_rate"}') ?? 0).toBe(0);
  });

  it('ends the monitoring window recovered, on samples taken after the rollback', async () => {
    const { window, rollback } = played();
    expect(window).toMatchObject({ status: 'recovered', escalation: null });
    const errorRates = window.samples.filter((s) => s.metric === 'error_rate');
    expect(errorRates.length).toBeGreaterThanOrEqual(3);
    for (const s of errorRates) {
      expect(s.state).toBe('ok');
      expect(s.value).not.toBeNull();
      expect(s.value!).toBeLessThan(0.05);
      expect(Date.parse(s.at)).toBeGreaterThanOrEqual(Date.parse(rollback.finishedAt!));
    }
    expect(window.samples.filter((s) => s.metric === 'response_time').every((s) => s.state === 'ok')).toBe(true);
    expect(rollback.steps.map((s) => s.name)).toEqual(expect.arrayContaining(['inspected', 'verified', 'probe']));
  });

  it('writes the incident report with the timeline from alert start to the recovered window', async () => {
    const { rollbackId } = played();
    const report = await chain.report(rollbackId);
    expect(report).toContain(`# Incident Report: Rollback ${rollbackId}`);
    expect(report).toMatch(/Recovery Time: .* against the automatic RTO of 5m: met/);
    expect(report).toContain(`- **${ERROR_RATE_ALERT}** (firing`);
    expect(report).toContain(`- Alertmanager: ${chain.alertmanager.url}`);
    expect(report).toContain(`- Source: ${chain.prometheus.url}/graph?g0.expr=`);
    const timelineRows = report.slice(report.indexOf('## Timeline')).split('\n## ')[0]!.split('\n').filter((l) => /^\| \d{4}-/.test(l));
    const text = timelineRows.join('\n');
    for (const expected of [
      `alert ${ERROR_RATE_ALERT} started firing`,
      'webhook received; decision executed',
      'rollback finished: success',
      'monitoring window opened',
      'sample: error_rate',
      'monitoring window ended: recovered',
    ]) {
      expect(text).toContain(expected);
    }
    expect(text).toMatch(/PATCH \/apis\/apps\/v1\/namespaces\/[^/]+\/deployments\/api/);
    const times = timelineRows.map((l) => Date.parse(l.split('|')[1]!.trim()));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(timelineRows[0]).toContain('started firing');
    expect(timelineRows.at(-1)).toContain('monitoring window ended: recovered');
  });

  it('notifies (Slack: started, recovered), never logs its tokens, and leaves no alert firing', async () => {
    const { rollbackId } = played();
    const slack = chain.hooks.requests.filter((r) => r.url.startsWith('/slack/')).map((r) => JSON.parse(r.body) as { text?: unknown });
    const texts = slack.map((b) => String(b.text));
    expect(texts.some((t) => /started/i.test(t))).toBe(true);
    expect(texts.some((t) => /recovered/i.test(t))).toBe(true);
    expect(JSON.stringify(slack)).toContain(`${chain.receiver.url}/api/v1/rollbacks/${rollbackId}/report`);

    const log = chain.receiver.logTail(100_000);
    expect(log).toContain('mode: LIVE');
    expect(log).not.toContain(WEBHOOK_TOKEN);
    expect(log).not.toContain(OPERATOR_TOKEN);

    // Prometheus: the trigger alert is gone and none of the receiver's own rules fires.
    const receiverRules = (YAML.parse(fs.readFileSync(path.join(ROOT, 'alert-rules', RULE_FILES[1]), 'utf8')) as { groups: { rules: { alert?: string }[] }[] }).groups
      .flatMap((g) => g.rules.map((r) => r.alert))
      .filter((a): a is string => !!a);
    expect(receiverRules).toContain('RollbackReceiverDown');
    const firing = await waitFor(async () => {
      const alerts = (await chain.promAlerts()).filter((a) => a.state === 'firing' && (a.labels.alertname === ERROR_RATE_ALERT || receiverRules.includes(a.labels.alertname ?? '')));
      return alerts.length === 0 ? alerts : undefined;
    }, 20_000, { description: 'no trigger or receiver alert firing in Prometheus' });
    expect(firing).toEqual([]);
    // Alertmanager no longer holds it as active.
    expect(await chain.alertmanager.alerts({ active: true, filter: [`alertname="${ERROR_RATE_ALERT}"`, `namespace="${chain.namespace}"`] })).toEqual([]);
  });
});
