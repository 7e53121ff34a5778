/**
 * Replicas sharing the state through the Kubernetes API (state.backend: kubernetes),
 * in-process against the real apiserver: an alert sent to two replicas at once (an
 * Alertmanager HA pair) rolls back once; cooldown, quarantine and the brake hold across
 * replicas; the state is visible on the workload.
 */
import request from 'supertest';
import { KubeClient } from '../../src/kube/client.js';
import { alert, payload } from '../support/alerts.js';
import { connectCluster } from './connect.js';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { finished, OPERATOR, startReceiver, type Receiver } from './receiver.js';
import { Workloads } from './workloads.js';

const cluster = connectCluster();
const k = new Workloads(cluster);
const LIVE = { ROLLBACK_DRY_RUN: 'false' };
const coordination = cluster.kubeConfig().makeApiClient(CoordinationV1Api);

function replicas(stateNs: string, n: number, extra = ''): Receiver[] {
  const yaml = `auth:\n  allowUnauthenticatedWebhook: true\nstate:\n  backend: kubernetes\n  namespace: ${stateNs}\n  leaseDuration: 6s\nexecution:\n  verifyTimeout: 30s\nrollback:\n  executionTimeout: 60s\n${extra}`;
  return Array.from({ length: n }, () => startReceiver(new KubeClient(cluster.kubeConfig()), yaml, LIVE));
}

interface Answer {
  decision: string;
  reason: string;
  rollbackId?: string;
}

async function send(s: Receiver, body: unknown): Promise<Answer[]> {
  const res = await request(s.service.app).post('/webhook').send(body as object).expect(200);
  return res.body.decisions as Answer[];
}

describe('two replicas on the Kubernetes backend', () => {
  let stateNs: string;
  let rs: Receiver[];
  beforeAll(async () => {
    stateNs = await cluster.ns('rr-state');
    rs = replicas(stateNs, 2);
  });
  afterAll(async () => {
    await Promise.all(rs.map((r) => r.destroy()));
  });

  it('the same alert sent to both replicas at once rolls back exactly once', async () => {
    const ns = await cluster.ns('ha-pair');
    await k.brokenRollout(ns, 'api');
    const body = payload([alert({ labels: { namespace: ns, deployment: 'api' }, startsAt: new Date().toISOString() })]);
    const answers = (await Promise.all(rs.map((r) => send(r, body)))).map((a) => a[0]!);
    const executed = answers.filter((a) => a.decision === 'executed');
    expect(executed).toHaveLength(1);
    expect(answers.find((a) => a.decision !== 'executed')!.decision).toBe('in_progress');
    const owner = rs[answers.indexOf(executed[0]!)]!;
    expect((await finished(owner, executed[0]!.rollbackId!)).status).toBe('success');
    const after = await k.available(ns, 'api');
    expect(after.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
    expect(after.metadata?.annotations?.['rollback-receiver.io/state']).toMatch(/last rollback .* ended .*; cooldown until .*; quarantined: revision 2 \(app:broken\)/);

    // The other replica never ran it, yet it sees the cooldown…
    const other = rs.find((r) => r !== owner)!;
    const [again] = await send(other, payload([alert({ labels: { namespace: ns, deployment: 'api', rollback_trigger: 'health_check' }, startsAt: new Date().toISOString() })]));
    expect(again!.decision).toBe('cooldown');
    // …and the quarantine, through the API.
    const q = await request(other.service.app).get('/api/v1/quarantine').query({ namespace: ns, name: 'api', status: 'bad' }).set('Authorization', `Bearer ${OPERATOR}`);
    expect(q.body.revisions).toEqual([expect.objectContaining({ label: 'revision 2 (app:broken)' })]);
    // The state lives in the receiver's namespace; the rollback's Leases are gone, its monitoring window holds one.
    const maps = await k.core.listNamespacedConfigMap({ namespace: stateNs, labelSelector: 'app.kubernetes.io/managed-by=rollback-receiver' });
    expect(maps.items.map((c) => c.metadata?.name)).toEqual(expect.arrayContaining(['rollback-receiver-global']));
    const leases = (await coordination.listNamespacedLease({ namespace: stateNs })).items.map((l) => l.metadata?.annotations?.['rollback-receiver.io/object']);
    expect(leases).toEqual([expect.stringMatching(/^Window:/)]);
  }, 90_000);
});
