/**
 * The helm strategy through the receiver against the real kube-apiserver: releases written
 * as Helm 3 writes them (test/helm-release/fixture.ts, helm3.ts), rolled back by alerts and
 * by operators, the history afterwards read as `helm history` lists it.
 */
import { KubeConfig } from '@kubernetes/client-node';
import request from 'supertest';
import { historyRows, readHistory } from '../../src/execution/helm/history.js';
import { KubeClient } from '../../src/kube/client.js';
import type { KubeReader } from '../../src/execution/strategies/strategy.js';
import { alert, payload } from '../support/alerts.js';
import { cronJob, hpa, shopRelease as shop } from '../helm-release/fixture.js';
import { Helm3 } from '../helm-release/helm3.js';
import { connectCluster } from './connect.js';
import { FaultProxy, writeTo } from './fault-proxy.js';
import { finished, OPERATOR, startReceiver, type Receiver, type RollbackView } from './receiver.js';
import { waitFor } from './wait.js';
import { Workloads } from './workloads.js';

const cluster = connectCluster();
const kube = new KubeClient(cluster.kubeConfig());
const helm3 = new Helm3(kube);
const k = new Workloads(cluster);
const read: KubeReader = <T>(path: string) => kube.send<T>({ method: 'GET', path });
const YAML = 'auth:\n  allowUnauthenticatedWebhook: true\nexecution:\n  verifyTimeout: 30s\nrollback:\n  executionTimeout: 60s\n';

const rows = async (ns: string, release: string) =>
  historyRows(await readHistory(read, ns, release)).map(({ revision, status, description }) => ({ revision, status, description }));

let live: Receiver;
let shadow: Receiver;
beforeAll(() => {
  live = startReceiver(new KubeClient(cluster.kubeConfig()), YAML);
  shadow = startReceiver(new KubeClient(cluster.kubeConfig()), YAML, {});
});
afterAll(async () => {
  await live.destroy();
  await shadow.destroy();
});

async function alertFor(s: Receiver, namespace: string, release: string) {
  const body = payload([alert({ labels: { namespace, deployment: '', release, rollback_strategy: 'helm' }, startsAt: new Date().toISOString() })]);
  const res = await request(s.service.app).post('/webhook').send(body).expect(200);
  return res.body.decisions[0] as { decision: string; reason: string; rollbackId?: string };
}

async function operator(body: Record<string, unknown>, status = 202) {
  const res = await request(live.service.app).post('/api/v1/rollbacks').set('Authorization', `Bearer ${OPERATOR}`).send({ strategy: 'helm', reason: 'test', ...body });
  expect([res.status, res.body]).toEqual([status, expect.anything()]);
  return res.body as { rollback?: { id: string }; id?: string; reason?: string; error?: string; plan?: { method: string; path: string; description: string }[] };
}

