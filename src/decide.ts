/**
 * The single place a decision is made, for alerts and operator requests alike: runs the
 * guards in order against the intent, the ledger and the clock, pins the destination,
 * and returns the decision with every effect it implies (the rollback, the revisions it
 * quarantines and installs, escalations). Pure: no I/O, no clock of its own, ids from
 * the caller. The dispatcher calls it inside its serialized commit, so whatever it admits
 * is visible to the next decision at once.
 */
import { planSilence, SILENCE_STEP } from './alertmanager/rollback-silence.js';
import { matcherText, type SilenceCheck } from './alertmanager/silence.js';
import { reportUrl } from './notify/message.js';
import type { Config } from './config/load.js';
import { chooseDestination, type DestinationChoice, type ExplicitDestination } from './guards/destination.js';
import { ALERT_GUARDS, OPERATOR_GUARDS } from './guards/index.js';
import type { ClusterView, Guard, GuardInput, Verdict } from './guards/guard.js';
import { intentFor, matchTrigger, type Intent } from './matching/intent.js';
import { checkTarget, touchedObjects } from './matching/target.js';
import { DECISIONS, dedupKey, type Alert, type AlertGroup, type Pin, type RollbackKind, type StrategyName, type Target } from './model.js';
import type { DecisionRecord, Effect, PendingIntent, RollbackRecord, RollbackStep } from './store/records.js';
import type { GuardState } from './store/state-index.js';

type DecideConfig = Pick<Config, 'rollback' | 'dryRun' | 'execution' | 'alertmanager' | 'monitoring' | 'notifications'>;

export interface DecideInput {
  alert: Alert;
  group: AlertGroup;
  config: DecideConfig;
  state: GuardState;
  now: number;
  cluster: ClusterView | null;
  newId: () => string;
  redecide?: PendingIntent;
  /** Alertmanager's silences (guard 6a); undefined when Alertmanager is not configured. */
  silences?: SilenceCheck;
}

export interface Decision {
  record: DecisionRecord;
  effects: Effect[];
  /** The rollback this decision starts (live) or records (dry-run). */
  rollback?: RollbackRecord;
  /** Escalation the notifier must send, with its reason. */
  escalation?: { reason: string; target: Target };
  brakeTripped: boolean;
  /** Nothing is done, but people should hear of the alert (`notify_only`). */
  notify: boolean;
}

const NO_CLUSTER_NOTE = 'opt-in, stale and validation checks skipped: no cluster configured';

function firstVerdict(guards: readonly Guard[], input: GuardInput): Verdict | undefined {
  for (const guard of guards) {
    const verdict = guard.check(input);
    if (verdict) return verdict;
  }
  return undefined;
}

function destinationFor(
  cluster: ClusterView | null,
  state: GuardState,
  target: Target | undefined,
  strategy: StrategyName | undefined,
  kind: RollbackKind,
  now: number,
  explicit?: ExplicitDestination,
): DestinationChoice | null {
  if (!cluster || !target || !strategy) return null;
  const facts = cluster.facts(target, strategy);
  // An emergency skips pre-rollback validation, not the choice of where to go.
  const considered = kind === 'emergency' ? { ...facts, validationProblem: undefined } : facts;
  const choice = chooseDestination(considered, state.revisions(target), kind, explicit);
  // The GitOps pauses are pinned with the destination: a resumed rollback never re-reads a paused object as "not automated".
  const pauses = facts.gitops?.pauses;
  return choice.ok ? { ok: true, pin: { ...choice.pin, pinnedAt: now, ...(pauses?.length ? { pauses } : {}) } } : choice;
}

/**
 * The lock keys: the objects the strategy derives from the target's name, and those the
 * cluster says it changes besides (a Helm release's Deployments and Services, so a
 * deployment-undo of a Deployment the release manages excludes a rollback of the release).
 */
function lockedObjects(target: Target, strategy: StrategyName, config: DecideConfig, cluster: ClusterView | null): string[] {
  const own = touchedObjects(target, strategy, config.execution);
  return [...new Set([...own, ...(cluster?.facts(target, strategy).objects ?? [])])];
}

/** "from revision 2 (app:broken) to revision 1 (app:v1), not yet proven" */
export function pinText(pin: Pin | null): string {
  return pin ? `from ${pin.from.label} to ${pin.to.label}, ${pin.note}` : '';
}

interface Admitted {
  target: Target;
  strategy: StrategyName;
  kind: RollbackKind;
  objects: string[];
  pin: Pin | null;
  reason: string;
  trigger: string | null;
  decisionId: string | null;
  steps: RollbackStep[];
}

