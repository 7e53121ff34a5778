/**
 * A Helm 3 release as Helm stores it (pkg/release: the JSON inside the release Secret),
 * with Helm's own field names. Only the fields the receiver reads are typed; every
 * other field (chart templates, values, hooks, fields newer Helm versions add) is
 * carried through untouched, so a release written back reads the same to Helm.
 */

/**
 * Helm's release statuses (pkg/release/common/status.go): unknown, deployed, uninstalled,
 * superseded, failed, uninstalling, pending-install, pending-upgrade, pending-rollback.
 */

/** Another Helm operation is under way on the release (Helm's Status.IsPending). */
export function isPending(status: string): boolean {
  return status === 'pending-install' || status === 'pending-upgrade' || status === 'pending-rollback';
}

export interface ReleaseInfo {
  /** RFC 3339 times, as Go's time.Time marshals them. */
  first_deployed?: string;
  last_deployed?: string;
  deleted?: string;
  description?: string;
  status?: string;
  notes?: string;
  [field: string]: unknown;
}

export interface ChartMetadata {
  name?: string;
  version?: string;
  appVersion?: string;
  [field: string]: unknown;
}

export interface HelmRelease {
  name: string;
  namespace?: string;
  version: number;
  info?: ReleaseInfo;
  chart?: { metadata?: ChartMetadata; [field: string]: unknown };
  /** The user-supplied values: may hold credentials, never logged. */
  config?: Record<string, unknown>;
  manifest?: string;
  hooks?: unknown[];
  [field: string]: unknown;
}

/** Label keys Helm's storage driver owns on a release Secret (driver/util.go systemLabels). */
export const SYSTEM_LABELS = ['name', 'owner', 'status', 'version', 'createdAt', 'modifiedAt'] as const;

/** One revision as read from its Secret. */
export interface StoredRevision {
  release: HelmRelease;
  secretName: string;
  /** For optimistic locking when the revision's status is rewritten. */
  resourceVersion: string;
  /** The Secret's labels (system labels and any custom `--labels`). */
  labels: Record<string, string>;
}

/** The revision's status: the release JSON's, else the Secret's `status` label. */
export function statusOf(rev: StoredRevision): string {
  return rev.release.info?.status ?? rev.labels.status ?? 'unknown';
}
