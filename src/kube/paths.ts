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
};

/** `a=b,c=d` from a label map (values are checked by the API server; the selector is query-encoded). */
export function labelSelector(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