/** The rollback an admission starts, and what it records about the target's revisions. */
function admit(a: Admitted, dryRun: boolean, now: number, id: string): { rollback: RollbackRecord; effects: Effect[] } {
  const rollback: RollbackRecord = {
    id,
    namespace: a.target.namespace,
    name: a.target.name,
    strategy: a.strategy,
    kind: a.kind,
    status: dryRun ? 'dry_run' : 'running',
    reason: a.reason,
    trigger: a.trigger,
    decisionId: a.decisionId,
    startedAt: now,
    finishedAt: dryRun ? now : null,
    dryRun,
    steps: a.steps,
    objects: a.objects,
    pin: a.pin,
  };
  const effects: Effect[] = [{ type: 'rollback', record: rollback }];
  if (a.pin) {
    // Shadow mode records the quarantine exactly as a live run would.
    effects.push(
      { type: 'revision-mark', target: a.target, mark: { revision: a.pin.from, status: 'bad', since: now, rollbackId: id } },
      { type: 'revision-mark', target: a.target, mark: { revision: a.pin.to, status: 'installed', since: now, rollbackId: id } },
    );
  }
  return { rollback, effects };
}

/** An escalation, once per target, reason and revision. */
function escalationEffect(verdict: Verdict, target: Target, state: GuardState, now: number): Extract<Effect, { type: 'escalation' }> | undefined {
  if (!verdict.escalate) return undefined;
  const last = state.lastEscalation(target, verdict.escalate);
  if (verdict.escalateRevision !== undefined && last?.revision === verdict.escalateRevision) return undefined;
  return { type: 'escalation', target, reason: verdict.escalate, at: now, revision: verdict.escalateRevision };
}

export function decide(input: DecideInput): Decision {
  const { alert, state, now, cluster, config } = input;
  const trigger = input.redecide
    ? input.config.rollback.triggers.find((t) => t.name === input.redecide!.trigger)
    : matchTrigger(alert, config.rollback.triggers);
  const intent: Intent | undefined = trigger ? intentFor(alert, trigger) : undefined;
  const check = intent ? checkTarget(intent, config.rollback, config.execution) : undefined;
  const target = check?.ok ? check.target : undefined;
  const strategy = check?.ok ? check.strategy : undefined;
  // The per-payload target cap: a target not read is refused, never decided on guesses.
  const unread = cluster && target && strategy ? cluster.skipped(target, strategy) : undefined;
  const guardInput: GuardInput = {
    alert,
    intent,
    kind: 'automatic',
    target,
    strategy,
    objects: target && strategy ? lockedObjects(target, strategy, config, unread ? null : cluster) : undefined,
    evidenceSince: alert.startsAtMs,
    targetProblem: check && !check.ok ? check.problem : undefined,
    destination: unread ? null : destinationFor(cluster, state, target, strategy, 'automatic', now),
    state,
    now,
    policy: config.rollback,
    dryRun: config.dryRun,
    cluster: unread ? null : cluster,
    redecide: input.redecide,
    silences: input.silences,
  };

  let verdict = firstVerdict(ALERT_GUARDS.slice(0, 5), guardInput);
  if (!verdict && unread) verdict = { decision: 'refused', reason: unread };
  verdict ??= firstVerdict(ALERT_GUARDS.slice(5), guardInput);
  const pin = guardInput.destination?.ok ? guardInput.destination.pin : null;
  if (!verdict) verdict = actVerdict(intent!, target!, strategy!, pin, config.dryRun, cluster !== null);
  if (input.silences && !input.silences.ok && passedSilenceCheck(verdict)) {
    verdict = { ...verdict, reason: `${verdict.reason}; silence check skipped: ${input.silences.problem}` };
  }

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
  const decision: Decision = { record, effects, brakeTripped: false, notify: verdict.notify === true };
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
      const rollbackId = input.newId();
      const admitted = admit(
        {
          target: target!,
          strategy: strategy!,
          kind: 'automatic',
          objects: guardInput.objects!,
          pin,
          reason: `${intent!.trigger.name}: ${alert.labels.alertname ?? 'alert'} (${alert.annotations.summary ?? 'no summary'})`,
          trigger: intent!.trigger.name,
          decisionId: record.id,
          steps: silenceSteps(config, rollbackId, target!, alert, intent!.nameLabel!, now),
        },
        config.dryRun,
        now,
        rollbackId,
      );
      record.rollbackId = admitted.rollback.id;
      decision.rollback = admitted.rollback;
      effects.push(...admitted.effects);
      break;
    }
    case 'rate_limited':
      if (verdict.tripBrake) {
        effects.push({ type: 'brake-trip', at: now });
        decision.brakeTripped = true;
      }
      break;
    default:
      break;
  }
  const escalation = target ? escalationEffect(verdict, target, state, now) : undefined;
  if (escalation) {
    effects.push(escalation);
    decision.escalation = { reason: escalation.reason, target: escalation.target };
  }
  effects.unshift({ type: 'decision', record });
  return decision;
}

