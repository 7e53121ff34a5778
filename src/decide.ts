/**
 * The single place a decision is made: runs the guards in order against the alert,
 * the state and the clock, and returns the decision with every effect it implies.
 * Pure: no I/O, no clock of its own, ids from the caller.
 */
import type { Config } from './config/load.js';
import { GUARDS } from './guards/index.js';
import type { ClusterView, GuardInput, Verdict } from './guards/guard.js';
import { intentFor, matchTrigger, type Intent } from './matching/intent.js';
import { checkTarget } from './matching/target.js';
import { dedupKey, type Alert, type AlertGroup, type StrategyName, type Target } from './model.js';
import type { DecisionRecord, Effect, PendingIntent, RollbackRecord } from './store/records.js';
import type { GuardState } from './store/state-index.js';

export interface DecideInput {
  alert: Alert;
  group: AlertGroup;
  config: Pick<Config, 'rollback' | 'dryRun' | 'execution'>;
  state: GuardState;
  now: number;
  cluster: ClusterView | null;
  newId: () => string;
  redecide?: PendingIntent;
}

export interface Decision {
  record: DecisionRecord;
  effects: Effect[];
  /** The rollback this decision starts (live) or records (dry-run). */
  rollback?: RollbackRecord;
  /** Escalation the notifier must send, with its reason. */
  escalation?: { reason: string; target: Target };
  brakeTripped: boolean;
}

const NO_CLUSTER_NOTE = 'opt-in, stale and validation checks skipped: no cluster configured';

export function decide(input: DecideInput): Decision {
  const { alert, state, now, cluster, config } = input;
  const trigger = input.redecide
    ? input.config.rollback.triggers.find((t) => t.name === input.redecide!.trigger)
    : matchTrigger(alert, config.rollback.triggers);
  const intent: Intent | undefined = trigger ? intentFor(alert, trigger) : undefined;
  const check = intent ? checkTarget(intent, config.rollback, config.execution) : undefined;
  const guardInput: GuardInput = {
    alert,
    intent,
    target: check?.ok ? check.target : undefined,
    strategy: check?.ok ? check.strategy : undefined,
    targetProblem: check && !check.ok ? check.problem : undefined,
    state,
    now,
    policy: config.rollback,
    dryRun: config.dryRun,
    cluster,
    redecide: input.redecide,
  };

  let verdict: Verdict | undefined;
  for (const guard of GUARDS) {
    verdict = guard.check(guardInput);
    if (verdict) break;
  }
  const target = guardInput.target;
  const strategy = guardInput.strategy;
  if (!verdict) verdict = actVerdict(intent!, target!, strategy!, config.dryRun, cluster !== null);

  const record: DecisionRecord = {
    id: input.newId(),
    at: now,
    alert,
    group: input.group,
    trigger: intent?.trigger.name ?? null,
    namespace: intent?.namespace ?? null,
    name: intent?.name ?? null,
    strategy: intent ? (strategy ?? intent.strategy) : null,
    decision: verdict.decision,
    reason: verdict.reason,
    rollbackId: null,
    pendingOf: input.redecide?.id ?? null,
    dueAt: null,
  };
  const effects: Effect[] = [];
  const decision: Decision = { record, effects, brakeTripped: false };
  const key = dedupKey(alert);

  if (input.redecide || (verdict.decision === 'resolved' && state.pending(key))) effects.push({ type: 'pending-close', key });
  switch (verdict.decision) {
    case 'pending': {
      record.dueAt = now + intent!.trigger.actAfterMs;
      effects.push({
        type: 'pending-open',
        pending: {
          id: record.id,
          key,
          alert,
          group: input.group,
          trigger: intent!.trigger.name,
          target: target!,
          strategy: strategy!,
          firstSeenAt: now,
          dueAt: record.dueAt,
        },
      });
      break;
    }
    case 'executed':
    case 'dry_run': {
      const rollback: RollbackRecord = {
        id: input.newId(),
        namespace: target!.namespace,
        name: target!.name,
        strategy: strategy!,
        kind: 'automatic',
        status: config.dryRun ? 'dry_run' : 'running',
        reason: `${intent!.trigger.name}: ${alert.labels.alertname ?? 'alert'} (${alert.annotations.summary ?? 'no summary'})`,
        trigger: intent!.trigger.name,
        decisionId: record.id,
        startedAt: now,
        finishedAt: config.dryRun ? now : null,
        dryRun: config.dryRun,
        steps: [],
      };
      record.rollbackId = rollback.id;
      decision.rollback = rollback;
      effects.push({ type: 'rollback', record: rollback });
      break;
    }
    case 'rate_limited':
      if (verdict.tripBrake) {
        effects.push({ type: 'brake-trip', at: now });
        decision.brakeTripped = true;
      }
      break;
    case 'retries_exhausted':
      if (verdict.escalate) {
        effects.push({ type: 'escalation', target: target!, reason: verdict.escalate, at: now });
        decision.escalation = { reason: verdict.escalate, target: target! };
      }
      break;
    default:
      break;
  }
  effects.unshift({ type: 'decision', record });
  return decision;
}

function actVerdict(intent: Intent, target: Target, strategy: StrategyName, dryRun: boolean, hasCluster: boolean): Verdict {
  const what = `${target.namespace}/${target.name} with ${strategy} (trigger ${intent.trigger.name})`;
  const note = hasCluster ? '' : `; ${NO_CLUSTER_NOTE}`;
  return dryRun
    ? { decision: 'dry_run', reason: `dry-run: would roll back ${what}${note}` }
    : { decision: 'executed', reason: `rolling back ${what}${note}` };
}
