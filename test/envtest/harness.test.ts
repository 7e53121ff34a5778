/**
 * Proves the envtest harness: real deployment/replicaset controllers drive
 * rollouts, the kubelet stand-in makes pods Ready (or not, for ':broken'
 * images), RBAC is enforced for the restricted token, and the apiserver can be
 * stopped and restarted mid-run.
 */
import { AppsV1Api, CoreV1Api, RbacAuthorizationV1Api, type V1Deployment } from '@kubernetes/client-node';
import { connectCluster } from './connect.js';
import { holdsFor, waitFor } from './wait.js';

const cluster = connectCluster();
const apps = cluster.kubeConfig().makeApiClient(AppsV1Api);
const core = cluster.kubeConfig().makeApiClient(CoreV1Api);

function deployment(name: string, image: string, replicas: number): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image }] },
      },
    },
  };
}

/** Read-modify-write with retry on conflict. */
async function setImage(namespace: string, name: string, image: string): Promise<number> {
  return waitFor(async () => {
    const d = await apps.readNamespacedDeployment({ name, namespace });
    const c = d.spec?.template.spec?.containers[0];
    if (!c) throw new Error('no container');
    c.image = image;
    const updated = await apps.replaceNamespacedDeployment({ name, namespace, body: d });
    return updated.metadata?.generation;
  }, 10_000);
}

function available(d: V1Deployment, replicas: number): boolean {
  const s = d.status;
  return (
    (s?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) &&
    s?.availableReplicas === replicas &&
    s?.updatedReplicas === replicas &&
    s?.readyReplicas === replicas &&
    (s?.unavailableReplicas ?? 0) === 0
  );
}

function code(e: unknown): number | undefined {
  const c = (e as { code?: unknown }).code;
  return typeof c === 'number' ? c : undefined;
}

describe('envtest harness', () => {
  let ns: string;

  beforeAll(async () => {
    ns = await cluster.ns('harness');
  });

  it('rolls a Deployment out with the real controllers, and a broken image never completes', async () => {
    await apps.createNamespacedDeployment({ namespace: ns, body: deployment('web', 'app:v1', 2) });
    await waitFor(async () => available(await apps.readNamespacedDeployment({ name: 'web', namespace: ns }), 2), 30_000, {
      description: 'web available with 2 replicas',
    });
    const pods = await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web' });
    expect(pods.items).toHaveLength(2);
    for (const p of pods.items) {
      expect(p.spec?.nodeName).toBe('envtest-node');
      expect(p.status?.phase).toBe('Running');
      expect(p.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    }

    const gen = await setImage(ns, 'web', 'app:broken');
    // maxSurge 25% of 2 rounds up to 1, maxUnavailable rounds down to 0: one broken surge pod.
    const stuck = async () => {
      const d = await apps.readNamespacedDeployment({ name: 'web', namespace: ns });
      const s = d.status;
      return (
        (s?.observedGeneration ?? 0) >= gen &&
        s?.updatedReplicas === 1 &&
        s?.availableReplicas === 2 &&
        s?.unavailableReplicas === 1 &&
        s?.replicas === 3
      );
    };
    await waitFor(stuck, 30_000, { description: 'rollout to app:broken stuck with 1 unavailable surge pod' });

    const brokenPods = await waitFor(async () => {
      const list = await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web' });
      const broken = list.items.filter((p) => p.spec?.containers[0]?.image === 'app:broken');
      return broken.length === 1 && broken.every((p) => p.status?.phase === 'Running') ? broken : undefined;
    }, 15_000);
    for (const p of brokenPods) {
      expect(p.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
      expect(p.status?.containerStatuses?.[0]?.ready).toBe(false);
    }
    const rsList = await apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'app=web' });
    const newRs = rsList.items.find((rs) => rs.spec?.template?.spec?.containers[0]?.image === 'app:broken');
    expect(newRs?.status?.replicas).toBe(1);
    expect(newRs?.status?.readyReplicas ?? 0).toBe(0);

    // It must stay stuck: the old pods remain available and the rollout never completes.
    await holdsFor(stuck, 3_000, { description: 'rollout stays stuck' });

    // Rolling back to the good image completes and scales the broken ReplicaSet down (pods deleted).
    await setImage(ns, 'web', 'app:v1');
    await waitFor(async () => available(await apps.readNamespacedDeployment({ name: 'web', namespace: ns }), 2), 30_000, {
      description: 'web available again after rollback',
    });
    await waitFor(async () => {
      const list = await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web' });
      return list.items.length === 2 && list.items.every((p) => p.spec?.containers[0]?.image === 'app:v1');
    }, 30_000, { description: 'broken pod deleted' });
  }, 120_000);

  it('enforces RBAC for the restricted token', async () => {
    const restricted = cluster.kubeConfig(cluster.restrictedToken).makeApiClient(AppsV1Api);
    const err = await restricted.listNamespacedDeployment({ namespace: ns }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(code(err)).toBe(403);

    const rbac = cluster.kubeConfig().makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: ns,
      body: {
        metadata: { name: 'read-deployments' },
        rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'read-deployments' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-deployments' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: cluster.restrictedUser }],
      },
    });
    await waitFor(async () => (await restricted.listNamespacedDeployment({ namespace: ns })).items.length >= 1, 10_000);
  }, 30_000);

  it('can stop and restart the apiserver mid-run', async () => {
    await cluster.stopApiServer();
    const err = await core.listNamespacedPod({ namespace: ns }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeDefined();

    await cluster.startApiServer();
    // State survived (etcd kept running) and controllers + kubelet stand-in reconnect.
    const d = await apps.readNamespacedDeployment({ name: 'web', namespace: ns });
    expect(d.spec?.template.spec?.containers[0]?.image).toBe('app:v1');
    await apps.createNamespacedDeployment({ namespace: ns, body: deployment('after-restart', 'app:v2', 1) });
    await waitFor(
      async () => available(await apps.readNamespacedDeployment({ name: 'after-restart', namespace: ns }), 1),
      60_000,
      { description: 'deployment created after apiserver restart becomes available' },
    );
  }, 120_000);
});
