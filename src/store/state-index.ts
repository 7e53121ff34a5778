/**
 * The guards' view of the recorded state, in memory so admission never queries a database
 * on its hot path: one ledger per target and a global one (ledger.ts), which objects
 * running rollbacks hold, and this replica's own dedup keys and pending intents. A child
 * layer sees its parent plus its own effects (it copies a target's ledger the first time it
 * changes it); the decision pass works in a layer and merges it into the parent only once
 * the same effects are committed. With the Kubernetes backend, the root is refreshed from
 * the shared objects before each decision (`load`).
 */
import { dedupKey, targetKey, type Target } from '../model.js';
import {
  cloneGlobal,
  cloneTarget,
  emptyGlobal,
  emptyTarget,
  isGlobal,
  lastSuccessOf,
  pruneGlobal,
  pruneTarget,
  reduceGlobal,
  reduceTarget,
  targetOf,
  type EscalationMark,
  type GlobalLedger,
  type LastSuccess,
  type TargetLedger,
} from './ledger.js';
import type { DecidedInfo, Effect, Freeze, PendingIntent, RevisionMark, RollbackRecord } from './records.js';

export type { EscalationMark } from './ledger.js';

/** What the database gives back at start to rebuild the root index. */
export interface RestoredState {
  decided: [string, DecidedInfo][];
  rollbacks: RollbackRecord[];
  /** Each target's last successful rollback, however old (the reverted signal). */
  lastSuccesses: RollbackRecord[];
  pending: PendingIntent[];
  resets: [string, number][];
  escalations: [string, EscalationMark][];
  revisions: [Target, RevisionMark][];
  freeze: Freeze | null;
  brakeTrippedAt: number | undefined;
}

/** A rollback holding objects now (known from its record, or from another replica's Lease). */
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

function runningOf(r: RollbackRecord): RunningRollback {
  return { id: r.id, target: { namespace: r.namespace, name: r.name }, objects: r.objects, startedAt: r.startedAt };
}

export class StateIndex implements GuardState {
  private readonly decidedKeys = new Map<string, DecidedInfo>();
  private readonly pendingAdded = new Map<string, PendingIntent>();
  private readonly pendingClosed = new Set<string>();
  /** Ledgers this layer changed (whole copies); the root holds them all. */
  private readonly targets = new Map<string, TargetLedger>();
  private global: GlobalLedger | undefined;
  /** Objects held by running rollbacks; `null` marks one released in this layer. */
  private readonly holders = new Map<string, RunningRollback | null>();
  /** Root only: objects other replicas hold (their Leases), as of the last load. */
  private elsewhere = new Map<string, RunningRollback>();
  /** Effects applied to this layer, in order, for merging into the parent. */
  private readonly applied: Effect[] = [];

  constructor(private readonly parent: StateIndex | null = null) {
    if (!parent) this.global = emptyGlobal();
  }

