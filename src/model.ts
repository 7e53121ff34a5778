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
