/**
 * For test files: connect to the cluster started by global-setup.ts.
 *
 *   const cluster = connectCluster();
 *   const ns = await cluster.ns('rollback');
 *   const apps = cluster.kubeConfig().makeApiClient(AppsV1Api);
 */
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { buildKubeConfig, kubeconfigText } from './cluster.js';
import type { ClusterFile } from './global-setup.js';
import { waitFor } from './wait.js';

export interface ClusterConnection {
  server: string;
  /** PEM CA bundle of the apiserver. */
  caData: string;
  adminToken: string;
  /** Token of user `rollback-receiver-test` (groups: system:authenticated only; no RBAC grants). */
  restrictedToken: string;
  restrictedUser: string;
  /** kubeconfig file with the admin token. */
  kubeconfigPath: string;
  /** KubeConfig for `token` (default: admin). */
  kubeConfig(token?: string): KubeConfig;
  /** Writes a kubeconfig file for `token` (default admin), e.g. for a spawned process. */
  writeKubeconfig(file: string, token?: string): void;
  /** Creates a fresh uniquely named namespace and waits for its default ServiceAccount (with token). */
  ns(prefix?: string): Promise<string>;
  /** Deletes a namespace (does not wait for it to be gone). */
  deleteNs(name: string): Promise<void>;
  /** Stops kube-apiserver (etcd, controllers, kubelet stand-in keep running). Affects every test file of the run. */
  stopApiServer(): Promise<void>;
  /** Restarts kube-apiserver on the same address; resolves once it is ready. */
  startApiServer(): Promise<void>;
}

function readInfo(): ClusterFile {
  const file = process.env.ENVTEST_CLUSTER_FILE;
  if (!file) {
    throw new Error(
      'envtest: ENVTEST_CLUSTER_FILE is not set: run jest with ' +
        '--globalSetup ./test/envtest/global-setup.ts --globalTeardown ./test/envtest/global-teardown.ts',
    );
  }
  return JSON.parse(fs.readFileSync(file, 'utf8')) as ClusterFile;
}

async function control(baseUrl: string, route: string): Promise<void> {
  const res = await fetch(`${baseUrl}${route}`, { method: 'POST' });
  const body = await res.text();
  if (!res.ok) throw new Error(`envtest control ${route} failed (${res.status}): ${body}`);
}

function dnsLabel(prefix: string): string {
  const p = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 50);
  return `${p || 'test'}-${randomBytes(4).toString('hex')}`;
}

let cached: ClusterConnection | undefined;

export function connectCluster(): ClusterConnection {
  if (cached) return cached;
  const info = readInfo();
  const kubeConfig = (token: string = info.adminToken) => buildKubeConfig(info.server, info.caData, token);
  let core: CoreV1Api | undefined;
  const coreApi = () => (core ??= kubeConfig().makeApiClient(CoreV1Api));
  cached = {
    server: info.server,
    caData: info.caData,
    adminToken: info.adminToken,
    restrictedToken: info.restrictedToken,
    restrictedUser: info.restrictedUser,
    kubeconfigPath: info.kubeconfigPath,
    kubeConfig,
    writeKubeconfig(file, token = info.adminToken) {
      fs.writeFileSync(file, kubeconfigText(info.server, info.caData, token), { mode: 0o600 });
    },
    async ns(prefix = 'test') {
      const name = dnsLabel(prefix);
      await coreApi().createNamespace({
        body: { metadata: { name, labels: { 'envtest.rollback-receiver.io/test': 'true' } } },
      });
      await waitFor(
        async () => {
          const sa = await coreApi().readNamespacedServiceAccount({ name: 'default', namespace: name });
          return (sa.secrets?.length ?? 0) > 0;
        },
        30_000,
        { description: `default ServiceAccount in namespace ${name}` },
      );
      return name;
    },
    async deleteNs(name) {
      await coreApi().deleteNamespace({ name });
    },
    stopApiServer: () => control(info.controlUrl, '/apiserver/stop'),
    startApiServer: () => control(info.controlUrl, '/apiserver/start'),
  };
  return cached;
}