  static restore(saved: RestoredState): StateIndex {
    const root = new StateIndex();
    for (const [key, info] of saved.decided) root.decidedKeys.set(key, info);
    for (const record of saved.rollbacks) root.apply({ type: 'rollback', record });
    for (const record of saved.lastSuccesses) root.ownTarget(record).lastSuccess = lastSuccessOf(record);
    for (const pending of saved.pending) root.pendingAdded.set(pending.key, pending);
    for (const [key, at] of saved.resets) root.ownTarget(parseKey(key)).resetAt = at;
    for (const [key, mark] of saved.escalations) {
      const hash = key.lastIndexOf('#');
      root.ownTarget(parseKey(key.slice(0, hash))).escalations[key.slice(hash + 1)] = mark;
    }
    for (const [target, mark] of saved.revisions) root.apply({ type: 'revision-mark', target, mark });
    root.global!.freeze = saved.freeze;
    root.global!.brakeTrippedAt = saved.brakeTrippedAt;
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
        return;
      }
      case 'pending-open':
        this.pendingClosed.delete(effect.pending.key);
        this.pendingAdded.set(effect.pending.key, effect.pending);
        return;
      case 'pending-close':
        this.pendingAdded.delete(effect.key);
        this.pendingClosed.add(effect.key);
        return;
      default:
        break;
    }
    if (isGlobal(effect)) reduceGlobal(this.ownGlobal(), effect);
    const target = targetOf(effect);
    if (!target) return;
    const ledger = this.ownTarget(target);
    const before = ledger.running;
    reduceTarget(ledger, effect);
    if (before !== ledger.running) this.moveHolders(before, ledger.running);
  }

  /**
   * Replaces what the root knows of these targets and of the global switches with what the
   * shared store holds, and marks the objects other replicas hold (Kubernetes backend).
   */
  load(shared: { targets: TargetLedger[]; global?: GlobalLedger; heldElsewhere?: RunningRollback[] }): void {
    if (this.parent) throw new Error('only the root index is loaded');
    for (const fresh of shared.targets) {
      const key = targetKey(fresh.target);
      const old = this.targets.get(key);
      this.targets.set(key, cloneTarget(fresh));
      this.moveHolders(old?.running ?? null, fresh.running);
    }
    if (shared.global) this.global = cloneGlobal(shared.global);
    if (shared.heldElsewhere) this.elsewhere = new Map(shared.heldElsewhere.flatMap((held) => held.objects.map((o) => [o, held] as const)));
  }

  private moveHolders(before: RollbackRecord | null, after: RollbackRecord | null): void {
    if (before) for (const o of before.objects) if (this.holder(o)?.id === before.id) this.holders.set(o, null);
    if (after) {
      const running = runningOf(after);
      for (const o of after.objects) this.holders.set(o, running);
    }
  }

  private ownTarget(target: Target): TargetLedger {
    const key = targetKey(target);
    let own = this.targets.get(key);
    if (!own) {
      const inherited = this.parent?.ledgerOf(key);
      own = inherited ? cloneTarget(inherited) : emptyTarget(target);
      this.targets.set(key, own);
    }
    return own;
  }

  private ownGlobal(): GlobalLedger {
    this.global ??= cloneGlobal(this.parent!.globalLedger());
    return this.global;
  }

  private ledgerOf(key: string): TargetLedger | undefined {
    return this.targets.get(key) ?? this.parent?.ledgerOf(key);
  }

  /** A target's ledger as this layer sees it (read-only), for the shared store and the API. */
  target(target: Target): TargetLedger {
    return this.ledgerOf(targetKey(target)) ?? emptyTarget(target);
  }

  globalLedger(): GlobalLedger {
    return this.global ?? this.parent!.globalLedger();
  }

  /** Drops attempts and brake starts older than `before`; only on the root, which lives long. */
  prune(before: number): void {
    for (const ledger of this.targets.values()) pruneTarget(ledger, before);
    pruneGlobal(this.global!, before);
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
    return this.globalLedger().freeze;
  }

  brakeTrippedAt(): number | undefined {
    return this.globalLedger().brakeTrippedAt;
  }

  rollbacksSince(since: number): number {
    return this.globalLedger().automaticStarts.filter((at) => at > since).length;
  }

  /** Attempts that count: since the target's last reset. */
  private counted(target: Target) {
    const l = this.target(target);
    const after = l.resetAt ?? -Infinity;
    return l.attempts.filter((a) => a.at > after);
  }

  lastRollbackAt(target: Target): number | undefined {
    return this.counted(target).at(-1)?.at;
  }

  lastRollbackEnd(target: Target): number | undefined {
    const ends = this.counted(target).flatMap((a) => (a.end === undefined ? [] : [a.end]));
    return ends.length ? Math.max(...ends) : undefined;
  }

  attemptsSince(target: Target, since: number): number {
    return this.counted(target).filter((a) => a.at > since).length;
  }

  lastEscalation(target: Target, reason: string): EscalationMark | undefined {
    return this.target(target).escalations[reason];
  }

  private holder(object: string): RunningRollback | null | undefined {
    const own = this.holders.get(object);
    return own !== undefined ? own : this.parent?.holder(object);
  }

  private root(): StateIndex {
    return this.parent ? this.parent.root() : this;
  }

  runningOn(objects: readonly string[]): RunningRollback | undefined {
    const elsewhere = this.root().elsewhere;
    for (const o of objects) {
      const h = this.holder(o) ?? elsewhere.get(o);
      if (h) return h;
    }
    return undefined;
  }

  /** Every rollback this replica knows to be running (status, metrics, shutdown). */
  running(): RunningRollback[] {
    const out = new Map<string, RunningRollback>();
    for (const key of this.targetKeys()) {
      const r = this.ledgerOf(key)?.running;
      if (r) out.set(r.id, runningOf(r));
    }
    return [...out.values()];
  }

  private targetKeys(): Set<string> {
    const keys = this.parent?.targetKeys() ?? new Set<string>();
    for (const key of this.targets.keys()) keys.add(key);
    return keys;
  }

  revisions(target: Target): ReadonlyMap<string, RevisionMark> {
    return new Map(this.target(target).revisions.map((m) => [m.revision.id, m]));
  }

  /** Every target with revisions on record (the quarantine API). */
  revisionTargets(): Target[] {
    return [...this.targetKeys()].map(parseKey).filter((t) => this.target(t).revisions.length > 0);
  }

  /** Every target's last successful rollback on record (the reverted signal). */
  lastSuccesses(): { target: Target; last: LastSuccess }[] {
    return [...this.targetKeys()].flatMap((key) => {
      const l = this.ledgerOf(key)!;
      return l.lastSuccess ? [{ target: l.target, last: l.lastSuccess }] : [];
    });
  }

  /** Targets with a counted rollback since `since`, newest start per target. */
  recentTargets(since: number): Map<string, number> {
    const out = new Map<string, number>();
    for (const key of this.targetKeys()) {
      const last = this.lastRollbackAt(parseKey(key));
      if (last !== undefined && last > since) out.set(key, last);
    }
    return out;
  }
}

function parseKey(key: string): Target {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
