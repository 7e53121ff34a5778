/**
 * The chart's default RBAC is enough, and no more: the rendered ServiceAccount, Role and
 * RoleBinding are created in the envtest kube-apiserver as `helm install` would, and the
 * receiver runs with that ServiceAccount's own token (RBAC on). It rolls a broken
 * Deployment back in the listed namespace, and is refused in one that is not listed.
 */
import { CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import request from 'supertest';
import { KubeClient } from '../../src/kube/client.js';
import { alert, payload } from '../support/alerts.js';
import { connectCluster } from '../envtest/connect.js';
import { finished, startReceiver, type Receiver } from '../envtest/receiver.js';
import { waitFor } from '../envtest/wait.js';
import { Workloads } from '../envtest/workloads.js';
import { only, render, type KubeObject } from './chart.js';
import { create, discover } from './kube.js';

const cluster = connectCluster();
const k = new Workloads(cluster);
const core = cluster.kubeConfig().makeApiClient(CoreV1Api);

async function decideOne(s: Receiver, namespace: string, name: string) {
  const body = payload([alert({ labels: { namespace, deployment: name }, startsAt: new Date().toISOString() })]);
  const res = await request(s.service.app).post('/webhook').send(body).expect(200);
  return res.body.decisions[0] as { decision: string; reason: string; rollbackId?: string };
}

/** The token the token controller issued for a ServiceAccount (Kubernetes 1.20: a Secret listed on it). */
async function serviceAccountToken(namespace: string, name: string): Promise<string> {
  const secretName = await waitFor(async () => (await core.readNamespacedServiceAccount({ name, namespace })).secrets?.[0]?.name, 30_000, {
    description: `a token Secret for ServiceAccount ${namespace}/${name}`,
  });
  const secret = await core.readNamespacedSecret({ name: secretName, namespace });
  return Buffer.from(secret.data!.token!, 'base64').toString('utf8');
}

test('the receiver rolls back with exactly the rendered Role, bound to the rendered ServiceAccount, and is refused elsewhere', async () => {
  const [release, target, unlisted] = await Promise.all([cluster.ns('rr-release'), cluster.ns('rr-target'), cluster.ns('rr-unlisted')]);
  const manifests = render({ namespace: release, values: { rbac: { namespaces: [target] } } });
  const discovery = await discover(cluster);
  const rbacObjects = ['ServiceAccount', 'Role', 'RoleBinding'].map((kind) => only<KubeObject>(manifests, kind));
  for (const object of rbacObjects) await create(cluster, discovery, object, release);

  // What the apiserver holds is what the chart rendered.
  const rbac = cluster.kubeConfig().makeApiClient(RbacAuthorizationV1Api);
  const role = only<KubeObject & { rules: unknown[] }>(manifests, 'Role');
  expect((await rbac.readNamespacedRole({ name: role.metadata.name, namespace: target })).rules).toEqual(role.rules);

  const sa = only<KubeObject>(manifests, 'ServiceAccount');
  const token = await serviceAccountToken(release, sa.metadata.name);
  await Promise.all([k.brokenRollout(target, 'api'), k.deployment(unlisted, 'api', 'app:v1')]);

  const s = startReceiver(new KubeClient(cluster.kubeConfig(token)), 'auth:\n  allowUnauthenticatedWebhook: true\n');
  try {
    const d = await decideOne(s, target, 'api');
    expect(d.decision).toBe('executed');
    expect((await finished(s, d.rollbackId!)).status).toBe('success');
    expect(k.image(await k.available(target, 'api'))).toBe('app:v1');

    const refused = await decideOne(s, unlisted, 'api');
    expect(refused.decision).toBe('not_allowed');
    expect(refused.reason).toMatch(/forbidden \(check the RBAC rules\)/);
    expect(k.image(await k.read(unlisted, 'api'))).toBe('app:v1');
  } finally {
    await s.destroy();
  }
}, 120_000);
