/** Workloads for executor tests: Deployments and Services in the envtest cluster, and waits on them. */
import { AppsV1Api, CoreV1Api, type V1Deployment } from '@kubernetes/client-node';
import type { ClusterConnection } from './connect.js';
import { waitFor } from './wait.js';

export const OPT_IN = { 'rollback-receiver.io/enabled': 'true' };

export class Workloads {
  readonly apps: AppsV1Api;
  readonly core: CoreV1Api;

  constructor(cluster: ClusterConnection) {
    this.apps = cluster.kubeConfig().makeApiClient(AppsV1Api);
    this.core = cluster.kubeConfig().makeApiClient(CoreV1Api);
  }

  async deployment(
    namespace: string,
    name: string,
    image: string,
    opts: { replicas?: number; labels?: Record<string, string>; annotations?: Record<string, string>; progressDeadlineSeconds?: number; paused?: boolean } = {},
  ): Promise<V1Deployment> {
    const labels = { app: name, ...opts.labels };
    return this.apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name, annotations: opts.annotations ?? OPT_IN },
        spec: {
          replicas: opts.replicas ?? 2,
          paused: opts.paused,
          progressDeadlineSeconds: opts.progressDeadlineSeconds,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [{ name: 'app', image }] } },
        },
      },
    });
  }

  async service(namespace: string, name: string, selector: Record<string, string>, annotations = OPT_IN): Promise<void> {
    await this.core.createNamespacedService({
      namespace,
      body: { metadata: { name, annotations }, spec: { selector, ports: [{ port: 80 }] } },
    });
  }

  /** Changes the image (a new revision), retrying on conflict. */
  async setImage(namespace: string, name: string, image: string): Promise<void> {
    await waitFor(async () => {
      const d = await this.apps.readNamespacedDeployment({ name, namespace });
      d.spec!.template.spec!.containers[0]!.image = image;
      await this.apps.replaceNamespacedDeployment({ name, namespace, body: d });
      return true;
    }, 10_000);
  }

  async read(namespace: string, name: string): Promise<V1Deployment> {
    return this.apps.readNamespacedDeployment({ name, namespace });
  }

  image(d: V1Deployment): string | undefined {
    return d.spec?.template.spec?.containers[0]?.image;
  }

  /** Waits until the Deployment is rolled out with `replicas` available. */
  async available(namespace: string, name: string, replicas = 2, timeoutMs = 30_000): Promise<V1Deployment> {
    return waitFor(
      async () => {
        const d = await this.read(namespace, name);
        const s = d.status;
        const done =
          (s?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) &&
          s?.updatedReplicas === replicas &&
          s?.availableReplicas === replicas &&
          (s?.replicas ?? 0) === replicas;
        return done ? d : undefined;
      },
      timeoutMs,
      { description: `${namespace}/${name} available with ${replicas} replicas` },
    );
  }

  /** Waits until the Deployment has a second revision whose pods exist (a rollout under way). */
  async revision(namespace: string, name: string, revision: number): Promise<void> {
    await waitFor(
      async () => (await this.read(namespace, name)).metadata?.annotations?.['deployment.kubernetes.io/revision'] === String(revision),
      20_000,
      { description: `${namespace}/${name} at revision ${revision}` },
    );
  }

  /** v1 good → v2 broken: the rollout is stuck while v1 pods still serve. */
  async brokenRollout(namespace: string, name: string): Promise<void> {
    await this.deployment(namespace, name, 'app:v1');
    await this.available(namespace, name);
    await this.setImage(namespace, name, 'app:broken');
    await this.revision(namespace, name, 2);
    // The stale guard compares with managedFields times, which have 1 s precision: alerts must start later.
    await new Promise((r) => setTimeout(r, 1100));
  }

  async events(namespace: string, objectName: string): Promise<{ reason: string; type: string; message: string }[]> {
    const list = await this.core.listNamespacedEvent({ namespace });
    return list.items
      .filter((e) => e.involvedObject.name === objectName && e.source?.component === 'rollback-receiver')
      .map((e) => ({ reason: e.reason ?? '', type: e.type ?? '', message: e.message ?? '' }));
  }
}
