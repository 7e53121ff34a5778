/** What the store keeps: decisions, rollbacks, pending intents, and the switches. */
import type { Alert, AlertGroup, DecisionValue, GitOpsPause, Pin, Revision, RollbackKind, StrategyName, Target } from '../model.js';

export interface DecisionRecord {
  id: string;
  /** When the receiver decided (ms). */
  at: number;
  alert: Alert;
  group: AlertGroup;
  trigger: string | null;
  namespace: string | null;
  name: string | null;
  strategy: string | null;
  decision: DecisionValue;
  reason: string;
  rollbackId: string | null;
  /** Set on the final decision of a `pending` intent: the id of that pending decision. */
  pendingOf: string | null;
  /** For `pending`: when the intent will be decided again (ms). */
  dueAt: number | null;
}

export type RollbackStatus = 'dry_run' | 'running' | 'success' | 'failed' | 'escalated';

export interface RollbackStep {
  at: number;
  name: string;
  detail: string;
  request?: { method: string; path: string; body?: unknown };
  result?: string;
}

export interface RollbackRecord {
  id: string;
  namespace: string;
  name: string;
  strategy: StrategyName;
  kind: RollbackKind;
  status: RollbackStatus;
  reason: string;
  trigger: string | null;
  decisionId: string | null;
  startedAt: number;
  finishedAt: number | null;
  dryRun: boolean;
  steps: RollbackStep[];
  /** The objects the rollback changes (object keys): what it holds while running. */
  objects: string[];
  /** Where it goes, chosen at admission; null without a cluster (dry-run without one). */
  pin: Pin | null;
}

/** What the receiver knows of one revision of a target. */
export type RevisionStatus = 'bad' | 'installed' | 'known-good';

/**
 * A revision in a target's ledger: `bad` (the receiver rolled away from it: never an
 * automatic destination), `installed` (the receiver rolled to it and it is not proven yet),
 * `known-good` (it passed a monitoring window).
 */
export interface RevisionMark {
  revision: Revision;
  status: RevisionStatus;
  /** When it got this status (ms). */
  since: number;
  rollbackId: string | null;
}

export interface PendingIntent {
  /** The id of the `pending` decision. */
  id: string;
  key: string;
  alert: Alert;
  group: AlertGroup;
  trigger: string;
  target: Target;
  strategy: StrategyName;
  firstSeenAt: number;
  dueAt: number;
}

export interface Freeze {
  since: number;
  reason: string;
}

export interface DecidedInfo {
  id: string;
  decision: DecisionValue;
  at: number;
}

/** A post-rollback monitoring window (seed: 30 minutes of enhanced monitoring). */
export type WindowStatus = 'active' | 'recovered' | 'breached' | 'escalated' | 'stopped';

export interface WindowRecord {
  id: string;
  /** null for a window started by `monitor-deployment` without a rollback. */
  rollbackId: string | null;
  namespace: string;
  name: string;
  /** The Deployment serving after the rollback ({deployment} in queries): `<name>-blue`, `<name>-previous`, or the name. */
  deployment: string;
  startedAt: number;
  endsAt: number;
  intervalMs: number;
  status: WindowStatus;
  /** Why it escalated (monitoring_breach, monitoring_unknown), once. */
  escalation: string | null;
  finishedAt: number | null;
  /** With replicas: who else took samples of it (its history is split between their records). */
  note?: string | null;
  /** Stage checkpoints (offsets from the start, ms), fixed when the window opened (monitoring/stages.ts). */
  stagesMs?: number[];
}

export type SampleState = 'ok' | 'breach' | 'unknown';

export interface SampleRecord {
  windowId: string;
  /** The scheduled time the sample is for (a missed one is queried at this time later). */
  at: number;
  metric: string;
  value: number | null;
  threshold: number | null;
  state: SampleState;
  detail: string;
}

/**
 * A GitOps reconciliation a rollback paused: kept until it is resumed (by an operator, or
 * on source change), whatever the retention, because it holds the value to restore.
 */
export interface GitOpsPauseRecord {
  /** `<rollbackId>-<n>`: the n-th pause of the rollback's pin. */
  id: string;
  rollbackId: string;
  target: Target;
  /** The rolled-back object (events about the pause go on it). */
  object: { kind: string; apiVersion: string; namespace: string; name: string; uid: string };
  pause: GitOpsPause;
  pausedAt: number;
  status: 'paused' | 'resumed';
  resumedAt: number | null;
  /** Who or what resumed it, and how ("operator …", "source moved on: …"). */
  resumedBy: string | null;
}

/**
 * Every change to the state is one of these. The same list is applied to the in-memory
 * index and written to the database in one transaction, so the two cannot drift.
 */
export type Effect =
  | { type: 'decision'; record: DecisionRecord }
  | { type: 'rollback'; record: RollbackRecord }
  /** Steps so far of a running rollback, recorded before verification so a crash keeps them. */
  | { type: 'rollback-steps'; id: string; steps: RollbackStep[] }
  | { type: 'rollback-finished'; id: string; target: Target; status: RollbackStatus; at: number; steps: RollbackStep[] }
  | { type: 'pending-open'; pending: PendingIntent }
  | { type: 'pending-close'; key: string }
  | { type: 'brake-trip'; at: number }
  /** `revision`: the revision the escalation is about, so one revision escalates once. */
  | { type: 'escalation'; target: Target; reason: string; at: number; revision?: string }
  | { type: 'revision-mark'; target: Target; mark: RevisionMark }
  /** An operator clears the quarantine of one revision, or of every bad revision of the target. */
  | { type: 'quarantine-clear'; target: Target; revisionId: string | null; at: number }
  | { type: 'guard-reset'; target: Target; at: number }
  | { type: 'freeze'; freeze: Freeze | null }
  | { type: 'window-open'; window: WindowRecord }
  | { type: 'window-samples'; samples: SampleRecord[] }
  | { type: 'window-update'; id: string; status: WindowStatus; escalation: string | null; finishedAt: number | null; note?: string }
  | { type: 'gitops-pause'; record: GitOpsPauseRecord };
