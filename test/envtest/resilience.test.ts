/**
 * Least privilege and outages: the executor runs with exactly the rules in
 * src/kube/rbac-rules.yaml (RBAC on), a missing permission is a clear error, and an
 * API server that goes away mid-rollback is retried, then the attempt fails and
 * escalates while the receiver stays up. The outage uses a private cluster so the
 * shared one keeps serving other test files.
 */
import { CoordinationV1Api, RbacAuthorizationV1Api, type V1PolicyRule } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import request from 'supertest';
import { parse } from 'yaml';
import { KubeClient } from '../../src/kube/client.js';
import { alert, payload } from '../support/alerts.js';
import { startCluster, type Cluster } from './cluster.js';
import { connectCluster, type ClusterConnection } from './connect.js';
import { finished, OPERATOR, startReceiver, type Receiver } from './receiver.js';
import { waitFor } from './wait.js';
import { Workloads } from './workloads.js';

const RULES = parse(readFileSync(new URL('../../src/kube/rbac-rules.yaml', import.meta.url), 'utf8')) as V1PolicyRule[];
const STATE_RULES = parse(readFileSync(new URL('../../src/kube/rbac-rules-state.yaml', import.meta.url), 'utf8')) as V1PolicyRule[];

function start(kube: KubeClient, yaml = ''): Receiver {
  return startReceiver(kube, `auth:\n  allowUnauthenticatedWebhook: true\n${yaml}`);
}

async function decideOne(s: Receiver, ns: string, name: string) {
  const body = payload([alert({ labels: { namespace: ns, deployment: name }, startsAt: new Date().toISOString() })]);
  const res = await request(s.service.app).post('/webhook').send(body).expect(200);
  return res.body.decisions[0] as { decision: string; reason: string; rollbackId?: string };
}

async function grant(cluster: ClusterConnection, ns: string, user: string, rules: V1PolicyRule[]) {
  const rbac = cluster.kubeConfig().makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({ namespace: ns, body: { metadata: { name: 'rollback-receiver' }, rules } });
  await rbac.createNamespacedRoleBinding({
    namespace: ns,
    body: {
      metadata: { name: 'rollback-receiver' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'rollback-receiver' },
      subjects: [{ kind: 'User', name: user, apiGroup: 'rbac.authorization.k8s.io' }],
    },
  });
}

describe('RBAC: exactly the rules file', () => {
  const cluster = connectCluster();
  const k = new Workloads(cluster);

  it('rolls back with exactly these rules, and names the missing permission when one is taken away', async () => {
    const ns = await cluster.ns('rbac');
    await grant(cluster, ns, cluster.restrictedUser, RULES);
    await k.brokenRollout(ns, 'api');
    const s = start(new KubeClient(cluster.kubeConfig(cluster.restrictedToken)));
    try {
      const d = await decideOne(s, ns, 'api');
      expect(d.decision).toBe('executed');
      expect((await finished(s, d.rollbackId!)).status).toBe('success');
      expect(k.image(await k.available(ns, 'api'))).toBe('app:v1');

      // The same service in a namespace where the Role lacks `patch` on deployments.
      const ns2 = await cluster.ns('rbac-nopatch');
      const noPatch = RULES.map((r) => (r.resources?.includes('deployments') ? { ...r, verbs: r.verbs.filter((v) => v !== 'patch') } : r));
      await grant(cluster, ns2, cluster.restrictedUser, noPatch);
      await k.brokenRollout(ns2, 'api');
      const d2 = await decideOne(s, ns2, 'api');
      expect(d2.decision).toBe('executed');
      const failed = await finished(s, d2.rollbackId!);
      expect(failed.status).toBe('failed');
      expect(failed.steps.find((x) => x.name === 'failed')?.detail).toMatch(/403 Forbidden: deployments.apps "api" is forbidden: User "rollback-receiver-test" cannot patch resource "deployments"/);
      expect(k.image(await k.read(ns2, 'api'))).toBe('app:broken');
      await request(s.service.app).get('/health/live').expect(200);
    } finally {
      await s.destroy();
    }
  }, 120_000);

  it('in a namespace without any grant, the guards refuse with the RBAC problem instead of crashing', async () => {
    const ns = await cluster.ns('rbac-none');
    await k.deployment(ns, 'api', 'app:v1');
    const s = start(new KubeClient(cluster.kubeConfig(cluster.restrictedToken)));
    try {
      const d = await decideOne(s, ns, 'api');
      expect(d.decision).toBe('not_allowed');
      expect(d.reason).toMatch(/forbidden \(check the RBAC rules\)/);
    } finally {
      await s.destroy();
    }
  }, 60_000);
});

