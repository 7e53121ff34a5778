/**
 * Helm rollbacks through Helm's release storage against the real kube-apiserver: releases
 * written as Helm 3 writes them, plans applied through KubeClient, the result read back
 * both through the module and with Helm's own decoding done by hand.
 */
import { KubeApiError, KubeClient } from '../../src/kube/client.js';
import { hpaApiVersion, readRestoredCapacity } from '../../src/execution/capacity.js';
import { automaticDestination, contentId, operatorDestination } from '../../src/execution/helm/destination.js';
import { historyRows, readHistory, type ReleaseHistory } from '../../src/execution/helm/history.js';
import { readRollbackState } from '../../src/execution/helm/live-objects.js';
import { planRollback, type RollbackPlan } from '../../src/execution/helm/rollback-plan.js';
import type { StoredRevision } from '../../src/execution/helm/release.js';
import type { KubeReader } from '../../src/execution/strategies/strategy.js';
import { connectCluster } from '../envtest/connect.js';
import { configMap, cronJob, decodeSecretData, deployment, hpa, service, type FixtureRevision } from './fixture.js';
import { Helm3 } from './helm3.js';
import { runPlan } from './run-plan.js';

const cluster = connectCluster();
const kube = new KubeClient(cluster.kubeConfig());
const helm3 = new Helm3(kube);
const read: KubeReader = <T>(path: string) => kube.send<T>({ method: 'GET', path });
const NOW = new Date('2024-06-01T12:00:00.000Z');

const PRE_ROLLBACK_HOOK = { name: 'shop-migrate', kind: 'Job', path: 'shop/templates/migrate.yaml', manifest: 'kind: Job', events: ['pre-rollback'], last_run: { started_at: '', completed_at: '', phase: '' }, weight: 0 };

/** Three revisions: 1 and 2 good, 3 (deployed) broken; objects come and go between them. */
const SHOP: FixtureRevision[] = [
  {
    version: 1,
    status: 'superseded',
    description: 'Install complete',
    appVersion: '1.0.0',
    plain: true, // stored before Helm compressed releases
    manifest: configMap('shop-config', { color: 'blue' }) + configMap('shop-legacy', { mode: 'old' }) + service('shop') + deployment('shop', 'app:v1', { A: '1' }),
  },
  {
    version: 2,
    status: 'superseded',
    description: 'Upgrade complete',
    appVersion: '2.0.0',
    hooks: [PRE_ROLLBACK_HOOK],
    manifest: configMap('shop-config', { color: 'green' }) + configMap('shop-feature', { flag: 'on' }) + service('shop') + deployment('shop', 'app:v2', { A: '1', B: '2' }),
  },
  {
    version: 3,
    status: 'deployed',
    description: 'Upgrade complete',
    appVersion: '3.0.0',
    manifest:
      configMap('shop-config', { color: 'red' }) +
      configMap('shop-feature', { flag: 'on' }) +
      configMap('shop-cache', { warm: 'yes' }, { 'helm.sh/resource-policy': 'keep' }) +
      configMap('shop-tmp', { scratch: 'yes' }) +
      service('shop') +
      deployment('shop', 'app:broken', { A: '1', B: '2', C: '3' }),
  },
];

/** What `helm history shop` lists after rolling SHOP back once. */
const shopRowsAfterRollbackTo = (destination: number) => [
  { revision: 1, status: 'superseded', description: 'Install complete' },
  { revision: 2, status: 'superseded', description: 'Upgrade complete' },
  { revision: 3, status: 'superseded', description: 'Upgrade complete' },
  { revision: 4, status: 'deployed', description: `Rollback to ${destination}` },
];

async function plan(history: ReleaseHistory, destination: StoredRevision | string): Promise<RollbackPlan | string> {
  if (typeof destination === 'string') return destination;
  const state = await readRollbackState(read, history, destination.release.version);
  return planRollback({ history, destination: destination.release.version, ...state, now: NOW });
}

function planned(p: RollbackPlan | string): RollbackPlan {
  if (typeof p === 'string') throw new Error(`expected a plan, got: ${p}`);
  return p;
}

async function get<T = Record<string, unknown>>(path: string): Promise<T | undefined> {
  try {
    return await kube.send<T>({ method: 'GET', path });
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 404) return undefined;
    throw err;
  }
}

interface DeploymentView {
  spec: { replicas: number; template: { spec: { containers: { image: string; env?: { name: string; value: string }[] }[] } } };
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
}

const deploymentOf = (ns: string, name: string) => get<DeploymentView>(`/apis/apps/v1/namespaces/${ns}/deployments/${name}`);
const configMapOf = (ns: string, name: string) => get<{ data: Record<string, string> }>(`/api/v1/namespaces/${ns}/configmaps/${name}`);
const rows = async (ns: string, release: string) =>
  historyRows(await readHistory(read, ns, release)).map(({ revision, status, description }) => ({ revision, status, description }));

