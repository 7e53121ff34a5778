/**
 * The kinds a Helm rollback may touch, and their API paths. Exactly these (the RBAC
 * rules grant no more): a release holding anything else is refused, not half-restored.
 * Applies follow Helm's InstallOrder and deletions its UninstallOrder
 * (pkg/release/v1/util/kind_sorter.go), restricted to these kinds.
 */
import { nameSegment, namespaceSegment } from '../../kube/paths.js';

interface KindInfo {
  /** API groups the kind is served from ('' = core). */
  groups: readonly string[];
  plural: string;
  /** Has `spec.replicas` a HorizontalPodAutoscaler may own. */
  scalable?: true;
}

const KINDS: Record<string, KindInfo> = {
  PodDisruptionBudget: { groups: ['policy'], plural: 'poddisruptionbudgets' },
  ServiceAccount: { groups: [''], plural: 'serviceaccounts' },
  Secret: { groups: [''], plural: 'secrets' },
  ConfigMap: { groups: [''], plural: 'configmaps' },
  Service: { groups: [''], plural: 'services' },
  DaemonSet: { groups: ['apps'], plural: 'daemonsets' },
  Deployment: { groups: ['apps'], plural: 'deployments', scalable: true },
  HorizontalPodAutoscaler: { groups: ['autoscaling'], plural: 'horizontalpodautoscalers' },
  StatefulSet: { groups: ['apps'], plural: 'statefulsets', scalable: true },
  Ingress: { groups: ['networking.k8s.io', 'extensions'], plural: 'ingresses' },
};

/** In Helm's install order. */
export const SUPPORTED_KINDS = Object.keys(KINDS);
/** The API resources of the supported kinds (what the RBAC rules grant writes on). */
export const SUPPORTED_RESOURCES = Object.values(KINDS).flatMap((k) => k.groups.map((group) => ({ group, resource: k.plural })));
const UNINSTALL_ORDER = ['Ingress', 'Service', 'StatefulSet', 'HorizontalPodAutoscaler', 'Deployment', 'DaemonSet', 'ConfigMap', 'Secret', 'ServiceAccount', 'PodDisruptionBudget'];

const VERSION = /^v\d+((alpha|beta)\d+)?$/;

/** `group` and `version` of an apiVersion (`v1` is the core group). */
export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** Undefined when the kind is supported at this apiVersion, else how it is named in the refusal. */
export function unsupported(kind: string, apiVersion: string): string | undefined {
  const info = KINDS[kind];
  if (!info) return kind;
  const { group, version } = splitApiVersion(apiVersion);
  return info.groups.includes(group) && VERSION.test(version) ? undefined : `${kind} (${apiVersion})`;
}

export function isScalable(kind: string): boolean {
  return KINDS[kind]?.scalable === true;
}

/** The object's API path. Throws for an unsupported kind (callers check {@link unsupported} first). */
export function objectPath(ref: { apiVersion: string; kind: string; namespace: string; name: string }): string {
  const info = KINDS[ref.kind];
  if (!info || unsupported(ref.kind, ref.apiVersion)) throw new Error(`no API path for unsupported kind ${ref.kind} (${ref.apiVersion})`);
  const prefix = ref.apiVersion.includes('/') ? `/apis/${ref.apiVersion}` : `/api/${ref.apiVersion}`;
  return `${prefix}/namespaces/${namespaceSegment(ref.namespace)}/${info.plural}/${nameSegment(ref.name)}`;
}

function orderBy(order: readonly string[]) {
  return <T extends { kind: string }>(objects: readonly T[]): T[] =>
    // Array.prototype.sort is stable: objects of one kind keep their manifest order.
    [...objects].sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
}

export const inInstallOrder = orderBy(SUPPORTED_KINDS);
export const inUninstallOrder = orderBy(UNINSTALL_ORDER);