describe('RBAC of the Kubernetes state backend', () => {
  const cluster = connectCluster();
  const k = new Workloads(cluster);

  it.each([
    ['cannot write the state ConfigMaps', ['get', 'list'], 'write'],
    ['cannot read them either', [], 'read'],
  ])('a Role that %s: 503 (Alertmanager retries) naming the ConfigMap and the RBAC rules, and no Lease left held', async (_what, mapVerbs, verb) => {
    const [ns, stateNs] = await Promise.all([cluster.ns('state-rbac'), cluster.ns('state-rbac-own')]);
    const restricted = STATE_RULES.flatMap((r) => (r.resources?.includes('configmaps') ? (mapVerbs.length ? [{ ...r, verbs: mapVerbs }] : []) : [r]));
    await Promise.all([grant(cluster, ns, cluster.restrictedUser, RULES), grant(cluster, stateNs, cluster.restrictedUser, restricted)]);
    await k.brokenRollout(ns, 'api');
    const s = start(new KubeClient(cluster.kubeConfig(cluster.restrictedToken)), `state:\n  backend: kubernetes\n  namespace: ${stateNs}\n`);
    try {
      const body = payload([alert({ labels: { namespace: ns, deployment: 'api' }, startsAt: new Date().toISOString() })]);
      const res = await request(s.service.app).post('/webhook').send(body).expect(503);
      const message = JSON.stringify(res.body);
      expect(message).toContain(`cannot ${verb} the state ConfigMap ${stateNs}/rollback-receiver-`);
      expect(message).toContain("(check the state backend's RBAC rules, src/kube/rbac-rules-state.yaml)");
      // The rollback's Lease was taken before the refused write, and released after it.
      const coordination = cluster.kubeConfig().makeApiClient(CoordinationV1Api);
      expect((await coordination.listNamespacedLease({ namespace: stateNs })).items).toEqual([]);
      expect(k.image(await k.read(ns, 'api'))).toBe('app:broken');
    } finally {
      await s.destroy();
    }
  }, 60_000);
});

