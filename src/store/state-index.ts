/**
 * The guards' view of the recorded state — the ledger: per-target facts (rollback
 * attempts and when they ended, which objects a running rollback holds, bad, installed
 * and known-good revisions, escalations) and the global switches. Held in memory so
 * admission never queries the database on its hot path. A child layer sees its parent
 * plus its own effects; the decision pass works in a layer and merges it into the parent
 * only once the same effects are committed to the database.
 */
import { dedupKey, targetKey, type Target } from '../model.js';
import type { DecidedInfo, Effect, Freeze, PendingIntent, RevisionMark, RollbackRecord } from './records.js';

/** What the database gives back at start to rebuild the root index. */
export interface RestoredState {
  decided: [string, DecidedInfo][];
  rollbacks: RollbackRecord[];
  pending: PendingIntent[];
  resets: [string, number][];
  escalations: [string, EscalationMark][];
  revisions: [Target, RevisionMark][];
  freeze: Freeze | null;
  brakeTrippedAt: number | undefined;
}

export interface EscalationMark {
  at: number;
  /** The revision it was about, when it was about one. */
  revision?: string;
}

/** A rollback holding its objects now. */
export interface RunningRollback {
  id: string;
  target: Target;
  objects: string[];
  startedAt: number;
}

/** What the guards may ask. Read-only. */
export interface GuardState {
  decided(key: string): DecidedInfo | undefined;
  pending(key: string): PendingIntent | undefined;
  freeze(): Freeze | null;
  /** Start time of the last counted rollback of the target since its last reset. */
  lastRollbackAt(target: Target): number | undefined;
  /** When the last finished rollback of the target (since its last reset) ended: cooldown counts from here. */
  lastRollbackEnd(target: Target): number | undefined;
  /** Rollback attempts on the target since `since` (and since its last reset). */
  attemptsSince(target: Target, since: number): number;
  /** Automatic rollbacks on any target since `since`. */
  rollbacksSince(since: number): number;
  brakeTrippedAt(): number | undefined;
  lastEscalation(target: Target, reason: string): EscalationMark | undefined;
  /** The running rollback holding any of these objects, if one does. */
  runningOn(objects: readonly string[]): RunningRollback | undefined;
  /** The target's revisions the receiver knows: bad, installed, known-good. */
  revisions(target: Target): ReadonlyMap<string, RevisionMark>;
}

interface Mark {
  id: string;
  target: string;
  at: number;
  automatic: boolean;
}

/** Revisions kept per target; the oldest go first beyond this. */
const REVISIONS_PER_TARGET = 50;
const NO_REVISIONS: ReadonlyMap<string, RevisionMark> = new Map();

export class StateIndex implements GuardState {
  private readonly decidedKeys = new Map<string, DecidedInfo>();
  private readonly pendingAdded = new Map<string, PendingIntent>();
  private readonly pendingClosed = new Set<string>();
  /** Rollback start marks in start order. */
  private readonly marks: Mark[] = [];
  /** When each finished rollback ended, by id. */
  private readonly ends = new Map<string, number>();
  private readonly resets = new Map<string, number>();
  private readonly escalations = new Map<string, EscalationMark>();
  /** Running rollbacks by the objects they hold; `null` marks one released in this layer. */
  private readonly holders = new Map<string, RunningRollback | null>();
  /** Running rollbacks by id; `null` marks one finished in this layer. */
  private readonly runningById = new Map<string, RunningRollback | null>();
  /** Per target, a whole copy once this layer changes it. */
  private readonly revisionMarks = new Map<string, Map<string, RevisionMark>>();
  private freezeState: Freeze | null | undefined;
  private brakeAt: number | undefined;
  /** Effects applied to this layer, in order, for merging into the parent. */
  private readonly applied: Effect[] = [];

  constructor(private readonly parent: StateIndex | null = null) {
    if (!parent) this.freezeState = null;
  }

  static restore(saved: RestoredState): StateIndex {
    const root = new StateIndex();
    for (const [key, info] of saved.decided) root.decidedKeys.set(key, info);
    for (const record of saved.rollbacks) {
      root.apply({ type: 'rollback', record });
      if (record.finishedAt !== null && record.status !== 'running') root.ends.set(record.id, record.finishedAt);
    }
    for (const pending of saved.pending) root.pendingAdded.set(pending.key, pending);
    for (const [key, at] of saved.resets) root.resets.set(key, at);
    for (const [key, mark] of saved.escalations) root.escalations.set(key, mark);
    for (const [target, mark] of saved.revisions) root.apply({ type: 'revision-mark', target, mark });
    root.freezeState = saved.freeze;
    root.brakeAt = saved.brakeTrippedAt;
    return root;
  }

