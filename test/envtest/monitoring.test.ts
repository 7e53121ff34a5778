/**
 * After a real rollback in the executor harness, the monitoring window runs against a
 * real Prometheus scraping an exporter the test drives: it ends recovered or escalated
 * as the series dictate, the channels (a local server standing in for Slack and
 * PagerDuty) get the right messages, a restart resumes an open window, and the
 * incident report shows the whole timeline.
 */
import request from 'supertest';
import { KubeClient } from '../../src/kube/client.js';
import { alert, payload } from '../support/alerts.js';
import { startExporter, type Exporter } from '../prometheus/exporter.js';
import { startPrometheus, type RunningPrometheus } from '../prometheus/harness.js';
import { startRecordingServer, type RecordingServer } from '../prometheus/recording-server.js';
import { connectCluster } from './connect.js';
import { finished, OPERATOR, startReceiver, type Receiver } from './receiver.js';
import { waitFor } from './wait.js';
import { Workloads } from './workloads.js';

const cluster = connectCluster();
const k = new Workloads(cluster);

let prom: RunningPrometheus;
let exporter: Exporter;
let hooks: RecordingServer;

beforeAll(async () => {
  exporter = await startExporter();
  prom = await startPrometheus({ scrapeJobs: exporter.scrapeJobs() });
  await prom.waitForTargets(30_000);
  hooks = await startRecordingServer();
  hooks.reply({ status: 200, body: 'ok' });
}, 60_000);

afterAll(async () => {
  await prom?.stop();
  await exporter?.close();
  await hooks?.close();
});

function yaml(opts: { duration?: string; unknownLimit?: number; rateWindow?: string; stages?: string } = {}): string {
  return `auth:
  allowUnauthenticatedWebhook: true
execution:
  verifyTimeout: 20s
monitoring:
  enhanced:
    duration: ${opts.duration ?? '6s'}
    interval: 1s
    rateWindow: ${opts.rateWindow ?? '5s'}
    minRateWindow: 2s
    unknownLimit: ${opts.unknownLimit ?? 3}${opts.stages ? `\n    stages: ${opts.stages}` : ''}
    prometheusUrl: ${prom.url}
    metrics: [error_rate, response_time]
notifications:
  receiverUrl: http://rollback-receiver.test
  retry: { attempts: 2, minBackoff: 10ms, maxBackoff: 50ms }
  slack: { webhookUrl: { value: "${hooks.url}/slack/T000/B000/XXXX" } }
  pagerduty: { routingKey: { value: "rk-test-key" }, url: "${hooks.url}/pagerduty" }
`;
}

function receiver(y = yaml(), stateDir?: string): Receiver {
  return startReceiver(new KubeClient(cluster.kubeConfig()), y, { ROLLBACK_DRY_RUN: 'false' }, stateDir);
}

interface WindowView {
  status: string;
  escalation: string | null;
  stages: { stage: number; status: string; samples: number; detail: string }[];
  samples: { metric: string; value: number | null; state: string; at: string }[];
}

async function windowOf(s: Receiver, rollbackId: string, until: (w: WindowView) => boolean, timeoutMs = 30_000): Promise<WindowView> {
  return waitFor(
    async () => {
      const r = (await request(s.service.app).get(`/api/v1/rollbacks/${rollbackId}`).set('Authorization', `Bearer ${OPERATOR}`)).body as { window: WindowView | null };
      return r.window && until(r.window) ? r.window : undefined;
    },
    timeoutMs,
    { description: `window of ${rollbackId}`, intervalMs: 250 },
  );
}

function sent(path: string): { body: Record<string, unknown> }[] {
  return hooks.requests.filter((r) => r.url === path).map((r) => ({ body: JSON.parse(r.body) as Record<string, unknown> }));
}

/** Waits until Prometheus can compute the target's error rate (the report's hour-before query needs it). */
async function hasErrorRate(ns: string): Promise<void> {
  const q = encodeURIComponent(`sum(rate(http_requests_total{namespace="${ns}",deployment="api"}[5s]))`);
  await waitFor(async () => (await prom.api<{ data: { result: unknown[] } }>(`/api/v1/query?query=${q}`)).data.result.length > 0, 20_000);
}

async function rollBack(s: Receiver, ns: string, name: string): Promise<string> {
  const body = payload([alert({ labels: { namespace: ns, deployment: name }, startsAt: new Date().toISOString() })]);
  const d = (await request(s.service.app).post('/webhook').send(body).expect(200)).body.decisions[0];
  expect(d.decision).toBe('executed');
  expect((await finished(s, d.rollbackId)).status).toBe('success');
  return d.rollbackId as string;
}

