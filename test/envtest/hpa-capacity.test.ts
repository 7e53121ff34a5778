/**
 * HPA-aware capacity against the real kube-apiserver (1.20: autoscaling/v2beta2). The harness
 * runs no HPA controller, so each test creates a real HorizontalPodAutoscaler and writes what
 * it wants (`status.desiredReplicas`) through the status subresource, as the controller would.
 */
import request from 'supertest';
import { hpaApiVersion } from '../../src/execution/capacity.js';
import { KubeClient } from '../../src/kube/client.js';
import { alert, payload } from '../support/alerts.js';
import { connectCluster } from './connect.js';
import { finished, startReceiver, type Receiver } from './receiver.js';
import { Workloads } from './workloads.js';

const cluster = connectCluster();
const kube = new KubeClient(cluster.kubeConfig());
const k = new Workloads(cluster);
const YAML = 'auth:\n  allowUnauthenticatedWebhook: true\nexecution:\n  verifyTimeout: 30s\nrollback:\n  executionTimeout: 60s\n';

let live: Receiver;
let version: string;
beforeAll(async () => {
  live = startReceiver(new KubeClient(cluster.kubeConfig()), YAML);
  version = await hpaApiVersion(<T>(path: string) => kube.send<T>({ method: 'GET', path }));
});
afterAll(() => live.destroy());

/** An HPA on Deployment `target` that wants `desired` replicas (written as the HPA controller writes its status). */
async function hpa(namespace: string, target: string, opts: { min: number; desired?: number }): Promise<void> {
  const path = `/apis/${version}/namespaces/${namespace}/horizontalpodautoscalers`;
  await kube.send({
    method: 'POST',
    path,
    body: {
      apiVersion: version,
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: target },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: target },
        minReplicas: opts.min,
        maxReplicas: 20,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }],
      },
    },
  });
  if (opts.desired !== undefined) {
    await kube.send({
      method: 'PATCH',
      path: `${path}/${target}/status`,
      patchType: 'merge',
      body: { status: { currentReplicas: 2, desiredReplicas: opts.desired } },
    });
  }
}

async function fire(namespace: string, labels: Record<string, string>) {
  const body = payload([alert({ labels: { namespace, ...labels }, startsAt: new Date().toISOString() })]);
  const res = await request(live.service.app).post('/webhook').send(body).expect(200);
  return res.body.decisions[0] as { decision: string; reason: string; rollbackId?: string };
}

describe('HPA-aware capacity', () => {
  it('the harness serves an HPA API the receiver reads', () => {
    expect(['autoscaling/v2', 'autoscaling/v2beta2']).toContain(version);
  });

  it("blue-green scales the restored colour to what the serving colour's HPA wants", async () => {
    const ns = await cluster.ns('hpa-bg');
    await k.deployment(ns, 'shop-blue', 'app:v1', { labels: { app: 'shop', color: 'blue' }, replicas: 0, annotations: {} });
    await k.deployment(ns, 'shop-green', 'app:v2', { labels: { app: 'shop', color: 'green' }, replicas: 2, annotations: {} });
    await k.available(ns, 'shop-green');
    await k.service(ns, 'shop', { app: 'shop', color: 'green' });
    await hpa(ns, 'shop-green', { min: 2, desired: 4 });
    await new Promise((r) => setTimeout(r, 1100)); // the alert must be newer than the Service's last switch
    const d = await fire(ns, { service: 'shop', deployment: '', rollback_strategy: 'blue-green' });
    expect(d).toMatchObject({ decision: 'executed' });
    const rb = await finished(live, d.rollbackId!);
    expect(rb.status).toBe('success');
    expect(rb.steps.find((s) => s.name === 'request')?.detail).toBe(`scale the restored colour blue (Deployment ${ns}/shop-blue) to 4 replicas`);
    expect((await k.available(ns, 'shop-blue', 4)).spec?.replicas).toBe(4);
    expect(rb.steps.find((s) => s.name === 'inspected')?.detail).toContain('HorizontalPodAutoscaler shop-green wants 4 replicas for the serving side');
  }, 90_000);

  it("scale-swap scales previous to current's HPA, never below the minReplicas of previous's HPA", async () => {
    const ns = await cluster.ns('hpa-swap');
    await k.deployment(ns, 'api-current', 'app:v2', { replicas: 2 });
    await k.deployment(ns, 'api-previous', 'app:v1', { replicas: 0, annotations: {} });
    await k.available(ns, 'api-current', 2);
    await hpa(ns, 'api-current', { min: 1, desired: 3 });
    await hpa(ns, 'api-previous', { min: 5 });
    await new Promise((r) => setTimeout(r, 1100));
    const d = await fire(ns, { deployment: 'api', rollback_strategy: 'scale-swap' });
    expect(d).toMatchObject({ decision: 'executed' });
    const rb = await finished(live, d.rollbackId!);
    expect(rb.status).toBe('success');
    expect(rb.steps.find((s) => s.name === 'request')?.detail).toBe(`scale Deployment ${ns}/api-previous to 5 replicas`);
    await k.available(ns, 'api-previous', 5);
    expect((await k.read(ns, 'api-current')).spec?.replicas).toBe(0);
  }, 90_000);
});
