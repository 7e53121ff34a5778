/**
 * The chart's RBAC is enough, and no more, in both modes: the rendered ServiceAccount,
 * Roles and RoleBindings are created in the envtest kube-apiserver as `helm install`
 * would, and the receiver runs with that ServiceAccount's own token (RBAC on) and the
 * mode's state backend. It rolls a broken Deployment back in the listed namespace (on the
 * kubernetes backend: its Leases and state ConfigMaps in the release namespace, the
 * summary annotation on the Deployment), and is refused in one that is not listed.
 */
import { CoordinationV1Api, CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import request from 'supertest';
import { KubeClient } from '../../src/kube/client.js';
import { alert, payload } from '../support/alerts.js';
import { connectCluster } from '../envtest/connect.js';
import { finished, startReceiver, type Receiver } from '../envtest/receiver.js';
import { waitFor } from '../envtest/wait.js';
import { Workloads } from '../envtest/workloads.js';
import { parse } from 'yaml';
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

/** [the mode (state.backend), its values over the defaults, how many Roles it renders] */
const MODES: [backend: string, values: Record<string, unknown>, roles: number][] = [
  ['kubernetes', {}, 2],
  ['sqlite', { state: { backend: 'sqlite' }, replicaCount: 1 }, 1],
];

test.each(MODES)('%s mode: the receiver rolls back with exactly the rendered Roles, bound to the rendered ServiceAccount, and is refused elsewhere', async (mode, values, roles) => {
  const [release, target, unlisted] = await Promise.all([cluster.ns('rr-release'), cluster.ns('rr-target'), cluster.ns('rr-unlisted')]);
  const manifests = render({ namespace: release, values: { ...values, rbac: { namespaces: [target] } } });
  const discovery = await discover(cluster);
  const rbacObjects = manifests.map((m) => m.object).filter((o) => ['ServiceAccount', 'Role', 'RoleBinding'].includes(o.kind));
  expect(rbacObjects.map((o) => o.kind).sort()).toEqual(['ServiceAccount', ...Array<string>(roles).fill('Role'), ...Array<string>(roles).fill('RoleBinding')].sort());
  for (const object of rbacObjects) await create(cluster, discovery, object, release);

  // What the apiserver holds is what the chart rendered.
  const rbac = cluster.kubeConfig().makeApiClient(RbacAuthorizationV1Api);
  for (const role of rbacObjects.filter((o) => o.kind === 'Role') as (KubeObject & { rules: unknown[] })[]) {
    expect((await rbac.readNamespacedRole({ name: role.metadata.name, namespace: role.metadata.namespace! })).rules).toEqual(role.rules);
  }

  // The receiver's config as the chart renders it (its state backend; the Deployment's
  // POD_NAMESPACE names the state's namespace, here given as state.namespace).
  const rendered = parse(only<KubeObject & { data: Record<string, string> }>(manifests, 'ConfigMap', 'rollback-receiver-config').data['config.yaml']!) as { state: { backend: string } };
  const backend = rendered.state.backend;
  expect(backend).toBe(mode);
  const sa = only<KubeObject>(manifests, 'ServiceAccount');
  const token = await serviceAccountToken(release, sa.metadata.name);
  await Promise.all([k.brokenRollout(target, 'api'), k.deployment(unlisted, 'api', 'app:v1')]);

  const yaml = `auth:\n  allowUnauthenticatedWebhook: true\nstate:\n  backend: ${backend}\n  namespace: ${release}\n`;
  const s = startReceiver(new KubeClient(cluster.kubeConfig(token)), yaml);
  try {
    expect(s.config.state.backend).toBe(mode);
    const d = await decideOne(s, target, 'api');
    expect(d.decision).toBe('executed');
    expect((await finished(s, d.rollbackId!)).status).toBe('success');
    const after = await k.available(target, 'api');
    expect(k.image(after)).toBe('app:v1');
    if (backend === 'kubernetes') {
      // The state is in the release namespace: the target's ledger and the global one, the
      // monitoring window's Lease; the summary annotation (a patch of the Deployment) is on it.
      const maps = await core.listNamespacedConfigMap({ namespace: release, labelSelector: 'app.kubernetes.io/managed-by=rollback-receiver' });
      expect(maps.items.map((c) => c.metadata!.name)).toEqual(expect.arrayContaining(['rollback-receiver-global', expect.stringMatching(/^rollback-receiver-target-/)]));
      const leases = await cluster.kubeConfig().makeApiClient(CoordinationV1Api).listNamespacedLease({ namespace: release });
      expect(leases.items.map((l) => l.metadata!.annotations?.['rollback-receiver.io/object'])).toEqual([expect.stringMatching(/^Window:/)]);
      const summary = await waitFor(async () => (await k.read(target, 'api')).metadata?.annotations?.['rollback-receiver.io/state'], 30_000, {
        description: 'the summary annotation on the Deployment',
      });
      expect(summary).toMatch(/last rollback .* ended .*; cooldown until /);
    }

    const refused = await decideOne(s, unlisted, 'api');
    expect(refused.decision).toBe('not_allowed');
    expect(refused.reason).toMatch(/forbidden \(check the RBAC rules\)/);
    expect(k.image(await k.read(unlisted, 'api'))).toBe('app:v1');
  } finally {
    await s.destroy();
  }
}, 180_000);
