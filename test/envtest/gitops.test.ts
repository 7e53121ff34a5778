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
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT } from '../../src/cli/exit-codes.js';
import { runCli, startServe, type RunningService } from '../support/process.js';
import { connectCluster } from './connect.js';
import { FaultProxy } from './fault-proxy.js';
import { startRecordingServer, type RecordingServer } from '../prometheus/recording-server.js';
import { GitOpsObjects } from './gitops-objects.js';
import { bindRole } from './rbac.js';
import { finished, OPERATOR, startReceiver, type Receiver } from './receiver.js';
import { holdsFor, waitFor } from './wait.js';
import { Workloads } from './workloads.js';

const cluster = connectCluster();
const k = new Workloads(cluster);
const g = new GitOpsObjects(cluster);
const core = cluster.kubeConfig().makeApiClient(CoreV1Api);
const APP = 'argoproj.io/v1alpha1';
const KS = 'kustomize.toolkit.fluxcd.io/v1';
const HR = 'helm.toolkit.fluxcd.io/v2';
const GIT = 'source.toolkit.fluxcd.io/v1';
const AUTOMATED = { prune: true, selfHeal: true, allowEmpty: false };
const CLI_TOKEN = { ROLLBACK_OPERATOR_TOKEN: 'gitops-cli-operator' };

function config(argocdNamespace: string, resume = 'manual', extra = ''): string {
  return [
    'auth:\n  allowUnauthenticatedWebhook: true',
    'execution:\n  verifyTimeout: 20s',
    'rollback:\n  executionTimeout: 60s',
    `gitops:\n  argocd:\n    enabled: true\n    namespace: ${argocdNamespace}\n  flux:\n    enabled: true\n  resume: ${resume}\n  checkInterval: 1s`,
    extra,
  ].join('\n');
}

interface PauseView {
  id: string;
  status: string;
  object: { kind: string; name: string };
  before: unknown;
  resumedBy: string | null;
}

async function pauses(s: Receiver, status = 'paused'): Promise<PauseView[]> {
  return (await request(s.service.app).get(`/api/v1/gitops/pauses?status=${status}`).set('Authorization', `Bearer ${OPERATOR}`).expect(200)).body.pauses as PauseView[];
}

function resume(s: Receiver, id: string) {
  return request(s.service.app).post(`/api/v1/gitops/pauses/${id}/resume`).set('Authorization', `Bearer ${OPERATOR}`).send({ reason: 'fixed in git' });
}

