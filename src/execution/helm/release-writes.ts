/**
 * The writes to Helm's release storage a rollback makes, in Helm's shape (pkg/action/rollback.go
 * with the Secrets driver): revision N+1 created `pending-rollback` with the destination's chart,
 * values and manifest, then either superseding the deployed revisions and marking N+1 `deployed`,
 * or marking the current revision `superseded` and N+1 `failed`. Times come from the caller, so
 * the same input gives the same requests.
 */
import type { ApiRequest } from '../../kube/client.js';
import { nameSegment, namespaceSegment } from '../../kube/paths.js';
import { releaseSecret, releaseSecretName, secretDataValue } from './codec.js';
import { SYSTEM_LABELS, type HelmRelease, type StoredRevision } from './release.js';

/** Helm's createdAt / modifiedAt labels: Unix seconds. */
function unixSeconds(now: Date): string {
  return String(Math.floor(now.getTime() / 1000));
}

function customLabels(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).filter(([key]) => !(SYSTEM_LABELS as readonly string[]).includes(key)));
}

function withStatus(release: HelmRelease, status: string, description?: string): HelmRelease {
  return { ...release, info: { ...release.info, status, ...(description === undefined ? {} : { description }) } };
}

function secretsPath(namespace: string): string {
  return `/api/v1/namespaces/${namespaceSegment(namespace)}/secrets`;
}

/** The release Helm's prepareRollback builds: the destination's content as revision current + 1. */
export function rolledBackRelease(current: StoredRevision, destination: StoredRevision, namespace: string, now: Date): HelmRelease {
  const dest = destination.release;
  // Field order as Helm marshals its structs.
  return {
    name: current.release.name,
    info: {
      first_deployed: current.release.info?.first_deployed,
      last_deployed: now.toISOString(),
      description: `Rollback to ${dest.version}`,
      status: 'pending-rollback',
      rollback_revision: dest.version,
      notes: dest.info?.notes,
    },
    chart: dest.chart,
    config: dest.config,
    manifest: dest.manifest,
    hooks: dest.hooks,
    version: current.release.version + 1,
    namespace: current.release.namespace ?? namespace,
    // Helm 4 reads this to upgrade the same way next time: this rollback applies server-side.
    apply_method: 'ssa',
  };
}

/** Creates revision N+1 as `pending-rollback`: a second writer of N+1 gets 409, and Helm sees an operation in progress. */
export function createRevision(release: HelmRelease, destination: StoredRevision, namespace: string, now: Date): ApiRequest {
  return {
    method: 'POST',
    path: secretsPath(namespace),
    body: releaseSecret(release, { ...customLabels(destination.labels), createdAt: unixSeconds(now) }),
  };
}

/**
 * Rewrites a revision's status (and, when given, its description) in both places Helm keeps it:
 * the release JSON and the `status` label. With `resourceVersion`, a revision changed since it was read is not overwritten.
 */
export function setStatus(
  release: HelmRelease,
  namespace: string,
  status: string,
  now: Date,
  opts: { description?: string; resourceVersion?: string } = {},
): ApiRequest {
  return {
    method: 'PATCH',
    path: `${secretsPath(namespace)}/${nameSegment(releaseSecretName(release.name, release.version))}`,
    patchType: 'merge',
    body: {
      metadata: {
        ...(opts.resourceVersion ? { resourceVersion: opts.resourceVersion } : {}),
        labels: { status, modifiedAt: unixSeconds(now) },
      },
      data: { release: secretDataValue(withStatus(release, status, opts.description)) },
    },
  };
}

/** Helm's wording for a failed rollback. */
export function failedDescription(release: string, error: string): string {
  return `Rollback "${release}" failed: ${error}`;
}
