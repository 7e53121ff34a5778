/**
 * GitOps pause for the helm strategy against the real kube-apiserver: a release written as
 * Helm 3 writes it (test/helm-release/fixture.ts) whose Deployment carries Flux's
 * helm-controller labels, or Argo CD's tracking label. The rollback's lock key is the
 * release, not its objects: the HelmRelease or Application is found through the release's
 * live Deployment, paused first, and listed in the dry-run plan.
 */
import request from 'supertest';
import { readHistory } from '../../src/execution/helm/history.js';
import { KubeClient } from '../../src/kube/client.js';
import { alert, payload } from '../support/alerts.js';
import { shopRelease } from '../helm-release/fixture.js';
import { Helm3 } from '../helm-release/helm3.js';
import { connectCluster } from './connect.js';
import { GitOpsObjects } from './gitops-objects.js';
import { bindRole } from './rbac.js';
import { finished, OPERATOR, startReceiver, type Receiver } from './receiver.js';
import { Workloads } from './workloads.js';

const cluster = connectCluster();
const kube = new KubeClient(cluster.kubeConfig());
const helm3 = new Helm3(kube);
const k = new Workloads(cluster);
const g = new GitOpsObjects(cluster);
const HR = 'helm.toolkit.fluxcd.io/v2';
const APP = 'argoproj.io/v1alpha1';

const config = (argocdNamespace: string) =>
  [
    'auth:\n  allowUnauthenticatedWebhook: true',
    'execution:\n  verifyTimeout: 30s',
    'rollback:\n  executionTimeout: 60s',
    `gitops:\n  argocd:\n    enabled: true\n    namespace: ${argocdNamespace}\n  flux:\n    enabled: true`,
  ].join('\n');

let argocd: string;
let live: Receiver;
let shadow: Receiver;
beforeAll(async () => {
  await g.install();
  argocd = await cluster.ns('argocd-helm');
  live = startReceiver(new KubeClient(cluster.kubeConfig()), config(argocd));
  shadow = startReceiver(new KubeClient(cluster.kubeConfig()), config(argocd), {});
}, 60_000);
afterAll(async () => {
  await live.destroy();
  await shadow.destroy();
});

/** How many revisions the release has (a refused rollback writes none). */
const rows = async (ns: string) => (await readHistory(<T>(path: string) => kube.send<T>({ method: 'GET', path }), ns, 'shop')).revisions.length;

const helmAlert = (namespace: string, release: string) =>
  payload([alert({ labels: { namespace, deployment: '', release, rollback_strategy: 'helm' }, startsAt: new Date().toISOString() })]);

/** Release `shop` in `ns` (revision 3 broken), its live Deployment labelled as a GitOps tool labels what it renders. */
async function labelledRelease(ns: string, labels: Record<string, string>): Promise<void> {
  await helm3.install(ns, 'shop', shopRelease());
  await kube.send({ method: 'PATCH', path: `/apis/apps/v1/namespaces/${ns}/deployments/shop`, patchType: 'merge', body: { metadata: { labels } } });
}

/** The release managed by a Flux HelmRelease in `fluxNs`, with helm-controller's labels on what it renders. */
async function fluxManagedRelease(ns: string, fluxNs: string): Promise<void> {
  await labelledRelease(ns, { 'helm.toolkit.fluxcd.io/name': 'shop', 'helm.toolkit.fluxcd.io/namespace': fluxNs });
  await g.create(HR, 'HelmRelease', 'helmreleases', fluxNs, 'shop', { releaseName: 'shop', targetNamespace: ns, chart: { spec: { chart: 'shop' } } });
}

