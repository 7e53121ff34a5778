/**
 * One guard of SPEC §1: a pure function of (intent, state, clock) to a verdict or a pass.
 * Alerts meet every guard; operator requests meet the ones their kind lists (index.ts).
 */
import type { Config } from '../config/load.js';
import type { Alert, DecisionValue, Revision, RollbackKind, StrategyName, Target } from '../model.js';
import type { Intent } from '../matching/intent.js';
import type { PendingIntent } from '../store/records.js';
import type { GuardState } from '../store/state-index.js';
import type { DestinationChoice } from './destination.js';
import type { GitOpsFacts } from '../gitops/detect.js';
import type { SilenceCheck } from '../alertmanager/silence.js';

/** What the cluster says about a target, read before the decision pass (null: no cluster). */
export interface WorkloadFacts {
  /** The object carrying the opt-in annotation, e.g. "Deployment prod/api". */
  optInObject: string;
  optedIn: boolean;
  /** When the workload's current revision was made (ms); undefined when unknown. */
  revisionAt?: number;
  /** Why the workload could not be read (not found, forbidden); the opt-in cannot be checked then. */
  unreadable?: string;
  /** Why pre-rollback validation fails; undefined when it passes. */
  validationProblem?: string;
  /** Who made the current revision (a managedFields manager), for "changed concurrently by …". */
  changedBy?: string;
  /** The revision serving now: what a rollback rolls away from. */
  current?: Revision;
  /** Where a rollback could go, newest first (never the current revision). */
  candidates: Revision[];
  /** Replicas the restored side gets (blue-green, scale-swap): what the serving side's HPA wants, else those serving now. */
  replicas?: number;
  /** Argo CD / Flux objects to pause first, or why they cannot be (gitops enabled only). */
  gitops?: GitOpsFacts;
  /** Revisions an operator may name when wider than `candidates` (helm: any other revision, as `helm rollback`). */
  nameable?: Revision[];
  /** The revision an operator request without one (or with 0) restores (helm: current − 1, as `helm rollback`). */
  operatorDefault?: number;
  /** Why a revision (by id) cannot be restored (helm: kinds outside the supported ones); choosing it is refused, never skipped. */
  unrestorable?: Record<string, string>;
  /** Objects beyond the target's own that a rollback changes (helm: the release's objects), locked too (model.objectKey). */
  objects?: string[];
}

export interface ClusterView {
  facts(target: Target, strategy: StrategyName): WorkloadFacts;
  /** Why the target was not read (the per-payload target cap), or undefined when it was. */
  skipped(target: Target, strategy: StrategyName): string | undefined;
}

export interface GuardInput {
  /** The alert, when an alert asks; undefined for operator requests. */
  alert?: Alert;
  /** The matched trigger; undefined when no trigger matched and for operator requests. */
  intent: Intent | undefined;
  kind: RollbackKind;
  /** The checked target and strategy; guards after not_allowed may rely on them. */
  target?: Target;
  strategy?: StrategyName;
  /** The objects the strategy changes on the target (the lock keys). */
  objects?: string[];
  /** When the evidence began (the alert's startsAt, an operator's detectedAt): the stale guard compares with it. */
  evidenceSince?: number;
  /** Where the rollback would go, chosen from the cluster's facts and the ledger (null: no cluster). */
  destination?: DestinationChoice | null;
  /** Why the intent's target or strategy cannot be used (reported by not_allowed). */
  targetProblem?: string;
  state: GuardState;
  now: number;
  policy: Config['rollback'];
  dryRun: boolean;
  /** null: no cluster configured, so the cluster guards are skipped and say so. */
  cluster: ClusterView | null;
  /** Set when a `pending` intent is decided again after its delay. */
  redecide?: PendingIntent;
  /** Alertmanager's silences, read before the decision; undefined when Alertmanager is not configured. */
  silences?: SilenceCheck;
}

export interface Verdict {
  decision: DecisionValue;
  reason: string;
  /** Escalate with this reason (retries_exhausted, no_safe_destination). */
  escalate?: string;
  /** The revision the escalation is about: it escalates once per revision. */
  escalateRevision?: string;
  /** The global brake trips with this decision. */
  tripBrake?: boolean;
  /** Nothing is done, but people should hear of the alert (a `notify_only` notification). */
  notify?: boolean;
}

export interface Guard {
  name: string;
  check(input: GuardInput): Verdict | undefined;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function seconds(ms: number): string {
  return `${Math.round(ms / 1000)}s`;
}