describe('helm strategy', () => {
  it('an alert rolls a Helm-managed Deployment back to the newest good revision; history reads as `helm history` lists it', async () => {
    const ns = await cluster.ns('helm-alert');
    await helm3.install(ns, 'shop', shop());
    const d = await alertFor(live, ns, 'shop');
    expect(d).toMatchObject({ decision: 'executed' });
    expect(d.reason).toContain('revision 3');
    expect(d.reason).toContain('to revision 2');
    const rb = await finished(live, d.rollbackId!);
    expect([rb.status, rb.steps.find((s) => s.name === 'failed')?.detail]).toEqual(['success', undefined]);
    expect(rb.steps.filter((s) => s.name === 'note').map((s) => s.detail)).toContain('Helm hooks are not run (the destination has no rollback hooks)');
    // Secret data (the release's values) is recorded by size only.
    const open = rb.steps.find((s) => s.name === 'request' && s.request?.method === 'POST')!;
    expect(JSON.stringify(open.request!.body)).toMatch(/<redacted: \d+ characters>/);

    expect(k.image(await k.read(ns, 'shop'))).toBe('app:v2');
    // kubectl describe deployment shop tells the story.
    const events = await waitFor(async () => {
      const e = await k.events(ns, 'shop');
      return e.some((x) => x.reason === 'RollbackSucceeded') ? e : undefined;
    }, 10_000);
    expect(events.map((e) => e.reason)).toEqual(expect.arrayContaining(['RollbackStarted', 'RollbackSucceeded']));
    expect((await k.core.readNamespacedConfigMap({ namespace: ns, name: 'shop-config' })).data).toEqual({ v: '2' });
    await expect(k.core.readNamespacedConfigMap({ namespace: ns, name: 'shop-tmp' })).rejects.toMatchObject({ code: 404 });
    expect(await rows(ns, 'shop')).toEqual([
      { revision: 1, status: 'superseded', description: 'Install complete' },
      { revision: 2, status: 'superseded', description: 'Upgrade complete' },
      { revision: 3, status: 'superseded', description: 'Upgrade complete' },
      { revision: 4, status: 'deployed', description: 'Rollback to 2' },
    ]);

    // Revision 3's content is quarantined by content: an operator may still name it, the receiver never goes there by itself.
    const q = await request(live.service.app).get('/api/v1/quarantine').set('Authorization', `Bearer ${OPERATOR}`);
    expect(JSON.stringify(q.body)).toContain('revision 3');
  }, 120_000);

  it('an operator names a revision (any status, as `helm rollback`); 0 means the current one − 1', async () => {
    const ns = await cluster.ns('helm-named');
    await helm3.install(ns, 'shop', shop());
    const first = await operator({ namespace: ns, name: 'shop', toRevision: 1 });
    const id = first.rollback?.id ?? first.id!;
    expect((await finished(live, id)).status).toBe('success');
    expect(k.image(await k.read(ns, 'shop'))).toBe('app:v1');
    // 0: current (4) − 1 = revision 3, the broken one: an operator may name it.
    const second = await operator({ namespace: ns, name: 'shop', toRevision: 0, dryRun: true }, 200);
    expect(JSON.stringify(second)).toContain('Rollback to 3');
    expect(await rows(ns, 'shop')).toEqual([
      { revision: 1, status: 'superseded', description: 'Install complete' },
      { revision: 2, status: 'superseded', description: 'Upgrade complete' },
      { revision: 3, status: 'superseded', description: 'Upgrade complete' },
      { revision: 4, status: 'deployed', description: 'Rollback to 1' },
    ]);
  }, 120_000);

  it('never overwrites the replicas an HPA set on a Deployment of the release', async () => {
    const ns = await cluster.ns('helm-hpa');
    const revisions = shop().map((r) => ({ ...r, manifest: r.manifest + hpa('shop', 2, 10) }));
    await helm3.install(ns, 'shop', revisions);
    // What the HPA controller does: scale through the scale subresource.
    await kube.send({ method: 'PATCH', path: `/apis/apps/v1/namespaces/${ns}/deployments/shop/scale?fieldManager=kube-controller-manager`, patchType: 'merge', body: { spec: { replicas: 5 } } });
    const d = await alertFor(live, ns, 'shop');
    expect(d).toMatchObject({ decision: 'executed' });
    const rb = await finished(live, d.rollbackId!);
    expect(rb.status).toBe('success');
    expect(rb.steps.filter((s) => s.name === 'note').map((s) => s.detail)).toContain(`Deployment ${ns}/shop: spec.replicas is left to HorizontalPodAutoscaler shop`);
    const after = await k.read(ns, 'shop');
    expect([k.image(after), after.spec?.replicas]).toEqual(['app:v2', 5]);
  }, 90_000);

  it('refuses a release whose latest revision is pending, and one holding unsupported kinds (named)', async () => {
    const ns = await cluster.ns('helm-refuse');
    const pending = shop('busy');
    pending[2] = { ...pending[2]!, status: 'pending-upgrade' };
    await helm3.install(ns, 'busy', pending);
    const busy = await alertFor(live, ns, 'busy');
    expect(busy).toMatchObject({ decision: 'refused' });
    expect(busy.reason).toContain('revision 3 is pending-upgrade: another operation is in progress');

    const odd = shop('odd');
    odd[2] = { ...odd[2]!, manifest: odd[2]!.manifest + cronJob('odd-job') };
    await helm3.install(ns, 'odd', odd, [1, 2]);
    const refused = await alertFor(live, ns, 'odd');
    expect(refused).toMatchObject({ decision: 'refused' });
    expect(refused.reason).toContain('cannot be rolled back: unsupported kinds: CronJob');
    expect((await rows(ns, 'odd')).map((r) => r.status)).toEqual(['superseded', 'superseded', 'deployed']);
  }, 60_000);

  it('dry-run lists the exact requests a live run sends, and changes nothing', async () => {
    const ns = await cluster.ns('helm-dry');
    await helm3.install(ns, 'shop', shop());
    const d = await alertFor(shadow, ns, 'shop');
    expect(d).toMatchObject({ decision: 'dry_run' });
    const rb = await waitFor(async () => {
      const r = (await request(shadow.service.app).get(`/api/v1/rollbacks/${d.rollbackId}`).set('Authorization', `Bearer ${OPERATOR}`)).body as RollbackView;
      return r.steps.some((x) => x.name === 'planned-request') ? r : undefined;
    }, 15_000);
    const requests = (steps: RollbackView['steps'], name: string) => steps.filter((s) => s.name === name).map((s) => `${s.request!.method} ${s.request!.path.split('?')[0]}`);
    const planned = requests(rb.steps, 'planned-request');
    expect(planned).toEqual([
      `POST /api/v1/namespaces/${ns}/secrets`,
      `PATCH /api/v1/namespaces/${ns}/configmaps/shop-config`,
      `PATCH /api/v1/namespaces/${ns}/configmaps/shop-config`,
      `PATCH /api/v1/namespaces/${ns}/configmaps/shop-extra`,
      `PATCH /api/v1/namespaces/${ns}/configmaps/shop-extra`,
      `PATCH /api/v1/namespaces/${ns}/services/shop`,
      `PATCH /api/v1/namespaces/${ns}/services/shop`,
      `PATCH /apis/apps/v1/namespaces/${ns}/deployments/shop`,
      `PATCH /apis/apps/v1/namespaces/${ns}/deployments/shop`,
      `DELETE /api/v1/namespaces/${ns}/configmaps/shop-tmp`,
      `PATCH /api/v1/namespaces/${ns}/secrets/sh.helm.release.v1.shop.v3`,
      `PATCH /api/v1/namespaces/${ns}/secrets/sh.helm.release.v1.shop.v4`,
    ]);
    expect(rb.steps.filter((s) => s.name === 'note').map((s) => s.detail)).toContain('Helm hooks are not run (the destination has no rollback hooks)');
    expect(await rows(ns, 'shop')).toHaveLength(3);
    expect(k.image(await k.read(ns, 'shop'))).toBe('app:broken');

    const l = await alertFor(live, ns, 'shop');
    const sent = await finished(live, l.rollbackId!);
    expect(sent.status).toBe('success');
    expect(requests(sent.steps, 'request')).toEqual(planned);
  }, 90_000);

  it('a write the API server rejects marks the new revision failed with Helm\'s wording', async () => {
    const ns = await cluster.ns('helm-fail');
    const revisions = shop();
    // Revision 2's Service asks for a port the API server rejects: the apply fails after revision 4 was opened.
    revisions[1] = { ...revisions[1]!, manifest: revisions[1]!.manifest.replace('port: 80', 'port: 99999') };
    await helm3.install(ns, 'shop', revisions, [1, 3]);
    const d = await alertFor(live, ns, 'shop');
    expect(d).toMatchObject({ decision: 'executed' });
    expect((await finished(live, d.rollbackId!)).status).toBe('failed');
    const after = await rows(ns, 'shop');
    expect(after.slice(2).map(({ revision, status }) => ({ revision, status }))).toEqual([
      { revision: 3, status: 'superseded' },
      { revision: 4, status: 'failed' },
    ]);
    expect(after[3]!.description).toMatch(/^Rollback "shop" failed: .*99999/);
  }, 60_000);
});