  layer(): StateIndex {
    return new StateIndex(this);
  }

  /** Merges this layer's effects into its parent. */
  mergeIntoParent(): void {
    if (!this.parent) throw new Error('root state has no parent');
    for (const e of this.applied) this.parent.apply(e);
  }

  effects(): readonly Effect[] {
    return this.applied;
  }

  apply(effect: Effect): void {
    if (this.parent) this.applied.push(effect);
    switch (effect.type) {
      case 'decision': {
        const r = effect.record;
        const key = dedupKey(r.alert);
        // A re-decided pending intent keeps pointing at its first decision only while pending.
        if (!this.decidedKeys.has(key) || r.pendingOf) this.decidedKeys.set(key, { id: r.id, decision: r.decision, at: r.at });
        break;
      }
      case 'rollback': {
        const r = effect.record;
        this.marks.push({ id: r.id, target: targetKey(r), at: r.startedAt, automatic: r.kind === 'automatic' });
        if (r.status === 'running') {
          const running: RunningRollback = { id: r.id, target: { namespace: r.namespace, name: r.name }, objects: r.objects, startedAt: r.startedAt };
          this.runningById.set(r.id, running);
          for (const o of r.objects) this.holders.set(o, running);
        } else if (r.finishedAt !== null) {
          this.ends.set(r.id, r.finishedAt);
        }
        break;
      }
      case 'rollback-finished': {
        this.ends.set(effect.id, effect.at);
        const running = this.runningRecord(effect.id);
        if (!running) break;
        this.runningById.set(effect.id, null);
        for (const o of running.objects) if (this.holder(o)?.id === effect.id) this.holders.set(o, null);
        break;
      }
      case 'pending-open':
        this.pendingClosed.delete(effect.pending.key);
        this.pendingAdded.set(effect.pending.key, effect.pending);
        break;
      case 'pending-close':
        this.pendingAdded.delete(effect.key);
        this.pendingClosed.add(effect.key);
        break;
      case 'brake-trip':
        this.brakeAt = effect.at;
        break;
      case 'escalation':
        this.escalations.set(`${targetKey(effect.target)}#${effect.reason}`, { at: effect.at, revision: effect.revision });
        break;
      case 'guard-reset':
        this.resets.set(targetKey(effect.target), effect.at);
        break;
      case 'freeze':
        this.freezeState = effect.freeze;
        break;
      case 'revision-mark': {
        const marks = this.ownRevisions(effect.target);
        const known = marks.get(effect.mark.revision.id);
        // A monitoring window cannot clear a quarantine; only an operator can.
        if (known?.status === 'bad' && effect.mark.status === 'known-good') break;
        marks.delete(effect.mark.revision.id);
        marks.set(effect.mark.revision.id, effect.mark);
        while (marks.size > REVISIONS_PER_TARGET) marks.delete(marks.keys().next().value!);
        break;
      }
      case 'quarantine-clear': {
        const marks = this.ownRevisions(effect.target);
        for (const [id, mark] of marks) if (mark.status === 'bad' && (effect.revisionId === null || effect.revisionId === id)) marks.delete(id);
        break;
      }
      case 'rollback-steps':
      case 'window-open':
      case 'window-samples':
      case 'window-update':
        // Windows and step logs do not feed the guards; only the store keeps them.
        break;
    }
  }

  private ownRevisions(target: Target): Map<string, RevisionMark> {
    const key = targetKey(target);
    let own = this.revisionMarks.get(key);
    if (!own) {
      own = new Map(this.parent?.revisions(target) ?? NO_REVISIONS);
      this.revisionMarks.set(key, own);
    }
    return own;
  }

  /** Drops rollback marks older than `before`; only on the root, which lives long. */
  prune(before: number): void {
    let drop = 0;
    while (drop < this.marks.length && this.marks[drop]!.at < before) drop++;
    for (const m of this.marks.splice(0, drop)) if (!this.runningById.get(m.id)) this.ends.delete(m.id);
  }

  decided(key: string): DecidedInfo | undefined {
    return this.decidedKeys.get(key) ?? this.parent?.decided(key);
  }

