/**
 * SPEC's safety invariants against the real kube-apiserver and controllers, each by a test
 * that tries to break it: no undo of an undo for every strategy and every trigger; pinned
 * plans through a proxy that commits a write but answers 504, drops the connection, or
 * slips a concurrent change in first; one writer per target when every entry point asks
 * at once, also for overlapping targets.
 */
import { KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import request from 'supertest';
import { KubeClient } from '../../src/kube/client.js';
import { alert, payload } from '../support/alerts.js';
import { connectCluster } from './connect.js';
import { FaultProxy, writeTo } from './fault-proxy.js';
import { finished, OPERATOR, startReceiver, type Receiver, type RollbackView } from './receiver.js';
import { waitFor } from './wait.js';
import { Workloads } from './workloads.js';

const cluster = connectCluster();
const k = new Workloads(cluster);
const LIVE = { ROLLBACK_DRY_RUN: 'false' };
const AUTH = { Authorization: `Bearer ${OPERATOR}` };
/** Every default trigger (the ones with actAfter wait 1 s here instead of 2 minutes). */
const YAML = `auth:
  allowUnauthenticatedWebhook: true
execution:
  verifyTimeout: 30s
rollback:
  executionTimeout: 60s
  cooldownPeriod: 1s
  triggers:
    - name: health_check
    - name: error_rate
    - name: response_time
      actAfter: 1s
    - name: cpu
      actAfter: 1s
    - name: memory
      actAfter: 1s
`;
const TRIGGERS = ['health_check', 'error_rate', 'response_time', 'cpu', 'memory'];

let proxy: FaultProxy;
beforeAll(async () => {
  proxy = new FaultProxy(cluster.server, cluster.caData);
  await proxy.start();
});
afterAll(() => proxy.stop());

function viaProxy(): KubeClient {
  const kc = new KubeConfig();
  kc.loadFromString(proxy.kubeconfig(cluster.adminToken));
  return new KubeClient(kc);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Answer {
  decision: string;
  reason: string;
  rollbackId?: string;
}

async function webhook(s: Receiver, alerts: ReturnType<typeof alert>[]): Promise<Answer[]> {
  const res = await request(s.service.app).post('/webhook').send(payload(alerts)).expect(200);
  return res.body.decisions as Answer[];
}

function firing(namespace: string, labels: Record<string, string>) {
  return alert({ labels: { namespace, ...labels }, startsAt: new Date().toISOString() });
}

/** The decisions recorded in the namespace, once there are `count` of them. */
async function finalDecisions(s: Receiver, namespace: string, count: number): Promise<{ trigger: string; decision: string; reason: string }[]> {
  return waitFor(
    async () => {
      const res = await request(s.service.app).get('/api/v1/decisions').query({ namespace, limit: 100 }).set(AUTH);
      const all = res.body.decisions as { trigger: string; decision: string; reason: string }[];
      return all.length >= count ? all : undefined;
    },
    20_000,
    { description: `${count} final decisions in ${namespace}`, intervalMs: 200 },
  );
}

async function escalations(s: Receiver, reason: string): Promise<number> {
  const text = (await request(s.service.app).get('/metrics')).text;
  return Number(new RegExp(`rollback_escalations_total\\{reason="${reason}"\\} (\\d+)`).exec(text)?.[1] ?? NaN);
}

/** After a rollback of `labels`' target, fresh alerts of every trigger must leave the target where the receiver put it. */
async function alertsOfEveryTriggerAreRefused(s: Receiver, ns: string, labels: Record<string, string>): Promise<void> {
  await sleep(1100); // past the 1 s cooldown, and alerts start after the rollback (managedFields have 1 s precision)
  const before = await escalations(s, 'no_safe_destination');
  const answers = await webhook(s, TRIGGERS.map((rollback_trigger) => firing(ns, { ...labels, rollback_trigger })));
  // Refused at once: guard 12 (the destination) comes before actAfter's wait (13).
  expect(answers.map((a) => a.decision)).toEqual(TRIGGERS.map(() => 'refused'));
  const finals = await finalDecisions(s, ns, 1 + TRIGGERS.length);
  const afterRollback = finals.filter((d) => d.decision !== 'executed');
  expect(afterRollback).toHaveLength(TRIGGERS.length);
  for (const d of afterRollback) {
    expect(d).toMatchObject({ decision: 'refused', reason: expect.stringMatching(/which the receiver itself installed .*: it does not roll further back; escalated to operators/) });
  }
  expect(new Set(afterRollback.map((d) => d.trigger))).toEqual(new Set(TRIGGERS));
  // Escalated once for that revision, not once per alert.
  expect((await escalations(s, 'no_safe_destination')) - before).toBe(1);
}

describe('no undo of an undo', () => {
  let s: Receiver;
  beforeAll(() => {
    s = startReceiver(viaProxy(), YAML, LIVE);
  });
  afterAll(() => s.destroy());

  it('deployment-undo: the broken template is quarantined and never restored, whatever fires next', async () => {
    const ns = await cluster.ns('undo-undo');
    await k.brokenRollout(ns, 'api');
    const [d] = await webhook(s, [firing(ns, { deployment: 'api' })]);
    expect(d).toMatchObject({ decision: 'executed', reason: expect.stringMatching(/from revision 2 \(app:broken\) to revision 1 \(app:v1\), not yet proven/) });
    expect((await finished(s, d!.rollbackId!)).status).toBe('success');
    const rolledBack = await k.available(ns, 'api');
    expect(k.image(rolledBack)).toBe('app:v1');
    expect(rolledBack.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('3');

    await alertsOfEveryTriggerAreRefused(s, ns, { deployment: 'api' });
    const after = await k.read(ns, 'api');
    expect(k.image(after)).toBe('app:v1');
    expect(after.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
    expect(proxy.writes('PATCH', `/namespaces/${ns}/deployments/api`)).toHaveLength(1);

    const q = await request(s.service.app).get('/api/v1/quarantine').query({ namespace: ns, name: 'api' }).set(AUTH);
    expect(q.body.revisions.map((r: { label: string; status: string }) => `${r.status}: ${r.label}`).sort()).toEqual(['bad: revision 2 (app:broken)', 'installed: revision 1 (app:v1)']);

    // A new deploy (v3) that breaks goes back to v1, the newest revision that is not bad — never to the broken v2.
    await k.setImage(ns, 'api', 'app:v3');
    await k.revision(ns, 'api', 4);
    await sleep(1100);
    const [next] = await webhook(s, [firing(ns, { deployment: 'api' })]);
    expect(next).toMatchObject({ decision: 'executed', reason: expect.stringMatching(/from revision 4 \(app:v3\) to revision 3 \(app:v1\)/) });
    expect((await finished(s, next!.rollbackId!)).status).toBe('success');
    expect(k.image(await k.available(ns, 'api'))).toBe('app:v1');
  }, 120_000);

  it('blue-green: it never switches back to the colour it left', async () => {
    const ns = await cluster.ns('bg-undo');
    await k.deployment(ns, 'web-blue', 'app:v1', { labels: { app: 'web', color: 'blue' }, replicas: 0, annotations: {} });
    await k.deployment(ns, 'web-green', 'app:v2', { labels: { app: 'web', color: 'green' }, replicas: 2, annotations: {} });
    await k.available(ns, 'web-green', 2);
    await k.service(ns, 'web', { app: 'web', color: 'green' });
    await sleep(1100);
    const labels = { rollback_target: 'web', rollback_strategy: 'blue-green' };
    const [d] = await webhook(s, [firing(ns, labels)]);
    expect(d).toMatchObject({ decision: 'executed', reason: expect.stringMatching(/from colour green \(app:v2\) to colour blue \(app:v1\)/) });
    expect((await finished(s, d!.rollbackId!)).status).toBe('success');
    await alertsOfEveryTriggerAreRefused(s, ns, labels);
    expect((await k.core.readNamespacedService({ name: 'web', namespace: ns })).spec?.selector?.color).toBe('blue');
    expect((await k.read(ns, 'web-green')).spec?.replicas).toBe(0);
    await k.available(ns, 'web-blue', 2);
  }, 120_000);

  it('scale-swap: it never swaps back to the side it scaled down', async () => {
    const ns = await cluster.ns('swap-undo');
    await k.deployment(ns, 'api-current', 'app:v2', { replicas: 2 });
    await k.deployment(ns, 'api-previous', 'app:v1', { replicas: 0, annotations: {} });
    await k.available(ns, 'api-current', 2);
    await sleep(1100);
    const labels = { deployment: 'api', rollback_strategy: 'scale-swap' };
    const [d] = await webhook(s, [firing(ns, labels)]);
    expect(d!.decision).toBe('executed');
    expect((await finished(s, d!.rollbackId!)).status).toBe('success');
    await alertsOfEveryTriggerAreRefused(s, ns, labels);
    expect((await k.read(ns, 'api-current')).spec?.replicas).toBe(0);
    await k.available(ns, 'api-previous', 2);
  }, 120_000);
});

describe('pinned plans: an uncertain write is compared with the pin, never planned again', () => {
  let s: Receiver;
  beforeAll(() => {
    s = startReceiver(viaProxy(), YAML, LIVE);
  });
  afterAll(() => s.destroy());

  async function rollBack(ns: string): Promise<RollbackView> {
    const [d] = await webhook(s, [firing(ns, { deployment: 'api' })]);
    expect(d!.decision).toBe('executed');
    return finished(s, d!.rollbackId!);
  }

  it.each([
    ['answers 504 after the PATCH committed', (path: string) => proxy.commitThen504(writeTo('PATCH', path))],
    ['drops the connection after the PATCH committed', (path: string) => proxy.commitThenDrop(writeTo('PATCH', path))],
  ])('the apiserver %s: the rollback finds the pinned template in place and is done', async (_what, arm) => {
    const ns = await cluster.ns('ambiguous');
    await k.brokenRollout(ns, 'api');
    arm(`/namespaces/${ns}/deployments/api`);
    const rb = await rollBack(ns);
    expect(rb.status).toBe('success');
    expect(rb.steps.map((x) => x.name)).toEqual(expect.arrayContaining(['uncertain', 'confirmed', 'verified']));
    const after = await k.available(ns, 'api');
    expect(k.image(after)).toBe('app:v1');
    // One PATCH reached the cluster: revision 3, not a second undo to revision 4 (the broken image).
    expect(after.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
    expect(proxy.writes('PATCH', `/namespaces/${ns}/deployments/api`)).toHaveLength(1);
  }, 90_000);

  it('a concurrent template change stops the rollback (failed, escalated, naming who) and keeps that change', async () => {
    const ns = await cluster.ns('concurrent');
    await k.brokenRollout(ns, 'api');
    const before = await escalations(s, 'concurrent_change');
    proxy.before(writeTo('PATCH', `/namespaces/${ns}/deployments/api`), async () => {
      await k.apps.patchNamespacedDeployment(
        { name: 'api', namespace: ns, fieldManager: 'kubectl-edit', body: { spec: { template: { spec: { containers: [{ name: 'app', image: 'app:v9' }] } } } } },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      );
    });
    const rb = await rollBack(ns);
    expect(rb.status).toBe('failed');
    expect(rb.steps.find((x) => x.name === 'conflict')?.detail).toMatch(/409 Conflict/);
    expect(rb.steps.find((x) => x.name === 'failed')?.detail).toMatch(/changed concurrently: .*deployments\/api runs pod template \w+, expected \w+; last changed by kubectl-edit \(Update\)/);
    expect(k.image(await k.read(ns, 'api'))).toBe('app:v9');
    expect(await escalations(s, 'concurrent_change')).toBe(before + 1);
  }, 90_000);

  it('blue-green: a 504 on the committed Service switch is confirmed, and the rollback carries on', async () => {
    const ns = await cluster.ns('bg-504');
    await k.deployment(ns, 'web-blue', 'app:v1', { labels: { app: 'web', color: 'blue' }, replicas: 0, annotations: {} });
    await k.deployment(ns, 'web-green', 'app:v2', { labels: { app: 'web', color: 'green' }, replicas: 2, annotations: {} });
    await k.service(ns, 'web', { app: 'web', color: 'green' });
    await sleep(1100);
    proxy.commitThen504(writeTo('PATCH', `/namespaces/${ns}/services/web`));
    const [d] = await webhook(s, [firing(ns, { rollback_target: 'web', rollback_strategy: 'blue-green' })]);
    expect(d!.decision).toBe('executed');
    const rb = await finished(s, d!.rollbackId!);
    expect(rb.status).toBe('success');
    expect(rb.steps.map((x) => x.name)).toEqual(expect.arrayContaining(['uncertain', 'confirmed']));
    expect((await k.core.readNamespacedService({ name: 'web', namespace: ns })).spec?.selector?.color).toBe('blue');
    expect(proxy.writes('PATCH', `/namespaces/${ns}/services/web`)).toHaveLength(1);
    expect((await k.read(ns, 'web-green')).spec?.replicas).toBe(0);
  }, 90_000);
});

describe('one writer per target', () => {
  let s: Receiver;
  beforeAll(() => {
    s = startReceiver(viaProxy(), YAML, LIVE);
  });
  afterAll(() => s.destroy());

  const operator = (body: Record<string, unknown>) => request(s.service.app).post('/api/v1/rollbacks').set(AUTH).send({ reason: 'race', ...body });

  it('alerts, manual, --automatic and emergency requests at once: exactly one rollback reaches the cluster', async () => {
    const ns = await cluster.ns('race');
    await k.brokenRollout(ns, 'api');
    const target = { namespace: ns, name: 'api' };
    const [alerts, manual, automatic, emergency, alerts2] = await Promise.all([
      request(s.service.app).post('/webhook').send(payload([firing(ns, { deployment: 'api' })])),
      operator(target),
      operator({ ...target, automatic: true }),
      operator({ ...target, emergency: true }),
      request(s.service.app).post('/webhook').send(payload([firing(ns, { deployment: 'api', rollback_trigger: 'health_check' })])),
    ]);
    const admitted: string[] = [];
    for (const res of [alerts, alerts2]) {
      const [d] = res.body.decisions as Answer[];
      if (d!.decision === 'executed') admitted.push(d!.rollbackId!);
      else expect(d!.decision).toBe('in_progress');
    }
    const refusals: { rollbackId?: string }[] = [];
    for (const res of [manual, automatic, emergency]) {
      if (res.status === 202) admitted.push(res.body.id as string);
      else {
        expect(res.status).toBe(409);
        expect(res.body.decision).toBe('in_progress');
        refusals.push(res.body as { rollbackId?: string });
      }
    }
    expect(admitted).toHaveLength(1);
    // A refused request names the rollback that holds the target.
    for (const r of refusals) expect(r.rollbackId).toBe(admitted[0]);
    expect((await finished(s, admitted[0]!)).status).toBe('success');
    const after = await k.available(ns, 'api');
    expect(after.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
    expect(proxy.writes('PATCH', `/namespaces/${ns}/deployments/api`)).toHaveLength(1);
  }, 90_000);

  it('overlapping targets exclude each other: blue-green web and deployment-undo web-blue / web-green', async () => {
    const ns = await cluster.ns('overlap');
    await k.deployment(ns, 'web-blue', 'app:v1', { labels: { app: 'web', color: 'blue' }, replicas: 0 });
    await k.deployment(ns, 'web-green', 'app:v1', { labels: { app: 'web', color: 'green' }, replicas: 2 });
    await k.setImage(ns, 'web-green', 'app:v2');
    await k.revision(ns, 'web-green', 2);
    await k.available(ns, 'web-green', 2);
    await k.service(ns, 'web', { app: 'web', color: 'green' });
    await sleep(1100);
    const answers = await Promise.all([
      operator({ namespace: ns, name: 'web', strategy: 'blue-green' }),
      operator({ namespace: ns, name: 'web-green' }),
      operator({ namespace: ns, name: 'web-blue', emergency: true }),
      request(s.service.app).post('/webhook').send(payload([firing(ns, { deployment: 'web-green' })])),
    ]);
    const admitted = answers.filter((r) => r.status === 202 || (r.body.decisions as Answer[] | undefined)?.[0]?.decision === 'executed');
    expect(admitted).toHaveLength(1);
    for (const r of answers.filter((a) => !admitted.includes(a))) {
      const decision = r.status === 200 ? (r.body.decisions as Answer[])[0]!.decision : r.body.decision;
      // web-blue has no history: refused by validation when it is not held by another rollback.
      expect(['in_progress', 'refused']).toContain(decision);
    }
    const id = admitted[0]!.status === 202 ? (admitted[0]!.body.id as string) : (admitted[0]!.body.decisions as Answer[])[0]!.rollbackId!;
    await finished(s, id);
  }, 90_000);
});

describe('bounded cluster reads', () => {
  it('a payload naming more targets than rollback.maxTargetsPerPayload: the rest are refused, not read', async () => {
    const ns = await cluster.ns('cap');
    const s = startReceiver(viaProxy(), `${YAML}  maxTargetsPerPayload: 2\n`, LIVE);
    try {
      const answers = await webhook(s, ['a', 'b', 'c', 'd'].map((name) => firing(ns, { deployment: name })));
      expect(answers.slice(0, 2).map((a) => a.decision)).toEqual(['not_allowed', 'not_allowed']); // read: not found
      for (const a of answers.slice(2)) {
        expect(a).toMatchObject({ decision: 'refused', reason: 'not read from the cluster: this payload names more than 2 targets (rollback.maxTargetsPerPayload)' });
      }
      expect(proxy.seen.filter((r) => r.path.includes(`/namespaces/${ns}/deployments/`)).map((r) => r.path.split('/').pop()).sort()).toEqual(['a', 'b']);
    } finally {
      await s.destroy();
    }
  }, 60_000);
});
