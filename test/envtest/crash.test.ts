/**
 * SPEC safety invariant 4 across a real process boundary: the `rollback-receiver serve`
 * process, live against the real apiserver through the fault proxy, is killed (SIGKILL)
 * or stopped (SIGTERM) in the middle of a blue-green rollback. After the restart the
 * rollback is resumed from the cluster's state compared with its pinned plan, and the
 * Service never selects a colour without ready pods.
 */
import fs from 'node:fs';
import type { Daemon } from '../support/daemon.js';
import { receiverProcess } from '../support/receiver-process.js';
import { alert, payload } from '../support/alerts.js';
import { connectCluster } from './connect.js';
import { FaultProxy, writeTo, type Held } from './fault-proxy.js';
import { waitFor } from './wait.js';
import { Workloads } from './workloads.js';

const cluster = connectCluster();
const k = new Workloads(cluster);
const OPERATOR = 'crash-operator-token';
const CONFIG = `auth:
  allowUnauthenticatedWebhook: true
execution:
  verifyTimeout: 60s
rollback:
  executionTimeout: 120s
shutdown:
  grace: 3s
`;

let proxy: FaultProxy;
let receiver: Daemon;

beforeAll(async () => {
  proxy = new FaultProxy(cluster.server, cluster.caData);
  await proxy.start();
  receiver = await receiverProcess({ label: 'crash', env: { ROLLBACK_DRY_RUN: 'false', ROLLBACK_OPERATOR_TOKEN: OPERATOR, LOG_LEVEL: 'info' } });
  fs.writeFileSync(receiver.file('config.yaml'), CONFIG);
  fs.writeFileSync(receiver.file('kubeconfig'), proxy.kubeconfig(cluster.adminToken), { mode: 0o600 });
  await receiver.start();
}, 90_000);

afterAll(async () => {
  await receiver?.stop();
  await proxy?.stop();
});

interface RollbackView {
  id: string;
  status: string;
  steps: { name: string; detail: string }[];
}

async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(`${receiver.url}${path}`, {
    ...init,
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${OPERATOR}`, ...init.headers },
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

async function blueGreen(ns: string): Promise<void> {
  await k.deployment(ns, 'web-blue', 'app:v1', { labels: { app: 'web', color: 'blue' }, replicas: 0, annotations: {} });
  await k.deployment(ns, 'web-green', 'app:v2', { labels: { app: 'web', color: 'green' }, replicas: 2, annotations: {} });
  await k.available(ns, 'web-green', 2);
  await k.service(ns, 'web', { app: 'web', color: 'green' });
  await new Promise((r) => setTimeout(r, 1100));
}

async function startRollback(ns: string): Promise<string> {
  const body = payload([alert({ labels: { namespace: ns, rollback_target: 'web', rollback_strategy: 'blue-green' }, startsAt: new Date().toISOString() })]);
  const answer = await call<{ decisions: { decision: string; rollbackId?: string }[] }>('/webhook', { method: 'POST', body: JSON.stringify(body) });
  expect(answer.decisions[0]!.decision).toBe('executed');
  return answer.decisions[0]!.rollbackId!;
}

async function reached(held: Held): Promise<void> {
  await Promise.race([
    held.reached,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`the held request never came; receiver log:\n${receiver.logTail(30)}`)), 60_000)),
  ]);
}

async function selectedColour(ns: string): Promise<string | undefined> {
  return (await k.core.readNamespacedService({ name: 'web', namespace: ns })).spec?.selector?.color;
}

async function finishedAfterRestart(id: string): Promise<RollbackView> {
  return waitFor(
    async () => {
      const r = await call<RollbackView>(`/api/v1/rollbacks/${id}`);
      return r.status !== 'running' ? r : undefined;
    },
    90_000,
    { description: `rollback ${id} finished after the restart`, intervalMs: 500 },
  );
}

describe('a receiver killed in the middle of a blue-green rollback', () => {
  it('SIGKILL while the Service switch is in flight: the Service keeps a colour with ready pods, and the restart resumes the rollback', async () => {
    const ns = await cluster.ns('crash-switch');
    await blueGreen(ns);
    const held = proxy.hold(writeTo('PATCH', `/namespaces/${ns}/services/web`));
    const id = await startRollback(ns);
    await reached(held);
    await receiver.kill('SIGKILL');
    held.drop();
    // Down, mid-rollback: traffic still goes to green, whose pods are ready; blue was scaled up and is ready too.
    expect(await selectedColour(ns)).toBe('green');
    await k.available(ns, 'web-green', 2);
    await receiver.restart();
    const rb = await finishedAfterRestart(id);
    expect(rb.status).toBe('success');
    expect(rb.steps.map((s) => s.name)).toEqual(expect.arrayContaining(['resumed', 'confirmed', 'request', 'verified']));
    expect(await selectedColour(ns)).toBe('blue');
    await k.available(ns, 'web-blue', 2);
    expect((await k.read(ns, 'web-green')).spec?.replicas).toBe(0);
    const events = await waitFor(async () => {
      const e = await k.events(ns, 'web');
      return e.some((x) => x.reason === 'RollbackSucceeded') ? e : undefined;
    }, 10_000);
    expect(events.map((e) => e.reason)).toEqual(expect.arrayContaining(['RollbackStarted', 'RollbackResumed', 'RollbackSucceeded']));
    // Exactly one switch reached the cluster.
    expect(proxy.writes('PATCH', `/namespaces/${ns}/services/web`)).toHaveLength(1);
  }, 180_000);

  it('SIGKILL after the switch committed, before the failed colour is scaled down: the restart confirms the switch and finishes', async () => {
    const ns = await cluster.ns('crash-scaledown');
    await blueGreen(ns);
    const held = proxy.hold(writeTo('PATCH', `/namespaces/${ns}/deployments/web-green/scale`));
    const id = await startRollback(ns);
    await reached(held);
    await receiver.kill('SIGKILL');
    held.drop();
    expect(await selectedColour(ns)).toBe('blue');
    await k.available(ns, 'web-blue', 2);
    await receiver.restart();
    const rb = await finishedAfterRestart(id);
    expect(rb.status).toBe('success');
    const confirmed = rb.steps.filter((s) => s.name === 'confirmed').map((s) => s.detail);
    expect(confirmed).toEqual(expect.arrayContaining([expect.stringMatching(/switch Service .*\/web to color=blue: already in effect/)]));
    expect((await k.read(ns, 'web-green')).spec?.replicas).toBe(0);
    expect(proxy.writes('PATCH', `/namespaces/${ns}/services/web`)).toHaveLength(1);
  }, 180_000);

  it('SIGTERM mid-rollback: the step in flight completes, the rollback stops at the next safe point within shutdown.grace, and the next start resumes it', async () => {
    const ns = await cluster.ns('sigterm');
    await blueGreen(ns);
    const held = proxy.hold(writeTo('PATCH', `/namespaces/${ns}/services/web`));
    const id = await startRollback(ns);
    await reached(held);
    const stopped = receiver.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1000));
    held.forward();
    await stopped;
    expect(receiver.logTail(50)).toMatch(/stopped at a safe point by shutdown/);
    expect(await selectedColour(ns)).toBe('blue');
    await receiver.restart();
    const rb = await finishedAfterRestart(id);
    expect(rb.status).toBe('success');
    expect(rb.steps.map((s) => s.name)).toEqual(expect.arrayContaining(['interrupted', 'resumed']));
    expect((await k.read(ns, 'web-green')).spec?.replicas).toBe(0);
  }, 180_000);
});
