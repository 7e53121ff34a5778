/**
 * GitOps pause against real Argo CD and Flux objects in the kube-apiserver: the rollback
 * pauses reconciliation first (the proxy sees the pause write before the workload write),
 * pins what it removed, lists the pause in dry-run plans, and is refused when the receiver
 * may not read or patch the GitOps objects.
 */
import { CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { KubeConfig } from '@kubernetes/client-node';
import request from 'supertest';
import { KubeClient } from '../../src/kube/client.js';
import { alert, payload } from '../support/alerts.js';
import { connectCluster } from './connect.js';
import { FaultProxy } from './fault-proxy.js';
import { GitOpsObjects } from './gitops-objects.js';
import { finished, OPERATOR, startReceiver, type Receiver } from './receiver.js';
import { waitFor } from './wait.js';
import { OPT_IN, Workloads } from './workloads.js';

const cluster = connectCluster();
const k = new Workloads(cluster);
const g = new GitOpsObjects(cluster);
const core = cluster.kubeConfig().makeApiClient(CoreV1Api);
const APP = 'argoproj.io/v1alpha1';
const KS = 'kustomize.toolkit.fluxcd.io/v1';
const HR = 'helm.toolkit.fluxcd.io/v2';
const GIT = 'source.toolkit.fluxcd.io/v1';
const AUTOMATED = { prune: true, selfHeal: true, allowEmpty: false };

function config(argocdNamespace: string, resume = 'manual'): string {
  return [
    'auth:\n  allowUnauthenticatedWebhook: true',
    'execution:\n  verifyTimeout: 20s',
    'rollback:\n  executionTimeout: 60s',
    `gitops:\n  argocd:\n    enabled: true\n    namespace: ${argocdNamespace}\n  flux:\n    enabled: true\n  resume: ${resume}\n  checkInterval: 1s`,
  ].join('\n');
}

/** A Deployment whose latest revision is broken, with GitOps metadata on it. */
async function brokenRollout(ns: string, name: string, meta: { labels?: Record<string, string>; annotations?: Record<string, string> }): Promise<void> {
  await k.deployment(ns, name, 'app:v1', { annotations: { ...OPT_IN, ...meta.annotations } });
  if (meta.labels) {
    await g.kube.send({ method: 'PATCH', patchType: 'merge', path: `/apis/apps/v1/namespaces/${ns}/deployments/${name}`, body: { metadata: { labels: meta.labels } } });
  }
  await k.available(ns, name);
  await k.setImage(ns, name, 'app:broken');
  await k.revision(ns, name, 2);
  await new Promise((r) => setTimeout(r, 1100));
}

async function webhook(s: Receiver, ns: string, name: string) {
  const body = payload([alert({ labels: { namespace: ns, deployment: name }, startsAt: new Date().toISOString() })]);
  const res = await request(s.service.app).post('/webhook').send(body).expect(200);
  return res.body.decisions[0] as { decision: string; reason: string; rollbackId?: string };
}

/** An Argo CD app of apps: `root` (self-heal) manages Application `shop`, which manages Deployment ns/api. */
async function argoApps(argocd: string, ns: string): Promise<void> {
  await g.create(APP, 'Application', 'applications', argocd, 'root', { syncPolicy: { automated: { selfHeal: true } } }, {
    status: { resources: [{ group: 'argoproj.io', kind: 'Application', namespace: argocd, name: 'shop' }], sync: { revision: 'r1' } },
  });
  await g.create(APP, 'Application', 'applications', argocd, 'shop', { source: { targetRevision: 'main' }, syncPolicy: { automated: AUTOMATED, syncOptions: ['CreateNamespace=true'] } }, {
    annotations: { 'argocd.argoproj.io/tracking-id': `root:argoproj.io/Application:${argocd}/shop` },
    status: { resources: [{ group: 'apps', version: 'v1', kind: 'Deployment', namespace: ns, name: 'api' }], sync: { revision: 'c0ffee' } },
  });
}

beforeAll(async () => {
  await g.install();
}, 60_000);

describe('Argo CD', () => {
  let proxy: FaultProxy;
  let svc: Receiver;
  let argocd: string;

  beforeAll(async () => {
    argocd = await cluster.ns('argocd');
    proxy = new FaultProxy(cluster.server, cluster.caData);
    await proxy.start();
    const kc = new KubeConfig();
    kc.loadFromString(proxy.kubeconfig(cluster.adminToken));
    svc = startReceiver(new KubeClient(kc), config(argocd));
  });
  afterAll(async () => {
    await svc.destroy();
    await proxy.stop();
  });

  it('pauses the Application and its self-healing parent before the rollback, and pins what it removed', async () => {
    const ns = await cluster.ns('argo-pause');
    await brokenRollout(ns, 'api', { annotations: { 'argocd.argoproj.io/tracking-id': `shop:apps/Deployment:${ns}/api` } });
    await argoApps(argocd, ns);

    const d = await webhook(svc, ns, 'api');
    expect(d.decision).toBe('executed');
    const rb = await finished(svc, d.rollbackId!);
    expect(rb.status).toBe('success');
    expect(k.image(await k.available(ns, 'api'))).toBe('app:v1');

    const shop = await g.get<{ spec: { syncPolicy: Record<string, unknown> } }>(APP, 'applications', argocd, 'shop');
    const root = await g.get<{ spec: { syncPolicy: Record<string, unknown> } }>(APP, 'applications', argocd, 'root');
    expect(shop.spec.syncPolicy).toEqual({ syncOptions: ['CreateNamespace=true'] });
    expect(root.spec.syncPolicy).toEqual({});

    // Order: the parent, then the Application, then the workload.
    const writes = proxy.seen.filter((r) => r.method === 'PATCH' && r.status === 200).map((r) => r.path.split('?')[0]);
    expect(writes).toEqual([
      `/apis/${APP}/namespaces/${argocd}/applications/root`,
      `/apis/${APP}/namespaces/${argocd}/applications/shop`,
      `/apis/apps/v1/namespaces/${ns}/deployments/api`,
    ]);
    expect(rb.steps.filter((s) => s.name === 'gitops-paused').map((s) => s.detail)).toEqual([
      expect.stringMatching(/^pause Argo CD Application .*\/root: remove spec\.syncPolicy\.automated \(\{"selfHeal":true\}\)/),
      expect.stringMatching(/^pause Argo CD Application .*\/shop: remove spec\.syncPolicy\.automated \(\{"allowEmpty":false,"prune":true,"selfHeal":true\}\)/),
    ]);
    const events = await waitFor(async () => {
      const e = await k.events(ns, 'api');
      return e.filter((x) => x.reason === 'GitOpsPaused').length === 2 ? e : undefined;
    }, 10_000);
    expect(events.find((e) => e.reason === 'GitOpsPaused')?.message).toContain(d.rollbackId!);
  }, 90_000);

  it('the tracking label counts only when the Application lists the object (Helm sets the label too)', async () => {
    const ns = await cluster.ns('argo-label');
    await brokenRollout(ns, 'web', { labels: { 'app.kubernetes.io/instance': 'unlisted' } });
    await brokenRollout(ns, 'shop', { labels: { 'app.kubernetes.io/instance': 'listed' } });
    await g.create(APP, 'Application', 'applications', argocd, 'unlisted', { syncPolicy: { automated: AUTOMATED } }, { status: { resources: [] } });
    await g.create(APP, 'Application', 'applications', argocd, 'listed', { syncPolicy: { automated: AUTOMATED } }, {
      status: { resources: [{ group: 'apps', kind: 'Deployment', namespace: ns, name: 'shop' }] },
    });
    const unlisted = await finished(svc, (await webhook(svc, ns, 'web')).rollbackId!);
    expect(unlisted.status).toBe('success');
    expect(unlisted.steps.some((s) => s.name === 'gitops-paused')).toBe(false);
    expect((await g.get<{ spec: { syncPolicy: unknown } }>(APP, 'applications', argocd, 'unlisted')).spec.syncPolicy).toEqual({ automated: AUTOMATED });
    const listed = await finished(svc, (await webhook(svc, ns, 'shop')).rollbackId!);
    expect(listed.steps.find((s) => s.name === 'gitops-paused')?.detail).toMatch(/label app\.kubernetes\.io\/instance=listed/);
    expect((await g.get<{ spec: { syncPolicy: unknown } }>(APP, 'applications', argocd, 'listed')).spec.syncPolicy).toEqual({});
  }, 90_000);

  it('dry-run lists the pause requests before the rollback request, and changes nothing', async () => {
    const ns = await cluster.ns('argo-dry');
    const argo = await cluster.ns('argocd-dry');
    await brokenRollout(ns, 'api', { annotations: { 'argocd.argoproj.io/tracking-id': `shop:apps/Deployment:${ns}/api` } });
    await argoApps(argo, ns);
    const dry = startReceiver(new KubeClient(cluster.kubeConfig()), config(argo), {});
    try {
      const body = payload([alert({ labels: { namespace: ns, deployment: 'api' }, startsAt: new Date().toISOString() })]);
      const sim = await request(dry.service.app).post('/api/v1/simulate').set('Authorization', `Bearer ${OPERATOR}`).send(body).expect(200);
      const plan = sim.body.decisions[0].plan as { method: string; path: string; body: unknown }[];
      expect(plan.map((p) => `${p.method} ${p.path.split('?')[0]}`)).toEqual([
        `PATCH /apis/${APP}/namespaces/${argo}/applications/root`,
        `PATCH /apis/${APP}/namespaces/${argo}/applications/shop`,
        `PATCH /apis/apps/v1/namespaces/${ns}/deployments/api`,
      ]);
      expect(plan[1]!.body).toEqual({ spec: { syncPolicy: { automated: null } } });
      expect((await g.get<{ spec: { syncPolicy: unknown } }>(APP, 'applications', argo, 'shop')).spec.syncPolicy).toMatchObject({ automated: AUTOMATED });
    } finally {
      await dry.destroy();
    }
  }, 90_000);
});

describe('Flux', () => {
  let svc: Receiver;

  beforeAll(async () => {
    svc = startReceiver(new KubeClient(cluster.kubeConfig()), config(await cluster.ns('argocd-unused')));
  });
  afterAll(async () => {
    await svc.destroy();
  });

  it('suspends the Kustomization and the HelmRelease that manage the workloads', async () => {
    const ns = await cluster.ns('flux');
    await g.create(GIT, 'GitRepository', 'gitrepositories', ns, 'repo', { url: 'https://example.com/repo.git' }, { status: { artifact: { revision: 'main@sha1:aaa' } } });
    await g.create(KS, 'Kustomization', 'kustomizations', ns, 'apps', { sourceRef: { kind: 'GitRepository', name: 'repo' }, path: './apps', prune: true });
    await g.create(HR, 'HelmRelease', 'helmreleases', ns, 'web', { suspend: false, chart: { spec: { chart: 'web', sourceRef: { kind: 'GitRepository', name: 'repo' } } } });
    await brokenRollout(ns, 'api', { labels: { 'kustomize.toolkit.fluxcd.io/name': 'apps', 'kustomize.toolkit.fluxcd.io/namespace': ns } });
    await brokenRollout(ns, 'web', { labels: { 'helm.toolkit.fluxcd.io/name': 'web', 'helm.toolkit.fluxcd.io/namespace': ns } });

    for (const [name, apiVersion, plural, obj] of [
      ['api', KS, 'kustomizations', 'apps'],
      ['web', HR, 'helmreleases', 'web'],
    ] as const) {
      const d = await webhook(svc, ns, name);
      expect(d.decision).toBe('executed');
      const rb = await finished(svc, d.rollbackId!);
      expect(rb.status).toBe('success');
      expect((await g.get<{ spec: { suspend?: boolean } }>(apiVersion, plural, ns, obj)).spec.suspend).toBe(true);
      const paused = rb.steps.find((s) => s.name === 'gitops-paused');
      expect(paused?.detail).toMatch(new RegExp(`^pause Flux \\w+ ${ns}/${obj}: set spec\\.suspend to true`));
      // The pause came first.
      const requests = rb.steps.filter((s) => s.name === 'request').map((s) => s.request!.path.split('?')[0]);
      expect(requests[0]).toBe(`/apis/${apiVersion}/namespaces/${ns}/${plural}/${obj}`);
      expect(requests[1]).toBe(`/apis/apps/v1/namespaces/${ns}/deployments/${name}`);
    }
  }, 120_000);
});

describe('without permission', () => {
  it('refuses the rollback before anything is written, naming the Application it may not read', async () => {
    const [ns, argocd] = await Promise.all([cluster.ns('gitops-rbac'), cluster.ns('argocd-rbac')]);
    await brokenRollout(ns, 'api', { annotations: { 'argocd.argoproj.io/tracking-id': `shop:apps/Deployment:${ns}/api` } });
    await argoApps(argocd, ns);
    // A ServiceAccount that may edit the workload's namespace, and nothing in the Argo CD namespace.
    await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'receiver' } } });
    const rbac = cluster.kubeConfig().makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'receiver-edit' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
        subjects: [{ kind: 'ServiceAccount', name: 'receiver', namespace: ns }],
      },
    });
    const secretName = await waitFor(async () => (await core.readNamespacedServiceAccount({ name: 'receiver', namespace: ns })).secrets?.[0]?.name, 30_000);
    const token = Buffer.from((await core.readNamespacedSecret({ name: secretName, namespace: ns })).data!.token!, 'base64').toString('utf8');
    const s = startReceiver(new KubeClient(cluster.kubeConfig(token)), config(argocd));
    try {
      const d = await webhook(s, ns, 'api');
      expect(d.decision).toBe('refused');
      expect(d.reason).toMatch(new RegExp(`GitOps pause not possible: cannot read Argo CD Application ${argocd}/shop: forbidden`));
      expect(d.rollbackId).toBeUndefined();
      expect(k.image(await k.read(ns, 'api'))).toBe('app:broken');

      // May read, may not patch: refused as well.
      await rbac.createNamespacedRole({ namespace: argocd, body: { metadata: { name: 'read-apps' }, rules: [{ apiGroups: ['argoproj.io'], resources: ['applications'], verbs: ['get'] }] } });
      await rbac.createNamespacedRoleBinding({
        namespace: argocd,
        body: { metadata: { name: 'read-apps' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-apps' }, subjects: [{ kind: 'ServiceAccount', name: 'receiver', namespace: ns }] },
      });
      const again = await waitFor(async () => {
        const r = await webhook(s, ns, 'api');
        return /may not patch/.test(r.reason) ? r : undefined;
      }, 15_000);
      expect(again.decision).toBe('refused');
      expect(again.reason).toMatch(new RegExp(`the receiver may not patch Argo CD Application ${argocd}/root`));
      expect(k.image(await k.read(ns, 'api'))).toBe('app:broken');
    } finally {
      await s.destroy();
    }
  }, 90_000);
});