  forgetDecided(before: number): void {
    for (const [key, info] of this.decidedKeys) if (info.at < before && !this.pending(key)) this.decidedKeys.delete(key);
  }

  pending(key: string): PendingIntent | undefined {
    if (this.pendingClosed.has(key)) return undefined;
    return this.pendingAdded.get(key) ?? this.parent?.pending(key);
  }

  pendingIntents(): PendingIntent[] {
    const fromParent = this.parent?.pendingIntents() ?? [];
    return [...fromParent.filter((p) => !this.pendingClosed.has(p.key) && !this.pendingAdded.has(p.key)), ...this.pendingAdded.values()];
  }

  freeze(): Freeze | null {
    return this.freezeState !== undefined ? this.freezeState : (this.parent?.freeze() ?? null);
  }

  private resetAt(key: string): number {
    return Math.max(this.resets.get(key) ?? -Infinity, this.parent?.resetAt(key) ?? -Infinity);
  }

  /** Marks of the whole chain, oldest layer first. */
  private allMarks(): Mark[] {
    return this.parent ? [...this.parent.allMarks(), ...this.marks] : this.marks;
  }

  private endOf(id: string): number | undefined {
    return this.ends.get(id) ?? this.parent?.endOf(id);
  }

  lastRollbackAt(target: Target): number | undefined {
    const key = targetKey(target);
    const after = this.resetAt(key);
    let last: number | undefined;
    for (const m of this.allMarks()) if (m.target === key && m.at > after) last = m.at;
    return last;
  }

  lastRollbackEnd(target: Target): number | undefined {
    const key = targetKey(target);
    const after = this.resetAt(key);
    let last: number | undefined;
    for (const m of this.allMarks()) {
      if (m.target !== key || m.at <= after) continue;
      const end = this.endOf(m.id);
      if (end !== undefined && (last === undefined || end > last)) last = end;
    }
    return last;
  }

  attemptsSince(target: Target, since: number): number {
    const key = targetKey(target);
    const from = Math.max(since, this.resetAt(key));
    return this.allMarks().filter((m) => m.target === key && m.at > from).length;
  }

  rollbacksSince(since: number): number {
    return this.allMarks().filter((m) => m.automatic && m.at > since).length;
  }

  brakeTrippedAt(): number | undefined {
    return this.brakeAt ?? this.parent?.brakeTrippedAt();
  }

  private holder(object: string): RunningRollback | null | undefined {
    const own = this.holders.get(object);
    return own !== undefined ? own : this.parent?.holder(object);
  }

  private runningRecord(id: string): RunningRollback | null | undefined {
    const own = this.runningById.get(id);
    return own !== undefined ? own : this.parent?.runningRecord(id);
  }

  runningOn(objects: readonly string[]): RunningRollback | undefined {
    for (const o of objects) {
      const h = this.holder(o);
      if (h) return h;
    }
    return undefined;
  }

  /** Every rollback running now (the root's view: status, metrics, shutdown). */
  running(): RunningRollback[] {
    const out = new Map<string, RunningRollback>();
    for (const r of this.parent?.running() ?? []) out.set(r.id, r);
    for (const [id, r] of this.runningById) {
      if (r) out.set(id, r);
      else out.delete(id);
    }
    return [...out.values()];
  }

  lastEscalation(target: Target, reason: string): EscalationMark | undefined {
    return this.escalations.get(`${targetKey(target)}#${reason}`) ?? this.parent?.lastEscalation(target, reason);
  }

  revisions(target: Target): ReadonlyMap<string, RevisionMark> {
    return this.revisionMarks.get(targetKey(target)) ?? this.parent?.revisions(target) ?? NO_REVISIONS;
  }

  /** Every target with revisions on record (the quarantine API). */
  revisionTargets(): Target[] {
    const keys = new Set<string>(this.parent?.revisionTargets().map(targetKey) ?? []);
    for (const key of this.revisionMarks.keys()) keys.add(key);
    return [...keys].map((key) => {
      const slash = key.indexOf('/');
      return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
    });
  }

  /** Targets with a counted rollback since `since`, newest start per target. */
  recentTargets(since: number): Map<string, number> {
    const out = new Map<string, number>();
    for (const m of this.allMarks()) if (m.at > since && m.at > this.resetAt(m.target)) out.set(m.target, m.at);
    return out;
  }
}