function brokenRollout(ns: string, name: string, meta: { labels?: Record<string, string>; annotations?: Record<string, string> }): Promise<void> {
  return g.brokenRollout(k, ns, name, meta);
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

    // On record until resumed; an operator resumes: exactly what was removed comes back.
    const listed = (await pauses(svc)).filter((p) => p.id.startsWith(d.rollbackId!));
    expect(listed.map((p) => [p.object.name, p.before])).toEqual([
      ['shop', AUTOMATED],
      ['root', { selfHeal: true }],
    ]);
    const shopPause = listed.find((p) => p.object.name === 'shop')!;
    const resumed = await resume(svc, shopPause.id).expect(200);
    expect(resumed.body.pause).toMatchObject({ status: 'resumed', resumedBy: 'an operator via the API: fixed in git' });
    expect((await g.get<{ spec: { syncPolicy: unknown } }>(APP, 'applications', argocd, 'shop')).spec.syncPolicy).toEqual({ automated: AUTOMATED, syncOptions: ['CreateNamespace=true'] });
    expect((await resume(svc, shopPause.id).expect(409)).body.error).toMatch(/resumed already/);
    await waitFor(async () => (await k.events(ns, 'api')).some((e) => e.reason === 'GitOpsResumed' && e.message.includes('shop')), 10_000);

    // Someone turned the parent's sync back on differently meanwhile: not overwritten.
    await g.kube.send({ method: 'PATCH', patchType: 'merge', path: g.path(APP, 'applications', argocd, 'root'), body: { spec: { syncPolicy: { automated: { prune: true } } } } });
    const rootPause = listed.find((p) => p.object.name === 'root')!;
    expect((await resume(svc, rootPause.id).expect(409)).body.error).toMatch(/changed since the pause .*spec\.syncPolicy\.automated = \{"prune":true\}, expected null/);
    expect((await g.get<{ spec: { syncPolicy: unknown } }>(APP, 'applications', argocd, 'root')).spec.syncPolicy).toEqual({ automated: { prune: true } });
    expect((await pauses(svc)).map((p) => p.id)).toContain(rootPause.id);
    expect((await pauses(svc, 'resumed')).map((p) => p.id)).toContain(shopPause.id);
    await resume(svc, 'no-such-pause').expect(404);
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

describe('resume on source change', () => {
  let svc: Receiver;
  let hooks: RecordingServer;
  let argocd: string;

  beforeAll(async () => {
    argocd = await cluster.ns('argocd-src');
    hooks = await startRecordingServer();
    hooks.reply({ status: 200, body: 'ok' });
    svc = startReceiver(new KubeClient(cluster.kubeConfig()), config(argocd, 'onSourceChange', `notifications:\n  retry: { attempts: 1 }\n  webhook:\n    url: ${hooks.url}/hooks`));
  });
  afterAll(async () => {
    await svc.destroy();
    await hooks.close();
  });

  it('resumes a Flux Kustomization once its GitRepository has a new artifact, and an Application once its revision moved, saying so', async () => {
    const ns = await cluster.ns('flux-src');
    await g.create(GIT, 'GitRepository', 'gitrepositories', ns, 'repo', { url: 'https://example.com/repo.git' }, { status: { artifact: { revision: 'main@sha1:aaa' } } });
    await g.create(KS, 'Kustomization', 'kustomizations', ns, 'apps', { sourceRef: { kind: 'GitRepository', name: 'repo' }, path: './apps' });
    await brokenRollout(ns, 'api', { labels: { 'kustomize.toolkit.fluxcd.io/name': 'apps', 'kustomize.toolkit.fluxcd.io/namespace': ns } });
    await brokenRollout(ns, 'web', { annotations: { 'argocd.argoproj.io/tracking-id': `web:apps/Deployment:${ns}/web` } });
    await g.create(APP, 'Application', 'applications', argocd, 'web', { syncPolicy: { automated: { prune: false } } }, {
      status: { resources: [{ group: 'apps', kind: 'Deployment', namespace: ns, name: 'web' }], sync: { revision: 'c1' } },
    });
    for (const name of ['api', 'web']) expect((await finished(svc, (await webhook(svc, ns, name)).rollbackId!)).status).toBe('success');
    expect((await g.get<{ spec: { suspend?: boolean } }>(KS, 'kustomizations', ns, 'apps')).spec.suspend).toBe(true);
    expect((await g.get<{ spec: { syncPolicy: unknown } }>(APP, 'applications', argocd, 'web')).spec.syncPolicy).toEqual({});

    // Same revision: still paused through several checks (every second).
    await holdsFor(async () => (await g.get<{ spec: { suspend?: boolean } }>(KS, 'kustomizations', ns, 'apps')).spec.suspend === true, 3000, { description: 'Kustomization still suspended' });

    await g.setStatus(GIT, 'gitrepositories', ns, 'repo', { artifact: { revision: 'main@sha1:bbb' } });
    await g.setStatus(APP, 'applications', argocd, 'web', { sync: { revision: 'c2' } });
    await waitFor(async () => (await g.get<{ spec: { suspend?: boolean } }>(KS, 'kustomizations', ns, 'apps')).spec.suspend === undefined, 20_000, { description: 'Kustomization resumed' });
    await waitFor(async () => {
      const app = await g.get<{ spec: { syncPolicy: { automated?: unknown } } }>(APP, 'applications', argocd, 'web');
      return app.spec.syncPolicy.automated !== undefined ? app.spec.syncPolicy : undefined;
    }, 20_000, { description: 'Application resumed' }).then((policy) => expect(policy).toEqual({ automated: { prune: false } }));

    const resumed = (await pauses(svc, 'resumed')).map((p) => p.resumedBy);
    expect(resumed).toEqual(
      expect.arrayContaining([
        'the source moved on: status.artifact.revision "main@sha1:aaa" → "main@sha1:bbb"',
        'the source moved on: status.sync.revision "c1" → "c2"',
      ]),
    );
    await waitFor(async () => (await k.events(ns, 'api')).some((e) => e.reason === 'GitOpsResumed'), 10_000);
    const sent = await waitFor(async () => {
      const bodies = hooks.requests.map((r) => r.body).filter((b) => b.includes('gitops_resumed'));
      return bodies.length >= 2 ? bodies : undefined;
    }, 15_000, { description: 'two gitops_resumed notifications' });
    expect(sent.join('\n')).toContain(`Flux Kustomization ${ns}/apps`);
  }, 120_000);
});

describe('rollback-receiver gitops list | resume', () => {
  let dir: string;
  let svc: RunningService;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rr-gitops-'));
    cluster.writeKubeconfig(join(dir, 'kubeconfig'));
    writeFileSync(join(dir, 'config.yaml'), config(await cluster.ns('argocd-cli')));
    svc = await startServe({ ...CLI_TOKEN, KUBECONFIG: join(dir, 'kubeconfig'), ROLLBACK_DRY_RUN: 'false', ROLLBACK_STATE_DIR: join(dir, 'state'), ROLLBACK_CONFIG: join(dir, 'config.yaml') });
  }, 60_000);
  afterAll(async () => {
    await svc?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the pause a rollback made and resumes it; a second resume exits 4', async () => {
    const ns = await cluster.ns('gitops-cli');
    await g.create(HR, 'HelmRelease', 'helmreleases', ns, 'api', { chart: { spec: { chart: 'api' } } });
    await brokenRollout(ns, 'api', { labels: { 'helm.toolkit.fluxcd.io/name': 'api', 'helm.toolkit.fluxcd.io/namespace': ns } });
    const posted = await fetch(`${svc.url}/webhook`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(payload([alert({ labels: { namespace: ns, deployment: 'api' }, startsAt: new Date().toISOString() })])),
    });
    expect(((await posted.json()) as { decisions: { decision: string }[] }).decisions[0]!.decision).toBe('executed');
    await waitFor(async () => (await g.get<{ spec: { suspend?: boolean } }>(HR, 'helmreleases', ns, 'api')).spec.suspend === true, 30_000, { description: 'HelmRelease suspended' });

    const listed = await waitFor(async () => {
      const r = await runCli(['gitops', 'list', '--url', svc.url, '-o', 'json'], CLI_TOKEN);
      const mine = (JSON.parse(r.stdout) as { pauses: PauseView[] }).pauses.find((p) => p.object.kind === 'HelmRelease' && p.object.name === 'api');
      return mine;
    }, 60_000, { description: 'the pause listed' });
    const resumed = await runCli(['gitops', 'resume', listed.id, '--url', svc.url, '--reason', 'release fixed'], CLI_TOKEN);
    expect(resumed.code).toBe(EXIT.ok);
    expect(resumed.stdout).toContain(`resumed: an operator via the API: release fixed\n${listed.id}  HelmRelease ${ns}/api  spec.suspend was null`);
    expect((await g.get<{ spec: { suspend?: boolean } }>(HR, 'helmreleases', ns, 'api')).spec.suspend).toBeUndefined();
    const again = await runCli(['gitops', 'resume', listed.id, '--url', svc.url], CLI_TOKEN);
    expect(again.code).toBe(EXIT.refused);
    expect(again.stderr).toContain('resumed already');
  }, 180_000);
});

describe('without permission', () => {
  it('refuses the rollback before anything is written, naming the Application it may not read', async () => {
    const [ns, argocd] = await Promise.all([cluster.ns('gitops-rbac'), cluster.ns('argocd-rbac')]);
    await brokenRollout(ns, 'api', { annotations: { 'argocd.argoproj.io/tracking-id': `shop:apps/Deployment:${ns}/api` } });
    await argoApps(argocd, ns);
    // A ServiceAccount that may edit the workload's namespace, and nothing in the Argo CD namespace.
    await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'receiver' } } });
    const receiver = { kind: 'ServiceAccount', name: 'receiver', namespace: ns } as const;
    await bindRole(cluster, ns, 'receiver-edit', { kind: 'ClusterRole', name: 'edit' }, receiver);
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
      const rbac = cluster.kubeConfig().makeApiClient(RbacAuthorizationV1Api);
      await rbac.createNamespacedRole({ namespace: argocd, body: { metadata: { name: 'read-apps' }, rules: [{ apiGroups: ['argoproj.io'], resources: ['applications'], verbs: ['get'] }] } });
      await bindRole(cluster, argocd, 'read-apps', { kind: 'Role', name: 'read-apps' }, receiver);
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
