/**
 * Replicas as real processes on the Kubernetes state backend, against the real apiserver:
 *   - a storm of 10,000 alerts (100 targets × 100 sends, re-sends interleaved with
 *     resolutions, every alert sent to two replicas at once like an Alertmanager HA pair)
 *     performs exactly 100 rollbacks — counted in the cluster, by revision annotations,
 *     not in the receivers' own records — with two and with three replicas;
 *   - kill -9 of the replica holding a target's Leases in the middle of its rollback: after
 *     the Leases expire another replica takes the rollback over and finishes it; there is
 *     no second rollback.
 * Time budget: about 2 minutes per storm on 2 cores (the 100 Deployments take most of it).
 */
import { AppsV1Api } from '@kubernetes/client-node';
import fs from 'node:fs';
import type { Daemon } from '../support/daemon.js';
import { receiverProcess } from '../support/receiver-process.js';
import type { AlertJson } from '../integration/helpers.js';
import { connectCluster } from './connect.js';
import { FaultProxy, writeTo } from './fault-proxy.js';
import { waitFor } from './wait.js';
import { Workloads } from './workloads.js';

const cluster = connectCluster();
const k = new Workloads(cluster);
const apps = cluster.kubeConfig().makeApiClient(AppsV1Api);
const OPERATOR = 'replicas-operator-token';
const TARGETS = 100;
const SENDS = 100;

function config(stateNs: string): string {
  return `auth:
  allowUnauthenticatedWebhook: true
state:
  backend: kubernetes
  namespace: ${stateNs}
  leaseDuration: 6s
rollback:
  brake: { max: 1000, window: 15m }
  executionTimeout: 120s
execution:
  concurrency: 16
  verifyTimeout: 90s
monitoring:
  enhanced:
    enabled: false
`;
}

async function startReplicas(n: number, stateNs: string, kubeconfig: (i: number) => string): Promise<Daemon[]> {
  const replicas = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const d = await receiverProcess({ label: `replica-${i}`, env: { ROLLBACK_DRY_RUN: 'false', ROLLBACK_OPERATOR_TOKEN: OPERATOR, POD_NAME: `replica-${i}`, LOG_LEVEL: 'warn' } });
      fs.writeFileSync(d.file('config.yaml'), config(stateNs));
      fs.writeFileSync(d.file('kubeconfig'), kubeconfig(i), { mode: 0o600 });
      return d;
    }),
  );
  await Promise.all(replicas.map((d) => d.start()));
  return replicas;
}