/** The silence on the target's rollback alerts during verification and the window (`alertmanager.silenceDuringWindow`), as a planned step. */
function silenceSteps(config: DecideConfig, rollbackId: string, target: Target, alert: Alert, nameLabel: string, now: number): RollbackStep[] {
  if (!config.alertmanager?.silenceDuringWindow) return [];
  const untilMs = now + config.rollback.executionTimeoutMs + (config.monitoring.enabled ? config.monitoring.durationMs : 0);
  const body = planSilence({ rollbackId, target, alert, nameLabel, now, untilMs, link: reportUrl(config.notifications.receiverUrl, rollbackId) });
  return [
    {
      at: now,
      name: SILENCE_STEP,
      detail: `silence ${matcherText(body.matchers)} in Alertmanager until the monitoring window ends or escalates (at most until ${body.endsAt})`,
      request: { method: 'POST', path: '/api/v2/silences', body },
    },
  ];
}

/** Whether the decision came after guard 6a, so the silence check mattered to it. */
function passedSilenceCheck(verdict: Verdict): boolean {
  return DECISIONS.indexOf(verdict.decision) > DECISIONS.indexOf('silenced');
}

function actVerdict(intent: Intent, target: Target, strategy: StrategyName, pin: Pin | null, dryRun: boolean, hasCluster: boolean): Verdict {
  const what = `${target.namespace}/${target.name} with ${strategy} (trigger ${intent.trigger.name})${pin ? ` ${pinText(pin)}` : ''}`;
  const note = hasCluster ? '' : `; ${NO_CLUSTER_NOTE}`;
  return dryRun
    ? { decision: 'dry_run', reason: `dry-run: would roll back ${what}${note}` }
    : { decision: 'executed', reason: `rolling back ${what}${note}` };
}

/** An operator's rollback request (API/CLI), already checked for shape and target. */
export interface OperatorRequest {
  target: Target;
  strategy: StrategyName;
  kind: RollbackKind;
  reason: string;
  explicit: ExplicitDestination;
  /** `--automatic`: when the evidence began (the stale guard), if the caller knows. */
  detectedAt?: number;
}

export interface OperatorInput {
  request: OperatorRequest;
  config: DecideConfig;
  state: GuardState;
  now: number;
  cluster: ClusterView;
  newId: () => string;
}

export type OperatorDecision =
  | { admitted: true; rollback: RollbackRecord; effects: Effect[] }
  | {
      admitted: false;
      verdict: Verdict;
      /** The running rollback that holds the target, for a 409 that names it. */
      runningId?: string;
      effects: Effect[];
      escalation?: { reason: string; target: Target };
    };

/** Admits or refuses an operator's rollback by the guards of its kind, pinning the destination. */
export function decideOperator(input: OperatorInput): OperatorDecision {
  const { request, state, now, config, cluster } = input;
  const { target, strategy, kind } = request;
  const objects = lockedObjects(target, strategy, config, cluster);
  const guardInput: GuardInput = {
    intent: undefined,
    kind,
    target,
    strategy,
    objects,
    evidenceSince: request.detectedAt,
    destination: destinationFor(cluster, state, target, strategy, kind, now, request.explicit),
    state,
    now,
    policy: config.rollback,
    dryRun: false,
    cluster,
  };
  const verdict = firstVerdict(OPERATOR_GUARDS[kind], guardInput);
  if (verdict) {
    const escalation = escalationEffect(verdict, target, state, now);
    return {
      admitted: false,
      verdict,
      runningId: verdict.decision === 'in_progress' ? state.runningOn(objects)?.id : undefined,
      effects: escalation ? [escalation] : [],
      escalation: escalation ? { reason: escalation.reason, target } : undefined,
    };
  }
  const pin = guardInput.destination?.ok ? guardInput.destination.pin : null;
  const { rollback, effects } = admit(
    {
      target,
      strategy,
      kind,
      objects,
      pin,
      reason: request.reason,
      trigger: null,
      decisionId: null,
      steps: [{ at: now, name: 'requested', detail: `${kind} rollback requested by an operator: ${request.reason}${pin ? `; ${pinText(pin)}` : ''}` }],
    },
    false,
    now,
    input.newId(),
  );
  return { admitted: true, rollback, effects };
}
