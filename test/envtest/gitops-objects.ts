/**
 * Argo CD and Flux in the envtest kube-apiserver: their CustomResourceDefinitions with the
 * upstream group, version and kind (schemas keep unknown fields; Flux objects have the
 * status subresource as upstream, Argo CD's Application has none, as upstream), and
 * objects created through the raw API.
 */
import { KubeApiError, KubeClient } from '../../src/kube/client.js';
import type { ClusterConnection } from './connect.js';
import { OPT_IN, type Workloads } from './workloads.js';
import { waitFor } from './wait.js';

interface CrdSpec {
  group: string;
  kind: string;
  plural: string;
  versions: string[];
  status: boolean;
}

const CRDS: CrdSpec[] = [
  { group: 'argoproj.io', kind: 'Application', plural: 'applications', versions: ['v1alpha1'], status: false },
  { group: 'kustomize.toolkit.fluxcd.io', kind: 'Kustomization', plural: 'kustomizations', versions: ['v1'], status: true },
  { group: 'helm.toolkit.fluxcd.io', kind: 'HelmRelease', plural: 'helmreleases', versions: ['v2', 'v2beta2', 'v2beta1'], status: true },
  { group: 'source.toolkit.fluxcd.io', kind: 'GitRepository', plural: 'gitrepositories', versions: ['v1'], status: true },
];

function crd(c: CrdSpec): unknown {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${c.plural}.${c.group}` },
    spec: {
      group: c.group,
      scope: 'Namespaced',
      names: { kind: c.kind, plural: c.plural, singular: c.kind.toLowerCase(), listKind: `${c.kind}List` },
      versions: c.versions.map((name, i) => ({
        name,
        served: true,
        storage: i === 0,
        schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
        ...(c.status ? { subresources: { status: {} } } : {}),
      })),
    },
  };
}

export class GitOpsObjects {
  readonly kube: KubeClient;

  constructor(cluster: ClusterConnection) {
    this.kube = new KubeClient(cluster.kubeConfig());
  }

  /** Installs the CustomResourceDefinitions once per cluster (other test files may have), and waits until they are served. */
  async install(): Promise<void> {
    for (const c of CRDS) {
      try {
        await this.kube.send({ method: 'POST', path: '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', body: crd(c) });
      } catch (err) {
        if (!(err instanceof KubeApiError && err.status === 409)) throw err;
      }
      await waitFor(
        async () => {
          const list = await this.kube.send<{ resources: { name: string }[] }>({ method: 'GET', path: `/apis/${c.group}/${c.versions[0]}` }).catch(() => undefined);
          return list?.resources.some((r) => r.name === c.plural);
        },
        30_000,
        { description: `CRD ${c.plural}.${c.group} served` },
      );
    }
  }

  path(apiVersion: string, plural: string, namespace: string, name: string): string {
    return `/apis/${apiVersion}/namespaces/${namespace}/${plural}/${name}`;
  }

  /** Creates an object; with `status`, writes it through the status subresource when the kind has one. */
  async create(apiVersion: string, kind: string, plural: string, namespace: string, name: string, spec: unknown, extra: { status?: unknown; labels?: Record<string, string>; annotations?: Record<string, string> } = {}): Promise<void> {
    const hasStatus = CRDS.find((c) => c.kind === kind)!.status;
    const metadata = { name, namespace, labels: extra.labels, annotations: extra.annotations };
    await this.kube.send({ method: 'POST', path: `/apis/${apiVersion}/namespaces/${namespace}/${plural}`, body: { apiVersion, kind, metadata, spec, ...(hasStatus ? {} : { status: extra.status }) } });
    if (hasStatus && extra.status) await this.setStatus(apiVersion, plural, namespace, name, extra.status);
  }

  async setStatus(apiVersion: string, plural: string, namespace: string, name: string, status: unknown): Promise<void> {
    const hasStatus = CRDS.find((c) => c.plural === plural)!.status;
    await this.kube.send({ method: 'PATCH', patchType: 'merge', path: `${this.path(apiVersion, plural, namespace, name)}${hasStatus ? '/status' : ''}`, body: { status } });
  }

  /** A Deployment whose latest revision is broken, with GitOps labels or annotations on it (not on its pods). */
  async brokenRollout(k: Workloads, ns: string, name: string, meta: { labels?: Record<string, string>; annotations?: Record<string, string> }): Promise<void> {
    await k.deployment(ns, name, 'app:v1', { annotations: { ...OPT_IN, ...meta.annotations } });
    if (meta.labels) {
      await this.kube.send({ method: 'PATCH', patchType: 'merge', path: `/apis/apps/v1/namespaces/${ns}/deployments/${name}`, body: { metadata: { labels: meta.labels } } });
    }
    await k.available(ns, name);
    await k.setImage(ns, name, 'app:broken');
    await k.revision(ns, name, 2);
    // The stale guard compares with managedFields times (1 s precision): alerts must start later.
    await new Promise((r) => setTimeout(r, 1100));
  }

  async get<T = { spec: Record<string, unknown>; metadata: { resourceVersion: string } }>(apiVersion: string, plural: string, namespace: string, name: string): Promise<T> {
    return this.kube.send<T>({ method: 'GET', path: this.path(apiVersion, plural, namespace, name) });
  }
}
