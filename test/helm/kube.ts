/**
 * Raw requests to the envtest kube-apiserver for the chart tests: discovery (what Helm
 * turns into .Capabilities.APIVersions), CRD installation, and server-side dry-run
 * creates. Raw (not @kubernetes/client-node's typed serializers) so every field the
 * chart renders reaches the apiserver as written.
 */
import https from 'node:https';
import { parseAllDocuments } from 'yaml';
import type { ClusterConnection } from '../envtest/connect.js';
import type { KubeObject } from './chart.js';
import { waitFor } from '../envtest/wait.js';

export interface KubeResponse {
  status: number;
  body: unknown;
}

export function kubeRequest(cluster: ClusterConnection, method: string, path: string, body?: unknown): Promise<KubeResponse> {
  const url = new URL(path, cluster.server);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method,
        ca: cluster.caData,
        headers: {
          authorization: `Bearer ${cluster.adminToken}`,
          accept: 'application/json',
          ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
        timeout: 20_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

export interface Discovery {
  /** "group/version" and "group/version/Kind" entries, as Helm builds .Capabilities.APIVersions. */
  apiVersions: string[];
  /** "apiVersion/Kind" -> the collection's resource. */
  resources: Map<string, ApiResource>;
  /** e.g. v1.20.2 */
  gitVersion: string;
}

async function getJson<T>(cluster: ClusterConnection, path: string): Promise<T> {
  const r = await kubeRequest(cluster, 'GET', path);
  if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as T;
}

export async function discover(cluster: ClusterConnection): Promise<Discovery> {
  const groupVersions = ['v1'];
  const groups = await getJson<{ groups: { versions: { groupVersion: string }[] }[] }>(cluster, '/apis');
  for (const g of groups.groups) for (const v of g.versions) groupVersions.push(v.groupVersion);
  const apiVersions: string[] = [];
  const resources = new Map<string, ApiResource>();
  for (const gv of groupVersions) {
    const list = await getJson<{ resources: ApiResource[] }>(cluster, gv === 'v1' ? '/api/v1' : `/apis/${gv}`);
    apiVersions.push(gv);
    for (const r of list.resources) {
      if (r.name.includes('/')) continue; // subresources
      apiVersions.push(`${gv}/${r.kind}`);
      resources.set(`${gv}/${r.kind}`, r);
    }
  }
  const version = await getJson<{ gitVersion: string }>(cluster, '/version');
  return { apiVersions, resources, gitVersion: version.gitVersion };
}

/** Creates the CRDs in a YAML file (tolerating "already exists") and waits until they are Established and discovered. */
export async function installCrds(cluster: ClusterConnection, yamlText: string): Promise<void> {
  const crds = parseAllDocuments(yamlText).map((d) => d.toJS() as KubeObject);
  for (const crd of crds) {
    const r = await kubeRequest(cluster, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
    if (r.status !== 201 && r.status !== 409) throw new Error(`creating CRD ${crd.metadata.name}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  for (const crd of crds) {
    await waitFor(
      async () => {
        const r = await getJson<{ status?: { conditions?: { type: string; status: string }[] } }>(
          cluster,
          `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`,
        );
        return r.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
      },
      30_000,
      { description: `CRD ${crd.metadata.name} Established` },
    );
  }
  await waitFor(
    async () => {
      const d = await discover(cluster);
      return crds.every((crd) => {
        const spec = crd.spec as { group: string; names: { kind: string }; versions: { name: string }[] };
        return spec.versions.every((v) => d.resources.has(`${spec.group}/${v.name}/${spec.names.kind}`));
      });
    },
    30_000,
    { description: 'CRDs in discovery' },
  );
}

/** The collection an object is created in (its namespace, or `defaultNamespace`, for namespaced kinds). */
function collectionPath(discovery: Discovery, object: KubeObject, defaultNamespace: string): string {
  const resource = discovery.resources.get(`${object.apiVersion}/${object.kind}`);
  if (!resource) throw new Error(`the apiserver does not serve ${object.apiVersion} ${object.kind}`);
  const base = object.apiVersion === 'v1' ? '/api/v1' : `/apis/${object.apiVersion}`;
  const ns = object.metadata.namespace ?? defaultNamespace;
  return resource.namespaced ? `${base}/namespaces/${encodeURIComponent(ns)}/${resource.name}` : `${base}/${resource.name}`;
}

/** POSTs the object to its collection with ?dryRun=All: the apiserver validates (and defaults) it and stores nothing. */
export async function dryRunCreate(cluster: ClusterConnection, discovery: Discovery, object: KubeObject, defaultNamespace: string): Promise<KubeResponse> {
  return kubeRequest(cluster, 'POST', `${collectionPath(discovery, object, defaultNamespace)}?dryRun=All&fieldManager=helm`, object);
}

/** Creates the object for real, as `helm install` would (fails the test on anything but 201). */
export async function create(cluster: ClusterConnection, discovery: Discovery, object: KubeObject, defaultNamespace: string): Promise<unknown> {
  const r = await kubeRequest(cluster, 'POST', `${collectionPath(discovery, object, defaultNamespace)}?fieldManager=helm`, object);
  if (r.status !== 201) throw new Error(`creating ${object.kind} ${object.metadata.name}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/**
 * Paths of fields the chart sent that the apiserver's answer lacks. kube-apiserver v1.20
 * silently drops unknown fields (no strict field validation yet), so a misspelt key
 * shows up here. Empty maps and lists carry nothing and are not compared.
 */
export function droppedFields(sent: unknown, returned: unknown, at = ''): string[] {
  if (Array.isArray(sent)) {
    if (sent.length === 0) return [];
    if (!Array.isArray(returned)) return [at];
    return sent.flatMap((v, i) => droppedFields(v, returned[i], `${at}[${i}]`));
  }
  if (sent !== null && typeof sent === 'object') {
    const entries = Object.entries(sent as Record<string, unknown>);
    if (entries.length === 0) return [];
    if (returned === null || typeof returned !== 'object' || Array.isArray(returned)) return [at];
    const r = returned as Record<string, unknown>;
    return entries.flatMap(([k, v]) => {
      const path = at ? `${at}.${k}` : k;
      if (v === null || v === undefined) return [];
      if (!(k in r)) {
        const empty = (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && Object.keys(v as object).length === 0);
        return empty ? [] : [path];
      }
      return droppedFields(v, r[k], path);
    });
  }
  return [];
}
