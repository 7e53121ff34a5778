/**
 * API paths for the objects the executors touch. Every segment is validated as a
 * Kubernetes name and encoded, so no label value reaches a URL path unchecked.
 */
import { nameProblem, namespaceProblem } from '../matching/names.js';

export class UnsafeNameError extends Error {}

function ns(namespace: string): string {
  const problem = namespaceProblem(namespace);
  if (problem) throw new UnsafeNameError(problem);
  return encodeURIComponent(namespace);
}

function obj(name: string): string {
  const problem = nameProblem(name);
  if (problem) throw new UnsafeNameError(problem);
  return encodeURIComponent(name);
}

/** Validated, encoded path segments, for modules that build paths of other kinds. */
export { ns as namespaceSegment, obj as nameSegment };

export const paths = {
  deployment: (namespace: string, name: string) => `/apis/apps/v1/namespaces/${ns(namespace)}/deployments/${obj(name)}`,
  deploymentScale: (namespace: string, name: string) => `/apis/apps/v1/namespaces/${ns(namespace)}/deployments/${obj(name)}/scale`,
  replicaSets: (namespace: string, selector: string) =>
    `/apis/apps/v1/namespaces/${ns(namespace)}/replicasets?labelSelector=${encodeURIComponent(selector)}`,
  service: (namespace: string, name: string) => `/api/v1/namespaces/${ns(namespace)}/services/${obj(name)}`,
  pods: (namespace: string, selector: string) => `/api/v1/namespaces/${ns(namespace)}/pods?labelSelector=${encodeURIComponent(selector)}`,
  events: (namespace: string) => `/api/v1/namespaces/${ns(namespace)}/events`,
  leases: (namespace: string, selector?: string) =>
    `/apis/coordination.k8s.io/v1/namespaces/${ns(namespace)}/leases${selector ? `?labelSelector=${encodeURIComponent(selector)}` : ''}`,
  lease: (namespace: string, name: string) => `/apis/coordination.k8s.io/v1/namespaces/${ns(namespace)}/leases/${obj(name)}`,
  configMaps: (namespace: string, selector?: string) => `/api/v1/namespaces/${ns(namespace)}/configmaps${selector ? `?labelSelector=${encodeURIComponent(selector)}` : ''}`,
  configMap: (namespace: string, name: string) => `/api/v1/namespaces/${ns(namespace)}/configmaps/${obj(name)}`,
};

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/**
 * A Kubernetes LabelSelector as the `labelSelector` query string: matchLabels and
 * matchExpressions (In, NotIn, Exists, DoesNotExist) together, so a selection is never
 * wider than the object's own selector. Values are checked by the API server; the
 * string is query-encoded by `paths`. Empty when the selector selects everything.
 */
export function labelSelector(selector: LabelSelector): string {
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',');
    switch (e.operator) {
      case 'In':
        parts.push(`${e.key} in (${values})`);
        break;
      case 'NotIn':
        parts.push(`${e.key} notin (${values})`);
        break;
      case 'Exists':
        parts.push(e.key);
        break;
      case 'DoesNotExist':
        parts.push(`!${e.key}`);
        break;
      default:
        throw new Error(`unknown label selector operator "${e.operator}" for key ${e.key}`);
    }
  }
  return parts.join(',');
}
