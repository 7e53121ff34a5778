/**
 * The reverted signal (SPEC §5 `rollback_target_reverted`): 1 from a successful rollback
 * until the workload serves a revision the receiver did not install, then 0, so a
 * rolled-back service left on the old version is seen, and the shipped alert rule can
 * fire when that lasts. Checked against the cluster every `monitoring.reverted.checkInterval`.
 * After a restart the watch starts again from the successful rollbacks on record.
 */
import type { Logger } from 'pino';
import type { ClusterView } from '../guards/guard.js';
import type { Metrics } from '../metrics.js';
import { targetKey, type Revision, type StrategyName, type Target } from '../model.js';
import type { RollbackRecord } from '../store/records.js';

/** A target the receiver rolled back, and the revision it installed there. */
interface Watched {
  target: Target;
  strategy: StrategyName;
  installed: Revision;
  rollbackId: string;
}

export type RevertedCheck = 'reverted' | 'moved-on' | 'unknown';

/** Pure: whether the target still serves what the receiver installed (unknown when the cluster did not say). */
export function revertedCheck(installed: Revision, current: Revision | undefined, unreadable: string | undefined): RevertedCheck {
  if (unreadable || !current) return 'unknown';
  return current.id === installed.id ? 'reverted' : 'moved-on';
}

export interface RevertedWatchDeps {
  view: (candidates: { target: Target; strategy: StrategyName }[]) => Promise<ClusterView>;
  metrics: Metrics;
  log: Logger;
  intervalMs: number;
}

export class RevertedWatch {
  private readonly watched = new Map<string, Watched>();
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> = Promise.resolve();

  constructor(private readonly deps: RevertedWatchDeps) {}

  /** Watches the targets of these successful rollbacks (the newest per target wins) and checks every interval. */
  start(succeeded: RollbackRecord[]): void {
    for (const r of [...succeeded].sort((a, b) => a.startedAt - b.startedAt)) {
      this.watch(r);
      // The alert rule measures how long a target has been reverted from this; a restart must not lose it.
      if (r.finishedAt !== null) this.deps.metrics.lastSuccess.set({ namespace: r.namespace, name: r.name }, r.finishedAt / 1000);
    }
    if (this.watched.size > 0) void this.check();
    this.timer = setInterval(() => void this.check(), this.deps.intervalMs).unref();
  }

  /** A rollback succeeded: its target is reverted from now on. */
  watch(rollback: RollbackRecord): void {
    if (rollback.status !== 'success' || !rollback.pin) return;
    const target = { namespace: rollback.namespace, name: rollback.name };
    const previous = this.watched.get(targetKey(target));
    if (previous && previous.strategy !== rollback.strategy) this.deps.metrics.targetReverted.remove({ ...target, strategy: previous.strategy });
    this.watched.set(targetKey(target), { target, strategy: rollback.strategy, installed: rollback.pin.to, rollbackId: rollback.id });
    this.deps.metrics.targetReverted.set({ ...target, strategy: rollback.strategy }, 1);
  }

  /** Compares every watched target with the cluster; one check at a time. */
  check(): Promise<void> {
    this.checking = this.checking.then(() => this.checkNow());
    return this.checking;
  }

  private async checkNow(): Promise<void> {
    const watched = [...this.watched.values()];
    if (watched.length === 0) return;
    let view: ClusterView;
    try {
      view = await this.deps.view(watched.map((w) => ({ target: w.target, strategy: w.strategy })));
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message }, 'could not read rolled-back targets for the reverted signal; it keeps its values');
      return;
    }
    for (const w of watched) {
      const facts = view.facts(w.target, w.strategy);
      const result = revertedCheck(w.installed, facts.current, facts.unreadable);
      if (result !== 'moved-on' || this.watched.get(targetKey(w.target)) !== w) continue;
      this.watched.delete(targetKey(w.target));
      this.deps.metrics.targetReverted.set({ ...w.target, strategy: w.strategy }, 0);
      this.deps.log.info(
        { target: targetKey(w.target), rollbackId: w.rollbackId, installed: w.installed.label, now: facts.current?.label },
        'the rolled-back target has a revision the receiver did not install: no longer reverted',
      );
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