describe('an API server that goes away mid-rollback', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster();
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('is retried with backoff, then the attempt fails and escalates; the receiver stays up', async () => {
    const conn = { kubeConfig: (t?: string) => cluster.kubeConfig(t) } as unknown as ClusterConnection;
    const k = new Workloads(conn);
    const core = k.core;
    const ns = 'outage';
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await waitFor(async () => (await core.readNamespacedServiceAccount({ name: 'default', namespace: ns })).metadata?.name, 30_000);
    // Blue-green waits for the standby colour, which never gets ready: the executor is mid-run when the server goes.
    await k.deployment(ns, 'shop-blue', 'app:broken', { labels: { app: 'shop', color: 'blue' }, replicas: 0, annotations: {} });
    await k.deployment(ns, 'shop-green', 'app:v2', { labels: { app: 'shop', color: 'green' }, replicas: 1, annotations: {} });
    await k.available(ns, 'shop-green', 1);
    await k.service(ns, 'shop', { app: 'shop', color: 'green' });
    await new Promise((r) => setTimeout(r, 1100));
    const s = start(new KubeClient(cluster.kubeConfig()), 'rollback:\n  executionTimeout: 8s\nexecution:\n  verifyTimeout: 30s\n');
    try {
      const body = payload([alert({ labels: { namespace: ns, service: 'shop', deployment: '', rollback_strategy: 'blue-green' }, startsAt: new Date().toISOString() })]);
      const d = (await request(s.service.app).post('/webhook').send(body).expect(200)).body.decisions[0];
      expect(d.decision).toBe('executed');
      await waitFor(async () => (await k.read(ns, 'shop-blue')).spec?.replicas === 1, 10_000);
      await cluster.stopApiServer();
      await request(s.service.app).get('/health/live').expect(200);
      const rb = await finished(s, d.rollbackId, 30_000);
      expect(rb.status).toBe('failed');
      expect(rb.steps.filter((x) => x.name === 'retry').length).toBeGreaterThan(0);
      expect(rb.steps.find((x) => x.name === 'failed')?.detail).toMatch(/Unreachable|ECONNREFUSED|verification deadline/);
      const metrics = (await request(s.service.app).get('/metrics')).text;
      expect(metrics).toMatch(/rollback_escalations_total\{reason="execution_failed"\} 1/);
      expect(metrics).toMatch(/rollback_executions_total\{strategy="blue-green",kind="automatic",result="failed"\} 1/);
      // A new alert while the API is down: 503, so Alertmanager retries it; nothing half-recorded.
      const again = payload([alert({ labels: { namespace: ns, deployment: 'other' }, startsAt: new Date().toISOString() })]);
      await request(s.service.app).post('/webhook').send(again).expect(503);
      await cluster.startApiServer();
      // The failed attempt counts toward maximumRetries (and its cooldown).
      expect((await request(s.service.app).get('/api/v1/cooldowns').set('Authorization', `Bearer ${OPERATOR}`)).body.cooldowns).toEqual([
        expect.objectContaining({ namespace: ns, name: 'shop', attemptsInRetryWindow: 1 }),
      ]);
    } finally {
      await s.destroy();
    }
  }, 120_000);

  it('on the Kubernetes state backend: nothing is decided while the API server is down (503), and afterwards the interrupted rollback is finished once, never repeated', async () => {
    const conn = { kubeConfig: (t?: string) => cluster.kubeConfig(t) } as unknown as ClusterConnection;
    const k = new Workloads(conn);
    const core = k.core;
    for (const name of ['outage-shared', 'outage-state']) {
      await core.createNamespace({ body: { metadata: { name } } });
      await waitFor(async () => (await core.readNamespacedServiceAccount({ name: 'default', namespace: name })).metadata?.name, 30_000);
    }
    const ns = 'outage-shared';
    await k.deployment(ns, 'cart-blue', 'app:broken', { labels: { app: 'cart', color: 'blue' }, replicas: 0, annotations: {} });
    await k.deployment(ns, 'cart-green', 'app:v2', { labels: { app: 'cart', color: 'green' }, replicas: 1, annotations: {} });
    await k.available(ns, 'cart-green', 1);
    await k.service(ns, 'cart', { app: 'cart', color: 'green' });
    await new Promise((r) => setTimeout(r, 1100));
    const yaml = 'state:\n  backend: kubernetes\n  namespace: outage-state\n  leaseDuration: 6s\nrollback:\n  executionTimeout: 8s\nexecution:\n  verifyTimeout: 30s\nmonitoring:\n  enhanced:\n    enabled: false\n';
    const [a, b] = [start(new KubeClient(cluster.kubeConfig()), yaml), start(new KubeClient(cluster.kubeConfig()), yaml)];
    const target = (fingerprint: string, trigger = 'error_rate') =>
      payload([alert({ fingerprint, labels: { namespace: ns, rollback_target: 'cart', rollback_strategy: 'blue-green', rollback_trigger: trigger }, startsAt: new Date().toISOString() })]);
    try {
      const d = (await request(a.service.app).post('/webhook').send(target('00000000000c0a01')).expect(200)).body.decisions[0];
      expect(d.decision).toBe('executed');
      await waitFor(async () => (await k.read(ns, 'cart-blue')).spec?.replicas === 1, 10_000);
      await cluster.stopApiServer();
      // Neither replica can read the shared state: nothing is decided, Alertmanager retries.
      for (const s of [a, b]) {
        const res = await request(s.service.app).post('/webhook').send(target('00000000000c0a02', 'health_check'));
        expect(res.status).toBe(503);
        expect(res.body.error).toMatch(/Kubernetes API did not answer/);
        await request(s.service.app).get('/health/live').expect(200);
      }
      await cluster.startApiServer();
      // The attempt ends (failed: the standby never gets ready) and is recorded in the shared state, by
      // the replica that ran it or, when that could not record it during the outage, by whichever took it over.
      let probe = 0;
      await waitFor(
        async () => {
          const res = await request(b.service.app).post('/webhook').send(target((0xc0b00 + ++probe).toString(16).padStart(16, '0'), 'cpu'));
          return res.status === 200 && res.body.decisions[0].decision === 'cooldown' ? res.body.decisions[0] : undefined;
        },
        90_000,
        { description: 'the target cooling down after the interrupted rollback', intervalMs: 1000 },
      );
      const cooldowns = (await request(b.service.app).get('/api/v1/cooldowns').set('Authorization', `Bearer ${OPERATOR}`)).body.cooldowns;
      expect(cooldowns).toEqual([expect.objectContaining({ namespace: ns, name: 'cart', attemptsInRetryWindow: 1 })]);
    } finally {
      await Promise.all([a.destroy(), b.destroy()]);
    }
  }, 180_000);
});
