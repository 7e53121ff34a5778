/**
 * The receiver's own namespace, where its Leases and state objects live: `state.namespace`,
 * else POD_NAMESPACE (the chart sets it from the downward API), else the in-cluster
 * service account's namespace, else `default`.
 */
import { readFileSync } from 'node:fs';

export const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

export function ownNamespace(configured: string | undefined, env: Record<string, string | undefined>, saFile = SERVICE_ACCOUNT_NAMESPACE): { namespace: string; from: string } {
  if (configured) return { namespace: configured, from: 'state.namespace' };
  if (env.POD_NAMESPACE) return { namespace: env.POD_NAMESPACE, from: 'POD_NAMESPACE' };
  try {
    const ns = readFileSync(saFile, 'utf8').trim();
    if (ns) return { namespace: ns, from: saFile };
  } catch {
    // not in a pod
  }
  return { namespace: 'default', from: 'default' };
}
