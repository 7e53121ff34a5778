/**
 * Which GitOps object claims a Kubernetes object, from the object's own metadata (pure).
 * A claim is only a lead: the detector confirms it on the GitOps object (an Argo CD
 * Application must list the resource in `status.resources`, since Helm charts set
 * `app.kubernetes.io/instance` too; a Flux object must exist).
 */
import { nameSegment, namespaceSegment, UnsafeNameError } from '../kube/paths.js';

export const ARGOCD_TRACKING_ANNOTATION = 'argocd.argoproj.io/tracking-id';
export const FLUX_KUSTOMIZE_LABELS = { name: 'kustomize.toolkit.fluxcd.io/name', namespace: 'kustomize.toolkit.fluxcd.io/namespace' } as const;
export const FLUX_HELM_LABELS = { name: 'helm.toolkit.fluxcd.io/name', namespace: 'helm.toolkit.fluxcd.io/namespace' } as const;

/** A Kubernetes object as Argo CD names it in tracking ids and `status.resources` (group "" for core). */
export interface ObjectRef {
  group: string;
  kind: string;
  namespace: string;
  name: string;
}

export interface ObjectMeta {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** An Application by name and namespace. */
export interface AppRef {
  namespace: string;
  name: string;
  /** How the claim was found, for reasons. */
  via: string;
}

export type TrackingId = { app: string; ref: ObjectRef };

/**
 * `<app>:<group>/<kind>:<namespace>/<name>` (Argo CD's annotation tracking; group empty
 * for core kinds, namespace empty for cluster-scoped ones). Undefined when malformed.
 */
export function parseTrackingId(value: string): TrackingId | undefined {
  const m = /^([^:]+):([^/:]*)\/([^/:]+):([^/:]*)\/([^/:]+)$/.exec(value.trim());
  if (!m) return undefined;
  const [, app, group, kind, namespace, name] = m as unknown as [string, string, string, string, string, string];
  return { app, ref: { group, kind, namespace, name } };
}

/** An application name as tracked: `name`, or `namespace_name` for an Application outside the control-plane namespace. */
export function appRef(tracked: string, defaultNamespace: string, via: string): AppRef {
  const underscore = tracked.indexOf('_');
  return underscore > 0 ? { namespace: tracked.slice(0, underscore), name: tracked.slice(underscore + 1), via } : { namespace: defaultNamespace, name: tracked, via };
}

function sameRef(a: ObjectRef, b: ObjectRef): boolean {
  return a.group === b.group && a.kind === b.kind && a.namespace === b.namespace && a.name === b.name;
}

/**
 * The Application claiming the object: the tracking annotation when present (a copied
 * annotation naming another object claims nothing, as in Argo CD), else the tracking label.
 */
export function argocdClaim(meta: ObjectMeta, ref: ObjectRef, argocdNamespace: string, trackingLabel: string): AppRef | undefined {
  const annotation = meta.annotations?.[ARGOCD_TRACKING_ANNOTATION];
  if (annotation !== undefined) {
    const id = parseTrackingId(annotation);
    return id && sameRef(id.ref, ref) ? appRef(id.app, argocdNamespace, `annotation ${ARGOCD_TRACKING_ANNOTATION}=${annotation}`) : undefined;
  }
  const label = meta.labels?.[trackingLabel];
  return label ? appRef(label, argocdNamespace, `label ${trackingLabel}=${label}`) : undefined;
}

/** Whether an Application's `status.resources` lists the object. */
export function appListsResource(app: { status?: { resources?: Partial<ObjectRef>[] } }, ref: ObjectRef): boolean {
  return (app.status?.resources ?? []).some((r) => sameRef({ group: r.group ?? '', kind: r.kind ?? '', namespace: r.namespace ?? '', name: r.name ?? '' }, ref));
}

/** A Flux object claiming the object, with the API versions to read it at, newest first. */
export interface FluxClaim {
  kind: 'Kustomization' | 'HelmRelease';
  apiVersions: string[];
  plural: string;
  namespace: string;
  name: string;
  via: string;
}

export function fluxClaims(meta: ObjectMeta): FluxClaim[] {
  const labels = meta.labels ?? {};
  const claims: FluxClaim[] = [];
  const k = { name: labels[FLUX_KUSTOMIZE_LABELS.name], namespace: labels[FLUX_KUSTOMIZE_LABELS.namespace] };
  if (k.name && k.namespace) {
    claims.push({ kind: 'Kustomization', apiVersions: ['kustomize.toolkit.fluxcd.io/v1'], plural: 'kustomizations', ...k, via: `labels ${FLUX_KUSTOMIZE_LABELS.name}` } as FluxClaim);
  }
  const h = { name: labels[FLUX_HELM_LABELS.name], namespace: labels[FLUX_HELM_LABELS.namespace] };
  if (h.name && h.namespace) {
    claims.push({
      kind: 'HelmRelease',
      apiVersions: ['helm.toolkit.fluxcd.io/v2', 'helm.toolkit.fluxcd.io/v2beta2', 'helm.toolkit.fluxcd.io/v2beta1'],
      plural: 'helmreleases',
      ...h,
      via: `labels ${FLUX_HELM_LABELS.name}`,
    } as FluxClaim);
  }
  return claims;
}

/** A Flux source reference (`spec.sourceRef`, `spec.chart.spec.sourceRef`, `spec.chartRef`). */
export interface SourceRef {
  kind?: string;
  name?: string;
  namespace?: string;
  apiVersion?: string;
}

/** Flux's source kinds and their resource names. */
const SOURCE_PLURALS: Record<string, string> = {
  GitRepository: 'gitrepositories',
  OCIRepository: 'ocirepositories',
  HelmRepository: 'helmrepositories',
  HelmChart: 'helmcharts',
  Bucket: 'buckets',
  ExternalArtifact: 'externalartifacts',
};

/** The API path of a Flux source object; undefined when the reference is incomplete, malformed or of an unknown kind. */
export function sourcePath(ref: SourceRef | undefined, defaultNamespace: string): string | undefined {
  const plural = ref?.kind ? SOURCE_PLURALS[ref.kind] : undefined;
  if (!ref?.name || !plural) return undefined;
  const apiVersion = ref.apiVersion ?? 'source.toolkit.fluxcd.io/v1';
  if (!/^[a-z0-9.-]+\/v[a-z0-9]+$/.test(apiVersion)) return undefined;
  try {
    return `/apis/${apiVersion}/namespaces/${namespaceSegment(ref.namespace ?? defaultNamespace)}/${plural}/${nameSegment(ref.name)}`;
  } catch (err) {
    if (err instanceof UnsafeNameError) return undefined;
    throw err;
  }
}
