/**
 * Against the real kube-apiserver harness (started exactly as jest's global setup starts
 * it), through a pass-through proxy that timestamps every request: time to act (alert →
 * first workload write), emergency blue-green (request → Service selector switched), and
 * a storm of re-sent alerts with the brake raised.
 */
import Database from 'better-sqlite3';
import pLimit from 'p-limit';
import { connectCluster, type ClusterConnection } from '../test/envtest/connect.js';
import { FaultProxy } from '../test/envtest/fault-proxy.js';
import globalSetup from '../test/envtest/global-setup.js';
import globalTeardown from '../test/envtest/global-teardown.js';
import { waitFor } from '../test/envtest/wait.js';
import { Workloads } from '../test/envtest/workloads.js';
import type { Daemon } from '../test/support/daemon.js';
import { ROOT } from '../test/support/process.js';
import { webhookPayload, type AlertSpec } from './payload.js';
import { OPERATOR_TOKEN, startReceiver, WEBHOOK_TOKEN } from './servers.js';

export interface Latencies {
  samples: number[];
  p50: number;
  p99: number;
  max: number;
}

export interface StormResult {
  alerts: number;
  webhooks: number;
  targets: number;
  sentMs: number;
  drainedMs: number;
  decisions: Record<string, number>;
  /** Deployments rolled back, read from the cluster (their image is the good one again). */
  rolledBack: number;
  /** PATCHes of those Deployments that reached the apiserver. */
  patches: number;
}

export interface ClusterOptions {
  actAlerts: number;
  blueGreens: number;
  storm?: { targets: number; resends: number };
  progress: (line: string) => void;
}

export interface ClusterResults {
  act?: Latencies;
  blueGreen?: Latencies;
  storm?: StormResult;
}

export function latencies(samples: number[]): Latencies {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { samples, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1]! };
}

const CONFIG = (brake: number) =>
  [
    'monitoring:\n  enhanced:\n    enabled: false',
    'execution:\n  verifyTimeout: 120s',
    `rollback:\n  executionTimeout: 300s\n  maxTargetsPerPayload: 100\n  brake:\n    max: ${brake}`,
    '',
  ].join('\n');

async function post(url: string, body: string, token = WEBHOOK_TOKEN): Promise<unknown> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${url} answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as unknown;
}

/** `count` Deployments v1 → v2 broken (each a rollback candidate), a few at a time. */
async function brokenRollouts(k: Workloads, ns: string, prefix: string, count: number): Promise<string[]> {
  const names = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  const limit = pLimit(8);
  await Promise.all(names.map((n) => limit(() => k.brokenRollout(ns, n))));
  return names;
}

const firstWrite = (proxy: FaultProxy, method: string, suffix: string) => waitFor(() => proxy.writes(method, suffix)[0], 60_000, { description: `${method} …${suffix}` });

async function timeToAct(c: ClusterConnection, k: Workloads, proxy: FaultProxy, receiver: Daemon, count: number): Promise<Latencies> {
  const ns = await c.ns('bench-act');
  const names = await brokenRollouts(k, ns, 'act', count);
  const samples: number[] = [];
  for (const name of names) {
    const t0 = Date.now();
    const alert: AlertSpec = { fingerprint: `act-${name}`, namespace: ns, deployment: name, startsAt: new Date(t0).toISOString() };
    await post(`${receiver.url}/webhook`, webhookPayload([alert]));
    const patch = await firstWrite(proxy, 'PATCH', `/namespaces/${ns}/deployments/${name}`);
    samples.push(patch.at - t0);
  }
  return latencies(samples);
}

async function emergencyBlueGreen(c: ClusterConnection, k: Workloads, proxy: FaultProxy, receiver: Daemon, count: number): Promise<Latencies> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const ns = await c.ns('bench-bluegreen');
    await k.deployment(ns, 'web-blue', 'app:v1', { labels: { app: 'web', color: 'blue' }, replicas: 1, annotations: {} });
    await k.deployment(ns, 'web-green', 'app:broken', { labels: { app: 'web', color: 'green' }, replicas: 1, annotations: {} });
    await k.available(ns, 'web-blue', 1);
    await k.service(ns, 'web', { app: 'web', color: 'green' });
    const t0 = Date.now();
    await post(`${receiver.url}/api/v1/rollbacks`, JSON.stringify({ namespace: ns, name: 'web', strategy: 'blue-green', emergency: true, reason: 'bench' }), OPERATOR_TOKEN);
    const patch = await firstWrite(proxy, 'PATCH', `/namespaces/${ns}/services/web`);
    const selector = (await k.core.readNamespacedService({ name: 'web', namespace: ns })).spec?.selector;
    if (selector?.color !== 'blue') throw new Error(`emergency blue-green in ${ns}: the Service still selects ${JSON.stringify(selector)}`);
    samples.push(patch.answeredAt! - t0);
  }
  return latencies(samples);
}