describe('the monitoring window after a real rollback', () => {
  it('ends recovered on healthy series: Slack hears the story, PagerDuty triggers then resolves, the report shows it all', async () => {
    const ns = await cluster.ns('window-ok');
    exporter.traffic({ namespace: ns, deployment: 'api', rps: 50, errorRatio: 0.01, latencySeconds: 0.05 });
    await k.brokenRollout(ns, 'api');
    await hasErrorRate(ns);
    const s = receiver();
    try {
      const id = await rollBack(s, ns, 'api');
      const w = await windowOf(s, id, (x) => x.status !== 'active');
      expect(w.status).toBe('recovered');
      const errorRates = w.samples.filter((x) => x.metric === 'error_rate');
      expect(errorRates.length).toBeGreaterThanOrEqual(3);
      expect(errorRates.every((x) => x.state === 'ok' && x.value !== null && x.value < 0.05)).toBe(true);

      const slack = await waitFor(() => {
        const m = sent('/slack/T000/B000/XXXX').filter((x) => String(x.body.text).includes(`${ns}/api`));
        return m.length >= 3 ? m : undefined;
      }, 10_000);
      const texts = slack.map((x) => String(x.body.text));
      expect(texts.some((t) => /started/i.test(t))).toBe(true);
      expect(texts.some((t) => /recovered/i.test(t))).toBe(true);
      expect(JSON.stringify(slack)).toContain(`http://rollback-receiver.test/api/v1/rollbacks/${id}/report`);
      const pd = await waitFor(() => {
        const m = sent('/pagerduty').filter((x) => x.body.dedup_key === `rollback-receiver/${id}`);
        return m.some((x) => x.body.event_action === 'resolve') ? m : undefined;
      }, 10_000);
      expect(pd.map((x) => x.body.event_action)).toEqual(['trigger', 'resolve']);
      expect(pd[0]!.body.routing_key).toBe('rk-test-key');

      const report = (await request(s.service.app).get(`/api/v1/rollbacks/${id}/report`).set('Authorization', `Bearer ${OPERATOR}`).expect(200)).text;
      expect(report).toContain(`# Incident Report: Rollback ${id}`);
      expect(report).toMatch(/Recovery Time: .* against the automatic RTO of 5m: met/);
      expect(report).toMatch(/sample: error_rate 0\.0\d+ \(ok\)/);
      expect(report).toContain('monitoring window ended: recovered');
      expect(report).toMatch(/min .*, max .*, last /);
      expect((await request(s.service.app).get('/metrics')).text).toMatch(/rollback_monitoring_windows_active 0/);
    } finally {
      await s.destroy();
    }
  }, 120_000);

  it("judges only what came after the rollback: the broken version's errors before it are not a breach", async () => {
    const ns = await cluster.ns('window-after');
    exporter.traffic({ namespace: ns, deployment: 'api', rps: 50, errorRatio: 0.4 });
    await k.brokenRollout(ns, 'api');
    await hasErrorRate(ns);
    const s = receiver(yaml({ duration: '5s', rateWindow: '5m' }));
    try {
      const body = payload([alert({ labels: { namespace: ns, deployment: 'api' }, startsAt: new Date().toISOString() })]);
      const d = (await request(s.service.app).post('/webhook').send(body).expect(200)).body.decisions[0];
      // v1 is back: it serves cleanly from now on.
      exporter.traffic({ namespace: ns, deployment: 'api', rps: 50, errorRatio: 0 });
      expect((await finished(s, d.rollbackId)).status).toBe('success');
      const w = await windowOf(s, d.rollbackId, (x) => x.status !== 'active');
      expect(w.status).toBe('recovered');
      const errorRates = w.samples.filter((x) => x.metric === 'error_rate');
      expect(errorRates.length).toBeGreaterThanOrEqual(2);
      expect(errorRates.every((x) => x.value === 0)).toBe(true);
    } finally {
      exporter.traffic({ namespace: ns, deployment: 'api', rps: 0 });
      await s.destroy();
    }
  }, 120_000);

  it('an error burst breaches the threshold: the window escalates, breaches are counted, PagerDuty pages', async () => {
    const ns = await cluster.ns('window-breach');
    exporter.traffic({ namespace: ns, deployment: 'api', rps: 50, errorRatio: 0.01 });
    await k.brokenRollout(ns, 'api');
    const s = receiver(yaml({ duration: '20s' }));
    try {
      const id = await rollBack(s, ns, 'api');
      await windowOf(s, id, (x) => x.samples.length > 0);
      exporter.traffic({ namespace: ns, deployment: 'api', rps: 50, errorRatio: 0.5 });
      const w = await windowOf(s, id, (x) => x.status === 'breached');
      expect(w.escalation).toBe('monitoring_breach');
      expect(w.samples.some((x) => x.metric === 'error_rate' && x.state === 'breach' && (x.value ?? 0) > 0.05)).toBe(true);
      expect((await request(s.service.app).get('/metrics')).text).toMatch(/rollback_monitoring_breaches_total\{metric="error_rate"\} [1-9]/);
      const pd = await waitFor(() => {
        const m = sent('/pagerduty').filter((x) => x.body.dedup_key === `rollback-receiver/${id}` && x.body.event_action === 'trigger');
        return m.length >= 2 ? m : undefined;
      }, 10_000);
      expect(JSON.stringify(pd.at(-1)!.body.payload)).toMatch(/error_rate/);
    } finally {
      exporter.traffic({ namespace: ns, deployment: 'api', rps: 0 });
      await s.destroy();
    }
  }, 120_000);

  it('short stages: each checkpoint is recorded in the API, the page and the report; a breach in a stage escalates there', async () => {
    const ns = await cluster.ns('window-stages');
    exporter.traffic({ namespace: ns, deployment: 'api', rps: 50, errorRatio: 0.01 });
    await k.brokenRollout(ns, 'api');
    const s = receiver(yaml({ duration: '30s', stages: '[4s, 8s, 30s]' }));
    try {
      const id = await rollBack(s, ns, 'api');
      // Stages 1 and 2 are judged once the window has sampled past them.
      const early = await windowOf(s, id, (x) => x.stages[1]!.status !== 'pending');
      expect(early.stages.map((c) => [c.stage, c.status])).toEqual([
        [1, 'passed'],
        [2, 'passed'],
        [3, 'pending'],
      ]);
      expect(early.stages[0]!.samples).toBeGreaterThanOrEqual(1);
      exporter.traffic({ namespace: ns, deployment: 'api', rps: 50, errorRatio: 0.5 });
      const w = await windowOf(s, id, (x) => x.stages[2]!.status === 'breached');
      expect(w.escalation).toBe('monitoring_breach');
      expect(w.stages[2]!.detail).toMatch(/^error_rate .* > threshold 0\.05 at /);

      const page = (await request(s.service.app).get('/').set('Authorization', `Bearer ${OPERATOR}`).expect(200)).text;
      expect(page).toContain('stage 3 · 30s: breached');
      const report = (await request(s.service.app).get(`/api/v1/rollbacks/${id}/report`).set('Authorization', `Bearer ${OPERATOR}`).expect(200)).text;
      expect(report).toMatch(/stage 1 checkpoint \(4s\): passed/);
      expect(report).toMatch(/stage 2 checkpoint \(8s\): passed/);
      expect(report).toMatch(/stage 3 checkpoint \(30s\): breached/);
    } finally {
      exporter.traffic({ namespace: ns, deployment: 'api', rps: 0 });
      await s.destroy();
    }
  }, 120_000);

  it('a Prometheus that stops answering mid-window yields unknown samples and escalates', async () => {
    const ns = await cluster.ns('window-unknown');
    exporter.traffic({ namespace: ns, deployment: 'api', rps: 50, errorRatio: 0.01 });
    await k.brokenRollout(ns, 'api');
    const s = receiver(yaml({ duration: '20s', unknownLimit: 2 }));
    try {
      const id = await rollBack(s, ns, 'api');
      await windowOf(s, id, (x) => x.samples.some((y) => y.state === 'ok'));
      await prom.kill();
      const w = await windowOf(s, id, (x) => x.escalation === 'monitoring_unknown');
      expect(w.status).toBe('escalated');
      expect(w.samples.filter((x) => x.state === 'unknown').length).toBeGreaterThanOrEqual(2);
      expect((await request(s.service.app).get('/metrics')).text).toMatch(/rollback_escalations_total\{reason="monitoring_unknown"\} 1/);
      const unknown = (await request(s.service.app).get(`/api/v1/rollbacks/${id}`).set('Authorization', `Bearer ${OPERATOR}`)).body.window.samples.find((x: { state: string }) => x.state === 'unknown');
      expect(unknown.detail).toMatch(/^Prometheus did not answer: /);
    } finally {
      if (!prom.running()) await prom.restart();
      await prom.waitForTargets(30_000);
      await s.destroy();
    }
  }, 120_000);

  it('a restart in the middle of a window resumes it and takes the missed samples at once', async () => {
    const ns = await cluster.ns('window-restart');
    exporter.traffic({ namespace: ns, deployment: 'api', rps: 50, errorRatio: 0.01 });
    await k.brokenRollout(ns, 'api');
    const first = receiver(yaml({ duration: '12s' }));
    let id: string;
    try {
      id = await rollBack(first, ns, 'api');
      await windowOf(first, id, (x) => x.samples.length > 0);
    } finally {
      await first.close();
    }
    // Down for a few intervals, then a new process on the same state.
    await new Promise((r) => setTimeout(r, 3000));
    const second = receiver(yaml({ duration: '12s' }), first.stateDir);
    try {
      const w = await windowOf(second, id, (x) => x.status !== 'active', 30_000);
      expect(w.status).toBe('recovered');
      const times = [...new Set(w.samples.map((x) => Date.parse(x.at)))].sort((a, b) => a - b);
      // No gap longer than an interval (+ scheduling slack): the missed ticks were sampled after the restart.
      const gaps = times.slice(1).map((t, i) => t - times[i]!);
      expect(Math.max(...gaps)).toBeLessThanOrEqual(1500);
    } finally {
      await second.destroy();
    }
  }, 120_000);
});
