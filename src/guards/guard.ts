/** One guard of SPEC §1: a pure function of (alert, intent, state, clock) to a verdict or a pass. */
import type { Config } from '../config/load.js';
import type { Alert, DecisionValue, StrategyName, Target } from '../model.js';
import type { Intent } from '../matching/intent.js';
import type { PendingIntent } from '../store/records.js';
import type { GuardState } from '../store/state-index.js';

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
}

export interface ClusterView {
  facts(target: Target, strategy: StrategyName): WorkloadFacts;
}

export interface GuardInput {
  alert: Alert;
  /** Undefined when no trigger matched. */
  intent: Intent | undefined;
  /** The checked target and strategy; guards after not_allowed may rely on them. */
  target?: Target;
  strategy?: StrategyName;
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
}

export interface Verdict {
  decision: DecisionValue;
  reason: string;
  /** Escalate with this reason (retries_exhausted). */
  escalate?: string;
  /** The global brake trips with this decision. */
  tripBrake?: boolean;
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