async function storm(c: ClusterConnection, k: Workloads, proxy: FaultProxy, receiver: Daemon, targets: number, resends: number, progress: (l: string) => void): Promise<StormResult> {
  const ns = await c.ns('bench-storm');
  progress(`storm: preparing ${targets} Deployments`);
  const names = await brokenRollouts(k, ns, 'storm', targets);
  const startsAt = new Date().toISOString();
  const alerts = names.map((name): AlertSpec => ({ fingerprint: `storm-${name}`, namespace: ns, deployment: name, startsAt }));
  // Alertmanager groups: ten targets per webhook, every group re-sent `resends` times.
  const groups = Array.from({ length: Math.ceil(targets / 10) }, (_, g) => webhookPayload(alerts.slice(g * 10, g * 10 + 10)));
  const bodies = Array.from({ length: resends }, () => groups).flat();
  const t0 = Date.now();
  const limit = pLimit(16);
  await Promise.all(bodies.map((b) => limit(() => post(`${receiver.url}/webhook`, b))));
  const sentMs = Date.now() - t0;
  progress(`storm: ${bodies.length} webhooks answered in ${sentMs} ms; waiting for the rollbacks`);
  const db = new Database(receiver.file('state', 'rollback-receiver.db'), { readonly: true });
  try {
    await waitFor(() => {
      const row = db.prepare(`SELECT count(*) AS done FROM rollbacks WHERE namespace = ? AND status != 'running'`).get(ns) as { done: number };
      return row.done >= targets ? true : undefined;
    }, 600_000, { description: `${targets} storm rollbacks finished`, intervalMs: 100 });
    const drainedMs = Date.now() - t0;
    const decisions = Object.fromEntries(
      (db.prepare(`SELECT decision, count(*) AS n FROM decisions WHERE namespace = ? GROUP BY decision ORDER BY decision`).all(ns) as { decision: string; n: number }[]).map((r) => [r.decision, r.n]),
    );
    const images = await Promise.all(names.map(async (n) => k.image(await k.read(ns, n))));
    return {
      alerts: targets * resends,
      webhooks: bodies.length,
      targets,
      sentMs,
      drainedMs,
      decisions,
      rolledBack: images.filter((i) => i === 'app:v1').length,
      patches: proxy.seen.filter((r) => r.method === 'PATCH' && r.path.includes(`/namespaces/${ns}/deployments/`) && r.status !== 'dropped').length,
    };
  } finally {
    db.close();
  }
}

export async function benchCluster(opts: ClusterOptions): Promise<ClusterResults> {
  // Inside a jest run (the smoke test) the run's cluster is there already; otherwise start one as jest does.
  const own = !process.env.ENVTEST_CLUSTER_FILE;
  if (own) {
    opts.progress('starting the kube-apiserver harness (as jest global setup does)');
    await globalSetup({ rootDir: ROOT });
  }
  const c = connectCluster();
  const k = new Workloads(c);
  const proxy = new FaultProxy(c.server, c.caData);
  await proxy.start();
  let receiver: Daemon | undefined;
  try {
    // The receiver reaches the apiserver through the proxy only; the bench sets up workloads directly.
    receiver = await startReceiver({ config: CONFIG(1000), kubeconfig: proxy.kubeconfig(c.adminToken), env: { ROLLBACK_DRY_RUN: 'false' } });
    const act = opts.actAlerts > 0 ? await timeToAct(c, k, proxy, receiver, opts.actAlerts) : undefined;
    if (act) opts.progress(`time to act: p50 ${act.p50} ms, p99 ${act.p99} ms over ${act.samples.length}`);
    const blueGreen = opts.blueGreens > 0 ? await emergencyBlueGreen(c, k, proxy, receiver, opts.blueGreens) : undefined;
    if (blueGreen) opts.progress(`emergency blue-green: p50 ${blueGreen.p50} ms, max ${blueGreen.max} ms over ${blueGreen.samples.length}`);
    const stormResult = opts.storm ? await storm(c, k, proxy, receiver, opts.storm.targets, opts.storm.resends, opts.progress) : undefined;
    return { act, blueGreen, storm: stormResult };
  } finally {
    await receiver?.stop('SIGTERM');
    await proxy.stop();
    if (own) await globalTeardown();
  }
}