describe('helm strategy: ambiguous writes never re-plan', () => {
  let proxy: FaultProxy;
  let viaProxy: Receiver;
  beforeAll(async () => {
    proxy = new FaultProxy(cluster.server, cluster.caData);
    await proxy.start();
    const kc = new KubeConfig();
    kc.loadFromString(proxy.kubeconfig(cluster.adminToken));
    viaProxy = startReceiver(new KubeClient(kc), YAML);
  });
  afterAll(async () => {
    await viaProxy.destroy();
    await proxy.stop();
  });

  it.each([
    ['the new revision is created, then the answer is a 504', (ns: string) => proxy.commitThen504(writeTo('POST', `/namespaces/${ns}/secrets`)), 'POST', 'secrets'],
    ['the new revision is marked deployed, then the connection drops', (ns: string) => proxy.commitThenDrop(writeTo('PATCH', `/namespaces/${ns}/secrets/sh.helm.release.v1.shop.v4`)), 'PATCH', 'secrets/sh.helm.release.v1.shop.v4'],
  ])('%s: the release Secrets show the step done, nothing is written twice', async (_what, arm, method, suffix) => {
    const ns = await cluster.ns('helm-ambiguous');
    await helm3.install(ns, 'shop', shop());
    arm(ns);
    const d = await alertFor(viaProxy, ns, 'shop');
    expect(d).toMatchObject({ decision: 'executed' });
    const rb = await finished(viaProxy, d.rollbackId!);
    expect(rb.status).toBe('success');
    expect(rb.steps.map((x) => x.name)).toEqual(expect.arrayContaining(['uncertain', 'confirmed']));
    expect(proxy.writes(method, `/namespaces/${ns}/${suffix}`)).toHaveLength(1);
    expect(await rows(ns, 'shop')).toEqual([
      { revision: 1, status: 'superseded', description: 'Install complete' },
      { revision: 2, status: 'superseded', description: 'Upgrade complete' },
      { revision: 3, status: 'superseded', description: 'Upgrade complete' },
      { revision: 4, status: 'deployed', description: 'Rollback to 2' },
    ]);
    expect(k.image(await k.read(ns, 'shop'))).toBe('app:v2');
  }, 90_000);
});