describe('helm rollback through the release storage', () => {
  it('rolls back automatically to the newest revision that is not bad, adding, deleting and keeping objects as Helm does', async () => {
    const ns = await cluster.ns('helm-auto');
    await helm3.install(ns, 'shop', SHOP);
    const history = await readHistory(read, ns, 'shop');
    expect(history.undecodable).toEqual([]);
    const bad = new Set([contentId(history.revisions[1]!)]); // revision 2 was rolled away from before
    const p = planned(await plan(history, automaticDestination(history, (id) => bad.has(id))));
    expect(p).toMatchObject({ current: 3, destination: 1, revision: 4 });
    expect(p.notes).toContain('Helm hooks are not run (the destination has no rollback hooks)');

    expect(await runPlan(kube, p)).toBeUndefined();

    const d = (await deploymentOf(ns, 'shop'))!;
    expect(d.spec.template.spec.containers[0]!.image).toBe('app:v1');
    // B and C came with revisions 2 and 3 through Helm 3's client-side writes: the handover lets the apply remove them.
    expect(d.spec.template.spec.containers[0]!.env).toEqual([{ name: 'A', value: '1' }]);
    expect(d.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('Helm');
    expect(d.metadata.annotations?.['meta.helm.sh/release-name']).toBe('shop');
    expect((await configMapOf(ns, 'shop-config'))?.data).toEqual({ color: 'blue' });
    expect((await configMapOf(ns, 'shop-legacy'))?.data).toEqual({ mode: 'old' }); // added back
    expect(await configMapOf(ns, 'shop-feature')).toBeUndefined(); // removed
    expect(await configMapOf(ns, 'shop-tmp')).toBeUndefined(); // removed
    expect((await configMapOf(ns, 'shop-cache'))?.data).toEqual({ warm: 'yes' }); // helm.sh/resource-policy: keep

    expect(await rows(ns, 'shop')).toEqual(shopRowsAfterRollbackTo(1));
  });

  it('writes the new revision as Helm stores releases (read back without the module)', async () => {
    const ns = await cluster.ns('helm-storage');
    await helm3.install(ns, 'shop', SHOP);
    const history = await readHistory(read, ns, 'shop');
    expect(await runPlan(kube, planned(await plan(history, operatorDestination(history, 2))))).toBeUndefined();

    const secret = (await get<{ type: string; metadata: { labels: Record<string, string> }; data: { release: string } }>(
      `/api/v1/namespaces/${ns}/secrets/sh.helm.release.v1.shop.v4`,
    ))!;
    expect(secret.type).toBe('helm.sh/release.v1');
    expect(secret.metadata.labels).toEqual({
      name: 'shop',
      owner: 'helm',
      status: 'deployed',
      version: '4',
      createdAt: String(NOW.getTime() / 1000),
      modifiedAt: String(NOW.getTime() / 1000),
    });
    const { gzipped, release } = decodeSecretData(secret.data.release);
    expect(gzipped).toBe(true);
    expect(release).toMatchObject({
      name: 'shop',
      namespace: ns,
      version: 4,
      info: {
        first_deployed: '2024-05-01T10:00:00.123456789+02:00',
        last_deployed: NOW.toISOString(),
        status: 'deployed',
        description: 'Rollback to 2',
        notes: 'Visit shop (revision 2).',
      },
      chart: { metadata: { name: 'shop', version: '0.2.0', appVersion: '2.0.0' }, templates: [{ name: 'templates/app.yaml' }] },
      config: { dbPassword: 's3cret-value' },
      manifest: SHOP[1]!.manifest,
      hooks: [PRE_ROLLBACK_HOOK],
    });
    const superseded = (await get<{ metadata: { labels: Record<string, string> }; data: { release: string } }>(
      `/api/v1/namespaces/${ns}/secrets/sh.helm.release.v1.shop.v3`,
    ))!;
    expect(superseded.metadata.labels).toMatchObject({ status: 'superseded', createdAt: String(1714550400 + 3 * 86400) });
    expect(decodeSecretData(superseded.data.release).release).toMatchObject({ info: { status: 'superseded', description: 'Upgrade complete', deleted: '' } });
  });

  it('rolls back to a named revision; none or 0 names the current one − 1', async () => {
    const ns = await cluster.ns('helm-named');
    await helm3.install(ns, 'shop', SHOP);
    const history = await readHistory(read, ns, 'shop');
    for (const requested of [undefined, 0]) expect((operatorDestination(history, requested) as StoredRevision).release.version).toBe(2);
    expect(operatorDestination(history, 7)).toBe(`release ${ns}/shop has no revision 7`);
    const p = planned(await plan(history, operatorDestination(history, 2)));
    expect(p.notes).toContain("Helm hooks are not run: revision 2's rollback hooks (shop-migrate) are skipped");

    expect(await runPlan(kube, p)).toBeUndefined();

    const d = (await deploymentOf(ns, 'shop'))!;
    expect(d.spec.template.spec.containers[0]!.image).toBe('app:v2');
    expect(d.spec.template.spec.containers[0]!.env).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: '2' },
    ]);
    expect((await configMapOf(ns, 'shop-config'))?.data).toEqual({ color: 'green' });
    expect(await configMapOf(ns, 'shop-feature')).toBeDefined();
    expect(await configMapOf(ns, 'shop-tmp')).toBeUndefined();
    expect(await configMapOf(ns, 'shop-cache')).toBeDefined();
    expect(await configMapOf(ns, 'shop-legacy')).toBeUndefined();
    expect(await rows(ns, 'shop')).toEqual(shopRowsAfterRollbackTo(2));
  });

  it('keeps the replicas an HPA set on a Deployment it scales', async () => {
    const ns = await cluster.ns('helm-hpa');
    const revisions: FixtureRevision[] = [
      { version: 1, status: 'superseded', description: 'Install complete', appVersion: '1', manifest: deployment('cart', 'app:v1', { A: '1' }) + hpa('cart', 2, 10) },
      { version: 2, status: 'deployed', description: 'Upgrade complete', appVersion: '2', manifest: deployment('cart', 'app:v2', { A: '1' }) + hpa('cart', 2, 10) },
    ];
    await helm3.install(ns, 'cart', revisions);
    // The harness runs no HPA controller: scale as it would, and record what it wants in its status.
    await kube.send({ method: 'PATCH', path: `/apis/apps/v1/namespaces/${ns}/deployments/cart/scale`, patchType: 'merge', body: { spec: { replicas: 5 } } });
    const version = await hpaApiVersion(read);
    expect(version).toBe('autoscaling/v2beta2'); // the harness is Kubernetes 1.20
    await kube.send({
      method: 'PATCH',
      path: `/apis/${version}/namespaces/${ns}/horizontalpodautoscalers/cart/status`,
      patchType: 'merge',
      body: { status: { currentReplicas: 5, desiredReplicas: 5 } },
    });

    const history = await readHistory(read, ns, 'cart');
    const p = planned(await plan(history, operatorDestination(history)));
    expect(p.notes).toContain(`Deployment ${ns}/cart: spec.replicas is left to HorizontalPodAutoscaler cart`);
    expect(await runPlan(kube, p)).toBeUndefined();

    const d = (await deploymentOf(ns, 'cart'))!;
    expect(d.spec.template.spec.containers[0]!.image).toBe('app:v1');
    expect(d.spec.replicas).toBe(5);
    expect(await readRestoredCapacity(read, ns, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'cart', replicas: 3 }, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'cart-previous' })).toEqual({
      replicas: 5,
      reason: 'HorizontalPodAutoscaler cart wants 5 replicas for the serving side',
    });
  });

  it('refuses while the latest revision is pending', async () => {
    const ns = await cluster.ns('helm-pending');
    await helm3.install(
      ns,
      'busy',
      [
        { version: 1, status: 'deployed', description: 'Install complete', appVersion: '1', manifest: configMap('busy', { v: '1' }) },
        { version: 2, status: 'pending-upgrade', description: 'Preparing upgrade', appVersion: '2', manifest: configMap('busy', { v: '2' }) },
      ],
      [1],
    );
    const history = await readHistory(read, ns, 'busy');
    expect(await plan(history, operatorDestination(history))).toBe(`release ${ns}/busy: revision 2 is pending-upgrade: another operation is in progress`);
  });

  it('refuses a release holding an unsupported kind, naming it', async () => {
    const ns = await cluster.ns('helm-kinds');
    await helm3.install(
      ns,
      'jobs',
      [
        { version: 1, status: 'superseded', description: 'Install complete', appVersion: '1', manifest: deployment('jobs', 'app:v1', {}) + cronJob('jobs-cleanup') },
        { version: 2, status: 'deployed', description: 'Upgrade complete', appVersion: '2', manifest: deployment('jobs', 'app:v2', {}) },
      ],
      [2],
    );
    const history = await readHistory(read, ns, 'jobs');
    expect(await plan(history, operatorDestination(history))).toBe(`release ${ns}/jobs cannot be rolled back: revision 1: unsupported kinds: CronJob`);
  });

  it('marks the new revision failed with Helm\'s wording when an object cannot be applied', async () => {
    const ns = await cluster.ns('helm-fail');
    await helm3.install(
      ns,
      'bad',
      [
        { version: 1, status: 'superseded', description: 'Install complete', appVersion: '1', manifest: deployment('bad', 'app:v1', {}, -1) },
        { version: 2, status: 'deployed', description: 'Upgrade complete', appVersion: '2', manifest: deployment('bad', 'app:v2', {}) },
      ],
      [2],
    );
    const history = await readHistory(read, ns, 'bad');
    const error = await runPlan(kube, planned(await plan(history, operatorDestination(history))));
    expect(error).toMatch(/^PATCH \/apis\/apps\/v1\/namespaces\/.+\/deployments\/bad: 422 Invalid: .*spec\.replicas/);

    expect(await rows(ns, 'bad')).toEqual([
      { revision: 1, status: 'superseded', description: 'Install complete' },
      { revision: 2, status: 'superseded', description: 'Upgrade complete' },
      { revision: 3, status: 'failed', description: `Rollback "bad" failed: ${error}` },
    ]);
    expect((await deploymentOf(ns, 'bad'))!.spec.template.spec.containers[0]!.image).toBe('app:v2');
  });
});