async function post(d: Daemon, path: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${d.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${OPERATOR}` },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  return { status: res.status, json: await res.json() };
}

/** As Alertmanager sends: a 5xx (or no answer) is retried with backoff; a 4xx is dropped. */
async function deliver(d: Daemon, body: unknown, tally: { retries: number; errors: string[] }): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    let status: number;
    let detail: string;
    try {
      const res = await post(d, '/webhook', body);
      status = res.status;
      detail = JSON.stringify(res.json).slice(0, 200);
    } catch (err) {
      status = 0;
      detail = (err as Error).message;
    }
    if ((status !== 0 && status < 500) || attempt >= 10) return status;
    tally.retries++;
    if (tally.errors.length < 5) tally.errors.push(`${status}: ${detail}`);
    await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** attempt)));
  }
}

async function get<T>(d: Daemon, path: string): Promise<T> {
  const res = await fetch(`${d.url}${path}`, { headers: { Authorization: `Bearer ${OPERATOR}` }, signal: AbortSignal.timeout(30_000) });
  return (await res.json()) as T;
}

function group(alerts: AlertJson[]) {
  return { version: '4', groupKey: '{}:{alertname="HighErrorRate"}', truncatedAlerts: 0, status: 'firing', receiver: 'rollback-receiver', groupLabels: {}, commonLabels: {}, commonAnnotations: {}, externalURL: '', alerts };
}

/** 100 Deployments, each v1 then a broken v2 stuck rolling out. */
async function brokenTargets(ns: string): Promise<string[]> {
  const names = Array.from({ length: TARGETS }, (_, i) => `svc-${String(i).padStart(3, '0')}`);
  for (let i = 0; i < names.length; i += 20) {
    await Promise.all(names.slice(i, i + 20).map((n) => k.deployment(ns, n, 'app:v1', { replicas: 1 })));
  }
  for (let i = 0; i < names.length; i += 20) await Promise.all(names.slice(i, i + 20).map((n) => k.available(ns, n, 1, 60_000)));
  for (let i = 0; i < names.length; i += 20) await Promise.all(names.slice(i, i + 20).map((n) => k.setImage(ns, n, 'app:broken')));
  for (let i = 0; i < names.length; i += 20) await Promise.all(names.slice(i, i + 20).map((n) => k.revision(ns, n, 2)));
  await new Promise((r) => setTimeout(r, 1100)); // alerts start after the broken revision (managedFields have 1 s precision)
  return names;
}

describe.each([2, 3])('a storm against %i replicas', (n) => {
  let replicas: Daemon[] = [];
  afterAll(async () => {
    await Promise.all(replicas.map((d) => d.stop('SIGTERM')));
  });

  it(`10,000 alerts, each sent to two replicas at once: exactly ${TARGETS} rollbacks reach the cluster`, async () => {
    const ns = await cluster.ns(`storm-${n}`);
    const stateNs = await cluster.ns(`storm-state-${n}`);
    const names = await brokenTargets(ns);
    replicas = await startReplicas(n, stateNs, () => fs.readFileSync(cluster.kubeconfigPath, 'utf8'));
    const startsAt = new Date().toISOString();
    const alertFor = (i: number, status: 'firing' | 'resolved'): AlertJson => ({
      status,
      labels: { alertname: 'HighErrorRate', namespace: ns, deployment: names[i]!, rollback_trigger: 'error_rate', severity: 'critical' },
      annotations: { summary: 'error rate high' },
      startsAt,
      endsAt: status === 'resolved' ? new Date().toISOString() : '0001-01-01T00:00:00Z',
      generatorURL: '',
      fingerprint: (0x1000 + i).toString(16).padStart(16, '0'),
    });
    const acknowledged = { sent: 0, ok: 0 };
    const tally = { retries: 0, errors: [] as string[] };
    // Send number s of every target: the first is the firing alert, later ones re-sends with a resolution every 10th.
    for (let s = 0; s < SENDS; s++) {
      const status = s > 0 && s % 10 === 0 ? 'resolved' : 'firing';
      const batches: AlertJson[][] = [];
      for (let i = 0; i < TARGETS; i += 10) batches.push(Array.from({ length: 10 }, (_, j) => alertFor(i + j, status)));
      await Promise.all(
        batches.map(async (alerts, b) => {
          // Two replicas at once, as an Alertmanager HA pair would: a different pair per batch.
          const pair = [replicas[(s + b) % n]!, replicas[(s + b + 1) % n]!];
          const answers = await Promise.all(pair.map((d) => deliver(d, group(alerts), tally)));
          for (const status of answers) {
            acknowledged.sent += alerts.length;
            if (status === 200) acknowledged.ok += alerts.length;
          }
        }),
      );
    }
    process.stderr.write(`[storm ${n} replicas] ${tally.retries} deliveries retried after a 5xx${tally.errors.length ? `, e.g. ${tally.errors.join(' | ')}` : ''}\n`);
    expect(acknowledged).toEqual({ sent: 2 * TARGETS * SENDS, ok: 2 * TARGETS * SENDS });

    // Counted in the cluster: every Deployment back on v1 as revision 3, none rolled twice (revision 4).
    const revisions = await waitFor(
      async () => {
        const list = await apps.listNamespacedDeployment({ namespace: ns });
        const byRevision = new Map<string, number>();
        for (const d of list.items) {
          const rev = d.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? '?';
          byRevision.set(rev, (byRevision.get(rev) ?? 0) + 1);
        }
        return (byRevision.get('3') ?? 0) === TARGETS ? byRevision : undefined;
      },
      180_000,
      { description: `${TARGETS} Deployments at revision 3`, intervalMs: 2000 },
    );
    expect([...revisions.entries()]).toEqual([['3', TARGETS]]);
    const list = await apps.listNamespacedDeployment({ namespace: ns });
    expect(new Set(list.items.map((d) => d.spec?.template.spec?.containers[0]?.image))).toEqual(new Set(['app:v1']));

    // And the receivers agree: exactly one `executed` per target across all replicas.
    let executed = 0;
    for (const d of replicas) {
      const text = await (await fetch(`${d.url}/metrics`)).text();
      executed += Number(/rollback_alerts_total\{trigger="error_rate",decision="executed"\} (\d+)/.exec(text)?.[1] ?? 0);
    }
    expect(executed).toBe(TARGETS);
    process.stderr.write(`[storm ${n} replicas] alerts sent ${acknowledged.sent}, acknowledged ${acknowledged.ok} (${tally.retries} retried deliveries), rollbacks in the cluster ${TARGETS}, executed decisions ${executed}\n`);
  }, 600_000);
});

describe('kill -9 of the replica holding a target\'s Leases', () => {
  let proxy: FaultProxy;
  let replicas: Daemon[] = [];
  afterAll(async () => {
    await Promise.all(replicas.map((d) => d.stop()));
    await proxy?.stop();
  });

  it('another replica takes the rollback over after the Leases expire and finishes it; no second rollback', async () => {
    const ns = await cluster.ns('takeover');
    const stateNs = await cluster.ns('takeover-state');
    await k.brokenRollout(ns, 'api');
    proxy = new FaultProxy(cluster.server, cluster.caData);
    await proxy.start();
    // Replica 0 talks to the apiserver through the proxy, which holds its rollback PATCH; replica 1 directly.
    replicas = await startReplicas(2, stateNs, (i) => (i === 0 ? proxy.kubeconfig(cluster.adminToken) : fs.readFileSync(cluster.kubeconfigPath, 'utf8')));
    const held = proxy.hold(writeTo('PATCH', `/namespaces/${ns}/deployments/api`));
    const alert: AlertJson = {
      status: 'firing',
      labels: { alertname: 'HighErrorRate', namespace: ns, deployment: 'api', rollback_trigger: 'error_rate' },
      annotations: {},
      startsAt: new Date().toISOString(),
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: '',
      fingerprint: 'a11ce0000000beef',
    };
    const first = await post(replicas[0]!, '/webhook', group([alert]));
    const decision = (first.json as { decisions: { decision: string; rollbackId: string }[] }).decisions[0]!;
    expect(decision.decision).toBe('executed');
    await held.reached;
    await replicas[0]!.kill('SIGKILL');
    held.drop();
    expect(k.image(await k.read(ns, 'api'))).toBe('app:broken');
    // While the dead replica's Leases hold, the survivor refuses: the rollback is still in progress.
    const during = await post(replicas[1]!, '/webhook', group([{ ...alert, fingerprint: 'a11ce0000000cafe', labels: { ...alert.labels, rollback_trigger: 'health_check' } }]));
    expect((during.json as { decisions: { decision: string }[] }).decisions[0]!.decision).toBe('in_progress');
    // After expiry the survivor adopts the Leases and resumes from the pinned plan.
    const rollback = await waitFor(
      async () => {
        const r = await get<{ status?: string; steps?: { name: string }[] }>(replicas[1]!, `/api/v1/rollbacks/${decision.rollbackId}`);
        return r.status && r.status !== 'running' ? r : undefined;
      },
      60_000,
      { description: 'the rollback finished by the surviving replica', intervalMs: 500 },
    );
    expect(rollback.status).toBe('success');
    expect(rollback.steps!.map((s) => s.name)).toEqual(expect.arrayContaining(['resumed', 'request', 'verified']));
    const after = await k.available(ns, 'api');
    expect(k.image(after)).toBe('app:v1');
    expect(after.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
  }, 180_000);
});
