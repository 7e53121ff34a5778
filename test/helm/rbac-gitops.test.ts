/**
 * The chart's GitOps RBAC is enough: with rbac.gitops.argocdNamespaces naming the Argo CD
 * namespace, the rendered Roles and RoleBindings created in the envtest kube-apiserver let
 * a receiver running with the rendered ServiceAccount's own token pause the Application
 * that manages the workload, then roll it back; without the value it is refused.
 */
import { CoreV1Api } from '@kubernetes/client-node';
import request from 'supertest';
import { KubeClient } from '../../src/kube/client.js';
import { alert, payload } from '../support/alerts.js';
import { connectCluster } from '../envtest/connect.js';
import { GitOpsObjects } from '../envtest/gitops-objects.js';
import { finished, startReceiver } from '../envtest/receiver.js';
import { waitFor } from '../envtest/wait.js';
import { Workloads } from '../envtest/workloads.js';
import { ofKind, only, render, type KubeObject } from './chart.js';
import { create, discover } from './kube.js';

const cluster = connectCluster();
const k = new Workloads(cluster);
const g = new GitOpsObjects(cluster);
const core = cluster.kubeConfig().makeApiClient(CoreV1Api);
const APP = 'argoproj.io/v1alpha1';

async function installRbac(release: string, values: Record<string, unknown>): Promise<string> {
  const manifests = render({ namespace: release, values: { state: { backend: 'sqlite' }, replicaCount: 1, rbac: values } });
  const discovery = await discover(cluster);
  for (const object of [only<KubeObject>(manifests, 'ServiceAccount'), ...ofKind(manifests, 'Role'), ...ofKind(manifests, 'RoleBinding')]) {
    await create(cluster, discovery, object as KubeObject, release);
  }
  const sa = only<KubeObject>(manifests, 'ServiceAccount').metadata.name;
  const secretName = await waitFor(async () => (await core.readNamespacedServiceAccount({ name: sa, namespace: release })).secrets?.[0]?.name, 30_000);
  return Buffer.from((await core.readNamespacedSecret({ name: secretName, namespace: release })).data!.token!, 'base64').toString('utf8');
}

async function decide(token: string, argocd: string, ns: string) {
  const s = startReceiver(new KubeClient(cluster.kubeConfig(token)), `auth:\n  allowUnauthenticatedWebhook: true\ngitops:\n  argocd:\n    enabled: true\n    namespace: ${argocd}\n`);
  const body = payload([alert({ labels: { namespace: ns, deployment: 'api' }, startsAt: new Date().toISOString() })]);
  const d = (await request(s.service.app).post('/webhook').send(body).expect(200)).body.decisions[0] as { decision: string; reason: string; rollbackId?: string };
  return { s, d };
}

beforeAll(async () => {
  await g.install();
}, 60_000);

test.each([
  ['with rbac.gitops.argocdNamespaces the Application is paused, then the workload rolled back', true],
  ['without it the rollback is refused, nothing written', false],
])('%s', async (_name, granted) => {
  const [release, target, argocd] = await Promise.all([cluster.ns('rg-release'), cluster.ns('rg-target'), cluster.ns('rg-argocd')]);
  const token = await installRbac(release, { namespaces: [target], gitops: granted ? { argocdNamespaces: [argocd] } : {} });
  await g.create(APP, 'Application', 'applications', argocd, 'shop', { syncPolicy: { automated: { selfHeal: true } } }, {
    status: { resources: [{ group: 'apps', kind: 'Deployment', namespace: target, name: 'api' }] },
  });
  await g.brokenRollout(k, target, 'api', { annotations: { 'argocd.argoproj.io/tracking-id': `shop:apps/Deployment:${target}/api` } });
  const { s, d } = await decide(token, argocd, target);
  try {
    const app = () => g.get<{ spec: { syncPolicy: unknown } }>(APP, 'applications', argocd, 'shop');
    if (granted) {
      expect(d.decision).toBe('executed');
      expect((await finished(s, d.rollbackId!)).status).toBe('success');
      expect((await app()).spec.syncPolicy).toEqual({});
      expect(k.image(await k.available(target, 'api'))).toBe('app:v1');
    } else {
      expect(d).toMatchObject({ decision: 'refused', reason: expect.stringContaining(`cannot read Argo CD Application ${argocd}/shop: forbidden`) });
      expect((await app()).spec.syncPolicy).toEqual({ automated: { selfHeal: true } });
      expect(k.image(await k.read(target, 'api'))).toBe('app:broken');
    }
  } finally {
    await s.destroy();
  }
}, 120_000);
