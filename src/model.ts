/** The vocabulary shared along the alert's journey (SPEC §1, §2). */

export const STRATEGIES = ['deployment-undo', 'blue-green', 'scale-swap', 'helm'] as const;
export type StrategyName = (typeof STRATEGIES)[number];

/** Every decision value of SPEC §1, in guard order. */
export const DECISIONS = [
  'resolved',
  'duplicate',
  'no_match',
  'disabled',
  'not_allowed',
  'frozen',
  'silenced',
  'in_progress',
  'cooldown',
  'retries_exhausted',
  'rate_limited',
  'stale',
  'refused',
  'pending',
  'executed',
  'dry_run',
] as const;
export type DecisionValue = (typeof DECISIONS)[number];

export const ROLLBACK_KINDS = ['automatic', 'manual', 'emergency'] as const;
export type RollbackKind = (typeof ROLLBACK_KINDS)[number];

export const EXECUTION_RESULTS = ['success', 'failed', 'escalated'] as const;

/** A workload to roll back. */
export interface Target {
  namespace: string;
  name: string;
}

export function targetKey(t: Target): string {
  return `${t.namespace}/${t.name}`;
}

/**
 * A Kubernetes object a strategy changes, as a key (`Deployment:prod/api-blue`). The
 * admission lock is keyed on these, so targets that share an object exclude each other.
 */
export function objectKey(kind: string, namespace: string, name: string): string {
  return `${kind}:${namespace}/${name}`;
}

/**
 * One version of a target, identified by content so that renumbering does not change it:
 * a Deployment's pod-template digest, a blue-green colour with its template digest, a
 * scale-swap side with its template digest.
 */
export interface Revision {
  /** Stable identity: `3f2a9c0b1d4e` (template digest) or `green@3f2a9c0b1d4e` (side@digest). */
  id: string;
  /** For people: `revision 3 (app:v1)`, `colour green (app:v2)`. */
  label: string;
  /** The Deployment's revision number, when there is one. */
  number?: number;
  /** The blue-green colour or scale-swap side (`current`/`previous`) this revision is. */
  side?: string;
  images: string[];
  /** helm: the Deployments (`namespace/name`) the revision's manifest holds, verified after restoring it. */
  deployments?: string[];
}

/**
 * The plan of a rollback, fixed once when it is admitted: where it goes, from where.
 * Retries and restarts compare the cluster with the pin; they never choose again.
 */
export interface Pin {
  /** What served when the rollback was admitted: quarantined for the target. */
  from: Revision;
  /** The destination. */
  to: Revision;
  /** Replicas the restored side gets (blue-green, scale-swap), read at admission. */
  replicas?: number;
  /** When it was pinned (ms): helm stores it as the new revision's times, so a plan rebuilt later sends the same bodies. */
  pinnedAt?: number;
  /** Why this destination, for reasons and reports ("known-good since …", "not yet proven"). */
  note: string;
  /** GitOps reconciliations paused before the rollback (Argo CD, Flux), read at admission; absent when none. */
  pauses?: GitOpsPause[];
}

/**
 * One GitOps object whose reconciliation a rollback pauses: the field it sets while paused
 * and the value it had, restored on resume (an Argo CD Application's
 * `spec.syncPolicy.automated`, a Flux object's `spec.suspend`). Pinned at admission, so a
 * resumed rollback never re-reads an already paused object as "not automated".
 */
export interface GitOpsPause {
  tool: 'argocd' | 'flux';
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  /** Its API path. */
  path: string;
  field: string[];
  /** The field's value before the pause (null: absent), restored on resume. */
  before: unknown;
  /** The value while paused (null: removed). */
  paused: unknown;
  /** Why it is paused: what it manages ("manages Deployment prod/api"). */
  why: string;
  /** Where its source's revision is read, and what it was at admission (resume on source change). */
  source?: { path: string; field: string[]; revision: string };
}

/** One alert as the receiver keeps it: Alertmanager's fields, times parsed. */
export interface Alert {
  fingerprint: string;
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** As Alertmanager sent it (nanosecond precision kept); the dedup identity. */
  startsAt: string;
  startsAtMs: number;
  endsAt: string;
  generatorURL: string;
}

/** What the group around the alert said, kept for reports and links. */
export interface AlertGroup {
  receiver: string;
  groupKey: string;
  externalURL: string;
  truncatedAlerts: number;
}

export function dedupKey(alert: Pick<Alert, 'fingerprint' | 'startsAt'>): string {
  return `${alert.fingerprint}@${alert.startsAt}`;
}