describe('GitOps pause for the helm strategy', () => {
  it('dry-run lists the HelmRelease suspend before the release requests, and changes nothing', async () => {
    const [ns, fluxNs] = await Promise.all([cluster.ns('gitops-helm-dry'), cluster.ns('flux-helm-dry')]);
    await fluxManagedRelease(ns, fluxNs);
    const sim = await request(shadow.service.app).post('/api/v1/simulate').set('Authorization', `Bearer ${OPERATOR}`).send(helmAlert(ns, 'shop')).expect(200);
    const decision = sim.body.decisions[0] as { decision: string; plan: { method: string; path: string; body: unknown }[] };
    expect(decision.plan[0]).toMatchObject({ method: 'PATCH', body: { spec: { suspend: true } } });
    expect(decision.plan[0]!.path.split('?')[0]).toBe(`/apis/${HR}/namespaces/${fluxNs}/helmreleases/shop`);
    // Then the release's own requests (revision 4's Secret first).
    expect(decision.plan[1]!.path).toMatch(new RegExp(`^/api/v1/namespaces/${ns}/secrets`));
    expect((await g.get<{ spec: { suspend?: boolean } }>(HR, 'helmreleases', fluxNs, 'shop')).spec.suspend).toBeUndefined();
    expect(k.image(await k.read(ns, 'shop'))).toBe('app:broken');
  }, 90_000);

  it('suspends the Flux HelmRelease that manages the release before rolling it back', async () => {
    const [ns, fluxNs] = await Promise.all([cluster.ns('gitops-helm'), cluster.ns('flux-helm')]);
    await fluxManagedRelease(ns, fluxNs);
    const res = await request(live.service.app).post('/webhook').send(helmAlert(ns, 'shop')).expect(200);
    const d = res.body.decisions[0] as { decision: string; reason: string; rollbackId?: string };
    expect(d.decision).toBe('executed');
    const rb = await finished(live, d.rollbackId!);
    expect([rb.status, rb.steps.find((s) => s.name === 'failed')?.detail]).toEqual(['success', undefined]);
    expect(k.image(await k.read(ns, 'shop'))).toBe('app:v2');
    expect((await g.get<{ spec: { suspend?: boolean } }>(HR, 'helmreleases', fluxNs, 'shop')).spec.suspend).toBe(true);

    expect(rb.steps.filter((s) => s.name === 'gitops-paused').map((s) => s.detail)).toEqual([
      expect.stringMatching(new RegExp(`^pause Flux HelmRelease ${fluxNs}/shop: set spec\\.suspend to true.*Deployment ${ns}/shop`)),
    ]);
    // The suspend is the first request, before the release's revision 4 is opened.
    const requests = rb.steps.filter((s) => s.name === 'request').map((s) => s.request!.path.split('?')[0]);
    expect(requests[0]).toBe(`/apis/${HR}/namespaces/${fluxNs}/helmreleases/shop`);
    expect(requests[1]).toBe(`/api/v1/namespaces/${ns}/secrets`);
  }, 120_000);

  it('pauses the Argo CD Application that deploys the chart (tracking label, listed in its resources)', async () => {
    const ns = await cluster.ns('gitops-helm-argo');
    await labelledRelease(ns, { 'app.kubernetes.io/instance': 'shop-prod' });
    await g.create(APP, 'Application', 'applications', argocd, 'shop-prod', { syncPolicy: { automated: { selfHeal: true } } }, {
      status: { resources: [{ group: 'apps', version: 'v1', kind: 'Deployment', namespace: ns, name: 'shop' }] },
    });
    const res = await request(live.service.app).post('/webhook').send(helmAlert(ns, 'shop')).expect(200);
    const rb = await finished(live, (res.body.decisions[0] as { rollbackId: string }).rollbackId);
    expect(rb.status).toBe('success');
    expect((await g.get<{ spec: { syncPolicy: unknown } }>(APP, 'applications', argocd, 'shop-prod')).spec.syncPolicy).toEqual({});
    expect(rb.steps.find((s) => s.name === 'gitops-paused')?.detail).toMatch(/label app\.kubernetes\.io\/instance=shop-prod/);
    expect(rb.steps.find((s) => s.name === 'request')?.request?.path.split('?')[0]).toBe(`/apis/${APP}/namespaces/${argocd}/applications/shop-prod`);
  }, 120_000);

  it('refuses the rollback, writing nothing, when the receiver may not read the HelmRelease', async () => {
    const [ns, fluxNs] = await Promise.all([cluster.ns('gitops-helm-rbac'), cluster.ns('flux-helm-rbac')]);
    await fluxManagedRelease(ns, fluxNs);
    // A receiver that may edit the release's namespace, and nothing in Flux's.
    await bindRole(cluster, ns, 'receiver-edit', { kind: 'ClusterRole', name: 'edit' }, { kind: 'User', name: cluster.restrictedUser });
    const s = startReceiver(new KubeClient(cluster.kubeConfig(cluster.restrictedToken)), config(argocd));
    try {
      const res = await request(s.service.app).post('/webhook').send(helmAlert(ns, 'shop')).expect(200);
      const d = res.body.decisions[0] as { decision: string; reason: string; rollbackId?: string };
      expect(d.decision).toBe('refused');
      expect(d.reason).toContain(`GitOps pause not possible: cannot read Flux HelmRelease ${fluxNs}/shop: forbidden`);
      expect(d.rollbackId).toBeUndefined();
      expect(k.image(await k.read(ns, 'shop'))).toBe('app:broken');
      expect(await rows(ns)).toBe(3);
    } finally {
      await s.destroy();
    }
  }, 90_000);
});
