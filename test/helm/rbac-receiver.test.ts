/**
 * The chart's RBAC is enough, and no more, in both modes: the rendered ServiceAccount,
 * Roles and RoleBindings are created in the envtest kube-apiserver as `helm install`
 * would, and a real receiver process runs as the rendered pod would: the rendered config
 * file, the Deployment's environment (POD_NAME and POD_NAMESPACE resolved as the downward
 * API does), the chart Secret's webhook token as its file, and that ServiceAccount's own
 * token (RBAC on). It rolls a broken Deployment back in the listed namespace (on the
 * kubernetes backend: its Leases and state ConfigMaps in the release namespace, found
 * through POD_NAMESPACE, and the summary annotation on the Deployment), and is refused in
 * one that is not listed.
 */
import fs from 'node:fs';
import { parse } from 'yaml';
import type { V1Deployment, V1Secret } from '@kubernetes/client-node';
import { CoordinationV1Api, CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { alert, payload } from '../support/alerts.js';
import type { Daemon } from '../support/daemon.js';
import { receiverProcess } from '../support/receiver-process.js';
import { connectCluster } from '../envtest/connect.js';
import { waitFor } from '../envtest/wait.js';
import { Workloads } from '../envtest/workloads.js';
import { historyRows, readHistory } from '../../src/execution/helm/history.js';
import { KubeClient } from '../../src/kube/client.js';
import { shopRelease } from '../helm-release/fixture.js';
import { Helm3 } from '../helm-release/helm3.js';
import { only, render, type KubeObject } from './chart.js';
import { create, discover } from './kube.js';

const cluster = connectCluster();
const k = new Workloads(cluster);
const core = cluster.kubeConfig().makeApiClient(CoreV1Api);
/** Set by the Daemon itself (--config, --port, its state dir) or given as files in its dir below. */
const SET_BY_THE_TEST = new Set(['PORT', 'ROLLBACK_CONFIG', 'ROLLBACK_STATE_DIR', 'ROLLBACK_WEBHOOK_TOKEN_FILE', 'ROLLBACK_OPERATOR_TOKEN_FILE']);

interface Decision {
  decision: string;
  reason: string;
  rollbackId?: string;
}

async function decideOne(d: Daemon, token: string, namespace: string, name: string, labels: Record<string, string> = {}): Promise<Decision> {
  const body = payload([alert({ labels: { namespace, deployment: name, ...labels }, startsAt: new Date().toISOString() })]);
  const res = await fetch(`${d.url}/webhook`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const json = (await res.json()) as { decisions: Decision[] };
  expect([res.status, json]).toEqual([200, expect.anything()]);
  return json.decisions[0]!;
}

async function finished(d: Daemon, id: string): Promise<{ status: string }> {
  return waitFor(
    async () => {
      const r = (await (await fetch(`${d.url}/api/v1/rollbacks/${id}`, { signal: AbortSignal.timeout(10_000) })).json()) as { status?: string };
      return r.status && r.status !== 'running' ? (r as { status: string }) : undefined;
    },
    60_000,
    { description: `rollback ${id} finished`, intervalMs: 250 },
  );
}

/** The container's environment as the kubelet gives it: values as they are, the downward API resolved for this pod. */
function podEnv(deployment: V1Deployment, pod: { name: string; namespace: string }): Record<string, string> {
  const fields: Record<string, string> = { 'metadata.name': pod.name, 'metadata.namespace': pod.namespace };
  const env: Record<string, string> = {};
  for (const e of deployment.spec!.template.spec!.containers[0]!.env ?? []) {
    if (SET_BY_THE_TEST.has(e.name)) continue;
    const field = e.valueFrom?.fieldRef?.fieldPath;
    if (field !== undefined && !(field in fields)) throw new Error(`${e.name}: the test does not resolve fieldRef ${field}`);
    env[e.name] = field !== undefined ? fields[field]! : e.value ?? '';
  }
  return env;
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
  // Live (the ConfigMap and ROLLBACK_DRY_RUN say so); Prometheus refuses at once (monitoring windows sample `unknown`).
  const manifests = render({ namespace: release, values: { ...values, rbac: { namespaces: [target] }, rollback: { dryRun: false }, prometheus: { url: 'http://127.0.0.1:9' } } });
  const discovery = await discover(cluster);
  const rbacObjects = manifests.map((m) => m.object).filter((o) => ['ServiceAccount', 'Role', 'RoleBinding'].includes(o.kind));
  expect(rbacObjects.map((o) => o.kind).sort()).toEqual(['ServiceAccount', ...Array<string>(roles).fill('Role'), ...Array<string>(roles).fill('RoleBinding')].sort());
  for (const object of rbacObjects) await create(cluster, discovery, object, release);

  // What the apiserver holds is what the chart rendered.
  const rbac = cluster.kubeConfig().makeApiClient(RbacAuthorizationV1Api);
  for (const role of rbacObjects.filter((o) => o.kind === 'Role') as (KubeObject & { rules: unknown[] })[]) {
    expect((await rbac.readNamespacedRole({ name: role.metadata.name, namespace: role.metadata.namespace! })).rules).toEqual(role.rules);
  }

  // The receiver's config file as the chart renders it.
  const configText = only<KubeObject & { data: Record<string, string> }>(manifests, 'ConfigMap', 'rollback-receiver-config').data['config.yaml']!;
  expect((parse(configText) as { state: { backend: string } }).state.backend).toBe(mode);
  const sa = only<KubeObject>(manifests, 'ServiceAccount');
  const token = await serviceAccountToken(release, sa.metadata.name);
  await Promise.all([k.brokenRollout(target, 'api'), k.deployment(unlisted, 'api', 'app:v1')]);

  // The pod, as the rendered Deployment describes it.
  const deployment = only<V1Deployment>(manifests, 'Deployment');
  const env = podEnv(deployment, { name: 'rollback-receiver-7d9c-x2x4q', namespace: release });
  const webhookToken = Buffer.from(only<V1Secret>(manifests, 'Secret').data!['webhook-token']!, 'base64').toString('utf8');
  // The chart mounts the token as a file; the process gets the same token directly.
  const d = await receiverProcess({ label: `chart-${mode}`, env: { ...env, ROLLBACK_WEBHOOK_TOKEN: webhookToken, LOG_LEVEL: 'warn' } });
  fs.writeFileSync(d.file('config.yaml'), configText);
  cluster.writeKubeconfig(d.file('kubeconfig'), token);
  try {
    await d.start();
    const status = (await (await fetch(`${d.url}/api/v1/status`)).json()) as { stateBackend: string; replica: string };
    expect(status.stateBackend).toBe(mode);
    const d1 = await decideOne(d, webhookToken, target, 'api');
    expect(d1.decision).toBe('executed');
    expect((await finished(d, d1.rollbackId!)).status).toBe('success');
    const after = await k.available(target, 'api');
    expect(k.image(after)).toBe('app:v1');

    if (mode === 'kubernetes') {
      // The replica is the pod: its Lease holder identity starts with POD_NAME.
      expect(status.replica).toMatch(/^rollback-receiver-7d9c-x2x4q_/);
      // The state is in the release namespace (POD_NAMESPACE): the target's ledger and the
      // global one, the monitoring window's Lease; the summary annotation (a patch of the
      // Deployment, granted by the target rules) is on it.
      const maps = await core.listNamespacedConfigMap({ namespace: release, labelSelector: 'app.kubernetes.io/managed-by=rollback-receiver' });
      expect(maps.items.map((c) => c.metadata!.name)).toEqual(expect.arrayContaining(['rollback-receiver-global', expect.stringMatching(/^rollback-receiver-target-/)]));
      const leases = await cluster.kubeConfig().makeApiClient(CoordinationV1Api).listNamespacedLease({ namespace: release });
      expect(leases.items.map((l) => l.metadata!.annotations?.['rollback-receiver.io/object'])).toEqual([expect.stringMatching(/^Window:/)]);
      const summary = await waitFor(async () => (await k.read(target, 'api')).metadata?.annotations?.['rollback-receiver.io/state'], 30_000, {
        description: 'the summary annotation on the Deployment',
      });
      expect(summary).toMatch(/last rollback .* ended .*; cooldown until /);
    }

    // The helm strategy with the same rules: release history read and written, objects applied and deleted.
    const admin = new KubeClient(cluster.kubeConfig());
    await new Helm3(admin).install(target, 'shop', shopRelease());
    const h = await decideOne(d, webhookToken, target, '', { release: 'shop', rollback_strategy: 'helm' });
    expect([h.decision, h.reason]).toEqual(['executed', expect.stringContaining('to revision 2')]);
    expect((await finished(d, h.rollbackId!)).status).toBe('success');
    const history = await readHistory(<T>(path: string) => admin.send<T>({ method: 'GET', path }), target, 'shop');
    expect(historyRows(history).map((r) => [r.revision, r.status, r.description]).at(-1)).toEqual([4, 'deployed', 'Rollback to 2']);

    const refused = await decideOne(d, webhookToken, unlisted, 'api');
    expect(refused.decision).toBe('not_allowed');
    expect(refused.reason).toMatch(/forbidden \(check the RBAC rules\)/);
    expect(k.image(await k.read(unlisted, 'api'))).toBe('app:v1');
  } finally {
    await d.stop('SIGTERM');
  }
}, 180_000);
