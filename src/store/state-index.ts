/**
 * The guards' view of the recorded state, held in memory so intake never queries the
 * database on its hot path. A child layer sees its parent plus its own effects; the
 * decision pass works in a layer and merges it into the parent only once the same
 * effects are committed to the database.
 */
import { dedupKey, targetKey, type Target } from '../model.js';
import type { DecidedInfo, Effect, Freeze, PendingIntent, RollbackRecord } from './records.js';

/** What the database gives back at start to rebuild the root index. */
export interface RestoredState {
  decided: [string, DecidedInfo][];
  rollbacks: RollbackRecord[];
  pending: PendingIntent[];
  resets: [string, number][];
  escalations: [string, number][];
  freeze: Freeze | null;
  brakeTrippedAt: number | undefined;
}

/** What the guards may ask. Read-only. */
export interface GuardState {
  decided(key: string): DecidedInfo | undefined;
  pending(key: string): PendingIntent | undefined;
  freeze(): Freeze | null;
  /** Start time of the last counted rollback of the target since its last reset. */
  lastRollbackAt(target: Target): number | undefined;
  /** Rollback attempts on the target since `since` (and since its last reset). */
  attemptsSince(target: Target, since: number): number;
  /** Automatic rollbacks on any target since `since`. */
  rollbacksSince(since: number): number;
  brakeTrippedAt(): number | undefined;
  lastEscalationAt(target: Target, reason: string): number | undefined;
  /** A rollback of the target is executing now. */
  isRunning(target: Target): boolean;
}

interface Mark {
  target: string;
  at: number;
  automatic: boolean;
}

export class StateIndex implements GuardState {
  private readonly decidedKeys = new Map<string, DecidedInfo>();
  private readonly pendingAdded = new Map<string, PendingIntent>();
  private readonly pendingClosed = new Set<string>();
  /** Rollback start marks in start order. */
  private readonly marks: Mark[] = [];
  private readonly resets = new Map<string, number>();
  private readonly escalations = new Map<string, number>();
  /** Running rollbacks by target key; `null` marks one finished in this layer. */
  private readonly running = new Map<string, string | null>();
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
    for (const record of saved.rollbacks) root.apply({ type: 'rollback', record });
    for (const pending of saved.pending) root.pendingAdded.set(pending.key, pending);
    for (const [key, at] of saved.resets) root.resets.set(key, at);
    for (const [key, at] of saved.escalations) root.escalations.set(key, at);
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
        this.marks.push({ target: targetKey(r), at: r.startedAt, automatic: r.kind === 'automatic' });
        if (r.status === 'running') this.running.set(targetKey(r), r.id);
        break;
      }
      case 'rollback-finished': {
        const key = targetKey(effect.target);
        if (this.running.get(key) === effect.id || this.parent?.runningId(key) === effect.id) this.running.set(key, null);
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
        this.escalations.set(`${targetKey(effect.target)}#${effect.reason}`, effect.at);
        break;
      case 'guard-reset':
        this.resets.set(targetKey(effect.target), effect.at);
        break;
      case 'freeze':
        this.freezeState = effect.freeze;
        break;
      case 'rollback-steps':
      case 'window-open':
      case 'window-samples':
      case 'window-update':
        // Windows do not feed the guards; only the store keeps them.
        break;
    }
  }

  /** Drops rollback marks older than `before`; only on the root, which lives long. */
  prune(before: number): void {
    let drop = 0;
    while (drop < this.marks.length && this.marks[drop]!.at < before) drop++;
    if (drop > 0) this.marks.splice(0, drop);
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

  lastRollbackAt(target: Target): number | undefined {
    const key = targetKey(target);
    const after = this.resetAt(key);
    for (let i = this.marks.length - 1; i >= 0; i--) {
      const m = this.marks[i]!;
      if (m.target === key) return m.at > after ? m.at : undefined;
    }
    const inherited = this.parent?.lastRollbackAt(target);
    return inherited !== undefined && inherited > after ? inherited : undefined;
  }

  attemptsSince(target: Target, since: number): number {
    const key = targetKey(target);
    const from = Math.max(since, this.resetAt(key));
    return this.countMarks((m) => m.target === key && m.at > from) + (this.parent?.attemptsSince(target, from) ?? 0);
  }

  rollbacksSince(since: number): number {
    return this.countMarks((m) => m.automatic && m.at > since) + (this.parent?.rollbacksSince(since) ?? 0);
  }

  private countMarks(pred: (m: Mark) => boolean): number {
    let n = 0;
    for (const m of this.marks) if (pred(m)) n++;
    return n;
  }

  brakeTrippedAt(): number | undefined {
    return this.brakeAt ?? this.parent?.brakeTrippedAt();
  }

  isRunning(target: Target): boolean {
    return this.runningId(targetKey(target)) !== null;
  }

  private runningId(key: string): string | null {
    const own = this.running.get(key);
    return own !== undefined ? own : (this.parent?.runningId(key) ?? null);
  }

  lastEscalationAt(target: Target, reason: string): number | undefined {
    return this.escalations.get(`${targetKey(target)}#${reason}`) ?? this.parent?.lastEscalationAt(target, reason);
  }

  /** Targets with a counted rollback since `since`, newest mark per target. */
  recentTargets(since: number): Map<string, number> {
    const out = this.parent?.recentTargets(since) ?? new Map<string, number>();
    for (const m of this.marks) if (m.at > since && m.at > this.resetAt(m.target)) out.set(m.target, m.at);
    for (const [key] of out) if ((out.get(key) ?? 0) <= this.resetAt(key)) out.delete(key);
    return out;
  }
}
