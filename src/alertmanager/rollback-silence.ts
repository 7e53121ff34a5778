/**
 * The silence the receiver puts on a target's rollback alerts while it verifies and
 * monitors a rollback (`alertmanager.silenceDuringWindow`). Planned at admission (pure,
 * so dry-run shows exactly the silence a live run creates), created after the commit,
 * expired when the monitoring window ends or escalates. Alertmanager itself keeps it:
 * the comment carries the rollback id, so any restart (or replica) finds and expires it,
 * and its end is bounded by the longest the rollback and its window can take.
 */
import type { Alert, Target } from '../model.js';
import type { PostableSilence } from './client.js';
import { RECEIVER_CREATED_BY, type Silence } from './silence.js';

/** The rollback step that carries the planned silence (its `request.body`). */
export const SILENCE_STEP = 'planned-silence';

const TAG = /\[rollback-receiver rollback=([A-Za-z0-9_-]+)\]/;

export interface SilencePlanInput {
  rollbackId: string;
  target: Target;
  alert: Alert;
  /** The label the target's name came from (`deployment`, `rollback_target`, …). */
  nameLabel: string;
  now: number;
  /** Until when it may be needed at most: the execution timeout plus the window. */
  untilMs: number;
  /** The rollback's incident report, when `notifications.receiverUrl` is set. */
  link?: string;
}

/** The silence for a rollback: the target's alerts (its namespace and name label), rollback alerts only when the alert is one. */
export function planSilence(p: SilencePlanInput): PostableSilence {
  const matchers = [
    { name: 'namespace', value: p.target.namespace, isRegex: false, isEqual: true },
    { name: p.nameLabel, value: p.target.name, isRegex: false, isEqual: true },
  ];
  if (p.alert.labels.rollback_trigger) matchers.push({ name: 'rollback_trigger', value: '.+', isRegex: true, isEqual: true });
  return {
    matchers,
    startsAt: new Date(p.now).toISOString(),
    endsAt: new Date(p.untilMs).toISOString(),
    createdBy: RECEIVER_CREATED_BY,
    comment: `[rollback-receiver rollback=${p.rollbackId}] ${p.target.namespace}/${p.target.name} is being rolled back: its rollback alerts are held until the monitoring window ends or escalates (the window's own samples still escalate). ${p.link ?? `GET /api/v1/rollbacks/${p.rollbackId}`}`,
  };
}

/** The rollback a silence of the receiver's belongs to, or undefined for any other silence. */
export function silenceRollbackId(silence: Silence): string | undefined {
  if (silence.createdBy !== RECEIVER_CREATED_BY) return undefined;
  return TAG.exec(silence.comment)?.[1];
}
