/**
 * What each decision value means to the SRE reading it: when the receiver gives it, what
 * follows, and what to do. Typed by DecisionValue, so a new decision does not compile
 * until it is explained here; docs/decisions.md and the status page read this table.
 */
import type { DecisionValue } from './model.js';

export interface DecisionMeaning {
  /** The condition, as the guard checks it. */
  when: string;
  /** What the receiver does after recording it. */
  effect: string;
  /** What an SRE does about it, if anything. */
  action: string;
}

export const DECISION_MEANINGS: Record<DecisionValue, DecisionMeaning> = {
  resolved: {
    when: 'The alert arrived with status `resolved`.',
    effect: 'Recorded; a `pending` intent for the same alert is cancelled. Nothing is rolled back.',
    action: 'None.',
  },
  duplicate: {
    when: 'The same fingerprint and `startsAt` were already decided (Alertmanager re-sends firing alerts every `group_interval` and `repeat_interval`), also across restarts.',
    effect: 'Recorded; the first decision stands.',
    action: 'None. The first decision of that alert is the one that counts.',
  },
  no_match: {
    when: 'No trigger matches the alert\'s labels.',
    effect: 'Recorded only.',
    action: 'If the alert should roll back, add a trigger (`rollback.triggers`) or the `rollback_trigger` label to the alert rule.',
  },
  disabled: {
    when: 'A trigger matches, but `rollback.enabled` or `rollback.automatic` is false, or the trigger has `automatic: false`.',
    effect: 'Notify only: operators are told, nothing is rolled back.',
    action: 'Decide by hand; `rollback-receiver rollback …` rolls back if needed.',
  },
  not_allowed: {
    when: 'The target is not allowed: no namespace label, a namespace outside `rollback.namespaces` (kube-system is denied by default), a name or strategy that is not valid, or (with a cluster) a workload without the opt-in annotation `rollback-receiver.io/enabled: "true"`.',
    effect: 'Recorded only.',
    action: 'Fix the alert\'s labels, or opt the workload in with the annotation if it should be rolled back automatically.',
  },
  frozen: {
    when: 'The freeze switch is on (`PUT /api/v1/freeze`).',
    effect: 'Recorded; nothing is rolled back while the freeze holds.',
    action: 'Resume with `DELETE /api/v1/freeze` when the reason for the freeze is over.',
  },
  silenced: {
    when: '(With `alertmanager.url`) an active silence in Alertmanager, made by anyone but the receiver, matches the alert\'s labels (Alertmanager\'s matcher semantics). If Alertmanager does not answer within `alertmanager.timeout` (2 s), the alert proceeds and its reason says the check was skipped.',
    effect: 'Recorded; nothing is rolled back. The reason names the silence: id, author, comment, end.',
    action: 'None while the person who silenced it handles the incident; the alert is decided normally once the silence has ended and Alertmanager sends it again.',
  },
  in_progress: {
    when: 'A rollback of the same target is running now.',
    effect: 'Recorded; the running rollback continues (one writer per target).',
    action: 'Watch the running rollback on the status page.',
  },
  cooldown: {
    when: 'The target was rolled back less than `cooldownPeriod` ago (default 300 s; a trigger may set its own).',
    effect: 'Recorded; no second rollback so soon.',
    action: 'If the restored version is also broken, look at it by hand; `DELETE /api/v1/cooldowns/{namespace}/{name}` clears the cooldown.',
  },
  retries_exhausted: {
    when: '`maximumRetries` (default 5) rollback attempts of the target were made within `retryWindow` (default 1 h).',
    effect: 'Recorded and escalated once (`rollback_escalations_total{reason="retries_exhausted"}`).',
    action: 'Follow the runbook: rolling back again is not fixing it.',
  },
  rate_limited: {
    when: 'The global brake: `brake.max` rollbacks (default 10) across all targets within `brake.window` (default 15 min). It trips once, notifies, and holds for a whole window.',
    effect: 'Recorded; no automatic rollback anywhere until the window has passed.',
    action: 'Many rollbacks at once usually mean a shared cause (a bad dependency, the cluster, the alert rules): find it before resuming.',
  },
  stale: {
    when: '(With a cluster) the workload changed after the alert started: someone deployed or rolled back already.',
    effect: 'Recorded; the alert is about a version that no longer runs.',
    action: 'None; a new alert will come if the new version is broken too.',
  },
  refused: {
    when: '(With a cluster) pre-rollback validation failed: no previous revision, a paused Deployment, a missing standby colour, …; or the trigger\'s `maxRevisionAge` (deploy correlation): the current revision went out longer than that before the alert started; or (`gitops:` enabled) an Argo CD / Flux object managing the target cannot be read or paused by the receiver, or an app-of-apps parent self-heals it with `gitops.argocd.parents: refuse` ("GitOps pause not possible: …"). The reason names it (with the revision\'s age).',
    effect: 'Recorded and reported; a `maxRevisionAge` refusal also notifies (`notify_only`), as nobody else acts on the alert.',
    action: 'Read the reason; roll back by hand if there is a way the receiver could not see.',
  },
  pending: {
    when: 'The trigger has `actAfter` (performance triggers: 2 minutes, the seed\'s "cooldown before action"), counted from the first time the receiver saw the alert firing.',
    effect: 'Provisional: when the delay ends the intent is decided again, and that final decision is recorded linked to this one (`pendingOf`). A resolution meanwhile cancels it.',
    action: 'None.',
  },
  executed: {
    when: 'Every guard passed in live mode.',
    effect: 'The rollback started; its record (`rollbackId`) shows every step, then verification and the monitoring window.',
    action: 'Watch it on the status page; read the incident report when it ends.',
  },
  dry_run: {
    when: 'Every guard passed in dry-run (shadow) mode.',
    effect: 'Recorded exactly as if the rollback had run (cooldowns, retries and the brake count), with the API requests a live run would send; nothing in the cluster changes.',
    action: 'Check that this is the rollback you would want; switch to live mode when shadow decisions look right.',
  },
};
