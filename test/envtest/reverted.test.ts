/**
 * The reverted signal through a real rollback on the apiserver harness: 1 once the
 * rollback succeeded (and again after a restart, from the records), back to 0 when the
 * workload gets a revision the receiver did not install. With the Kubernetes backend it
 * comes from the shared ledger: a replica with an empty local store reports it too.
 */
import request from 'supertest';
import { KubeClient } from '../../src/kube/client.js';
import { alert, payload } from '../support/alerts.js';
import { connectCluster } from './connect.js';
import { finished, startReceiver, type Receiver } from './receiver.js';
import { waitFor } from './wait.js';
import { Workloads } from './workloads.js';

const cluster = connectCluster();
const k = new Workloads(cluster);
const YAML = `auth:
  allowUnauthenticatedWebhook: true
execution:
  verifyTimeout: 20s
monitoring:
  enhanced:
    enabled: false
  reverted:
    checkInterval: 1s
`;

function reverted(metrics: string, ns: string): string | undefined {
  return new RegExp(`^rollback_target_reverted\\{namespace="${ns}",name="api",strategy="deployment-undo"\\} (\\S+)$`, 'm').exec(metrics)?.[1];
}

async function gauge(s: Receiver, ns: string, want: string): Promise<string> {
  return waitFor(async () => {
    const v = reverted((await request(s.service.app).get('/metrics')).text, ns);
    return v === want ? v : undefined;
  }, 20_000, { description: `rollback_target_reverted of ${ns}/api = ${want}`, intervalMs: 250 });
}

describe('rollback_target_reverted', () => {
  it('is 1 from a successful rollback, survives a restart, and goes back to 0 after a deploy the receiver did not make', async () => {
    const ns = await cluster.ns('reverted');
    await k.brokenRollout(ns, 'api');
    const kube = new KubeClient(cluster.kubeConfig());
    let s = startReceiver(kube, YAML);
    const stateDir = s.stateDir;
    try {
      expect(reverted((await request(s.service.app).get('/metrics')).text, ns)).toBeUndefined();
      const body = payload([alert({ labels: { namespace: ns, deployment: 'api' }, startsAt: new Date().toISOString() })]);
      const d = (await request(s.service.app).post('/webhook').send(body).expect(200)).body.decisions[0];
      expect(d.decision).toBe('executed');
      expect((await finished(s, d.rollbackId)).status).toBe('success');
      expect(await gauge(s, ns, '1')).toBe('1');

      // A restart keeps it: the successful rollback is on record and the cluster still serves what it installed.
      await s.close();
      s = startReceiver(kube, YAML, { ROLLBACK_DRY_RUN: 'false' }, stateDir);
      expect(await gauge(s, ns, '1')).toBe('1');
      const metrics = (await request(s.service.app).get('/metrics')).text;
      expect(metrics).toMatch(new RegExp(`^rollback_last_success_timestamp_seconds\\{namespace="${ns}",name="api"\\} \\d`, 'm'));

      // Someone deploys a new revision: no longer reverted.
      await k.setImage(ns, 'api', 'app:v3');
      expect(await gauge(s, ns, '0')).toBe('0');
    } finally {
      await s.destroy();
    }
  }, 120_000);

  it('on the Kubernetes backend, a replica that did not roll back (empty local store) reports the target, and 0 after a deploy', async () => {
    const ns = await cluster.ns('reverted-shared');
    const stateNs = await cluster.ns('reverted-state');
    await k.brokenRollout(ns, 'api');
    const yaml = `${YAML}state:\n  backend: kubernetes\n  namespace: ${stateNs}\n  leaseDuration: 6s\n`;
    const a = startReceiver(new KubeClient(cluster.kubeConfig()), yaml);
    let b: Receiver | undefined;
    try {
      const body = payload([alert({ labels: { namespace: ns, deployment: 'api' }, startsAt: new Date().toISOString() })]);
      const d = (await request(a.service.app).post('/webhook').send(body).expect(200)).body.decisions[0];
      expect(d.decision).toBe('executed');
      expect((await finished(a, d.rollbackId)).status).toBe('success');
      expect(await gauge(a, ns, '1')).toBe('1');

      // A second replica, started afterwards with its own empty store (a restarted pod on an emptyDir).
      b = startReceiver(new KubeClient(cluster.kubeConfig()), yaml);
      expect(b.stateDir).not.toBe(a.stateDir);
      expect(b.service.store.rollbacks(10)).toEqual([]);
      expect(await gauge(b, ns, '1')).toBe('1');
      const metrics = (await request(b.service.app).get('/metrics')).text;
      expect(metrics).toMatch(new RegExp(`^rollback_last_success_timestamp_seconds\\{namespace="${ns}",name="api"\\} \\d`, 'm'));

      await k.setImage(ns, 'api', 'app:v3');
      expect(await gauge(b, ns, '0')).toBe('0');
      expect(await gauge(a, ns, '0')).toBe('0');
    } finally {
      await Promise.all([a.destroy(), b?.destroy()]);
    }
  }, 120_000);
});
