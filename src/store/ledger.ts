/**
 * The per-target and global facts the guards decide on, as plain data, and the pure
 * reducers that apply an effect to them. The in-memory index (state-index.ts) keeps one
 * ledger per target; the Kubernetes backend stores the very same shapes in one object per
 * target and one global object, so a replica reads what another wrote without translation.
 */
import type { Revision, StrategyName, Target } from '../model.js';
import type { Effect, Freeze, RevisionMark, RollbackRecord } from './records.js';

/** One rollback attempt on a target: when it started, when it ended (cooldown counts from there). */
export interface Attempt {
  id: string;
  at: number;
  end?: number;
  automatic: boolean;
}

export interface EscalationMark {
  at: number;
  /** The revision it was about, when it was about one. */
  revision?: string;
}

/** The last successful rollback of a target: what it installed, how, and when it ended (the reverted signal). */
export interface LastSuccess {
  rollbackId: string;
  strategy: StrategyName;
  installed: Revision;
  at: number;
}

export interface TargetLedger {
  target: Target;
  /** In start order; pruned beyond the guards' horizon. */
  attempts: Attempt[];
  /** The rollback holding the target's objects now, whole, so another replica can resume it. */
  running: RollbackRecord | null;
  /** Oldest first, at most REVISIONS_PER_TARGET. */
  revisions: RevisionMark[];
  escalations: Record<string, EscalationMark>;
  /** An operator's reset: attempts before it no longer count. */
  resetAt?: number;
  /** The objects the last rollback changed: where the summary annotation goes. */
  objects?: string[];
  /** Absent in ledgers written before it was kept, and on targets never rolled back successfully. */
  lastSuccess?: LastSuccess;
}

export interface GlobalLedger {
  freeze: Freeze | null;
  brakeTrippedAt?: number;
  /** Start times of automatic rollbacks across all targets (the brake counts them), pruned beyond its window. */
  automaticStarts: number[];
}

/** Revisions kept per target; the oldest go first beyond this. */
export const REVISIONS_PER_TARGET = 50;

export function emptyTarget(target: Target): TargetLedger {
  return { target: { namespace: target.namespace, name: target.name }, attempts: [], running: null, revisions: [], escalations: {} };
}

export function emptyGlobal(): GlobalLedger {
  return { freeze: null, automaticStarts: [] };
}

export function cloneTarget(l: TargetLedger): TargetLedger {
  return { ...l, attempts: l.attempts.map((a) => ({ ...a })), revisions: [...l.revisions], escalations: { ...l.escalations } };
}

export function cloneGlobal(g: GlobalLedger): GlobalLedger {
  return { ...g, automaticStarts: [...g.automaticStarts] };
}

/** The target an effect changes the ledger of, if any. */
export function targetOf(effect: Effect): Target | undefined {
  switch (effect.type) {
    case 'rollback':
      return effect.record;
    case 'rollback-finished':
    case 'escalation':
    case 'revision-mark':
    case 'quarantine-clear':
    case 'guard-reset':
      return effect.target;
    default:
      return undefined;
  }
}

/** The last success a finished rollback record stands for, if it is one (live, pinned). */
export function lastSuccessOf(r: RollbackRecord): LastSuccess | undefined {
  if (r.status !== 'success' || r.dryRun || !r.pin || r.finishedAt === null) return undefined;
  return { rollbackId: r.id, strategy: r.strategy, installed: r.pin.to, at: r.finishedAt };
}

/** Keeps the newer of two last successes (records may be applied out of order). */
function newer(current: LastSuccess | undefined, next: LastSuccess | undefined): LastSuccess | undefined {
  if (!next) return current;
  return current && current.at > next.at ? current : next;
}

/** Applies one effect to a target's ledger, in place (callers pass their own copy). */
export function reduceTarget(l: TargetLedger, effect: Effect): void {
  switch (effect.type) {
    case 'rollback': {
      const r = effect.record;
      l.lastSuccess = newer(l.lastSuccess, lastSuccessOf(r));
      if (l.attempts.some((a) => a.id === r.id)) break;
      l.objects = r.objects;
      l.attempts.push({ id: r.id, at: r.startedAt, automatic: r.kind === 'automatic', ...(r.status !== 'running' && r.finishedAt !== null ? { end: r.finishedAt } : {}) });
      if (r.status === 'running') l.running = r;
      break;
    }
    case 'rollback-finished': {
      const attempt = l.attempts.find((a) => a.id === effect.id);
      if (attempt) attempt.end = effect.at;
      if (l.running?.id === effect.id) {
        l.lastSuccess = newer(l.lastSuccess, lastSuccessOf({ ...l.running, status: effect.status, finishedAt: effect.at }));
        l.running = null;
      }
      break;
    }
    case 'escalation':
      l.escalations[effect.reason] = { at: effect.at, revision: effect.revision };
      break;
    case 'guard-reset':
      l.resetAt = Math.max(l.resetAt ?? -Infinity, effect.at);
      break;
    case 'revision-mark': {
      const known = l.revisions.find((m) => m.revision.id === effect.mark.revision.id);
      // A monitoring window cannot clear a quarantine; only an operator can.
      if (known?.status === 'bad' && effect.mark.status === 'known-good') break;
      l.revisions = [...l.revisions.filter((m) => m.revision.id !== effect.mark.revision.id), effect.mark].slice(-REVISIONS_PER_TARGET);
      break;
    }
    case 'quarantine-clear':
      l.revisions = l.revisions.filter((m) => !(m.status === 'bad' && (effect.revisionId === null || effect.revisionId === m.revision.id)));
      break;
    default:
      break;
  }
}

/** Applies one effect to the global ledger, in place. */
export function reduceGlobal(g: GlobalLedger, effect: Effect): void {
  switch (effect.type) {
    case 'rollback':
      if (effect.record.kind === 'automatic') g.automaticStarts.push(effect.record.startedAt);
      break;
    case 'brake-trip':
      g.brakeTrippedAt = effect.at;
      break;
    case 'freeze':
      g.freeze = effect.freeze;
      break;
    default:
      break;
  }
}

/** Whether an effect changes the global ledger. */
export function isGlobal(effect: Effect): boolean {
  return effect.type === 'brake-trip' || effect.type === 'freeze' || (effect.type === 'rollback' && effect.record.kind === 'automatic');
}

/** Drops attempts started before `before` (never the running one's). */
export function pruneTarget(l: TargetLedger, before: number): void {
  l.attempts = l.attempts.filter((a) => a.at >= before || a.id === l.running?.id);
}

export function pruneGlobal(g: GlobalLedger, before: number): void {
  g.automaticStarts = g.automaticStarts.filter((at) => at >= before);
}

