/**
 * The reverted signal (SPEC §5 `rollback_target_reverted`): 1 from a successful rollback
 * until the workload serves a revision the receiver did not install, then 0, so a
 * rolled-back service left on the old version is seen, and the shipped alert rule can
 * fire when that lasts. Checked against the cluster every `monitoring.reverted.checkInterval`.
 * The targets come from each target's last success in the ledger, read again on every
 * check: with the Kubernetes backend that ledger is shared, so every replica — a freshly
 * restarted one too — reports every target any replica rolled back.
 */
import type { Logger } from 'pino';
import type { ClusterView } from '../guards/guard.js';
import type { Metrics } from '../metrics.js';
import { targetKey, type Revision, type StrategyName, type Target } from '../model.js';
import { lastSuccessOf, type LastSuccess } from '../store/ledger.js';
import type { RollbackRecord } from '../store/records.js';

/** A target the receiver rolled back, the success it reports on, and whether the target moved on since. */
interface Watched {
  target: Target;
  last: LastSuccess;
  movedOn: boolean;
}

export type RevertedCheck = 'reverted' | 'moved-on' | 'unknown';

/** Pure: whether the target still serves what the receiver installed (unknown when the cluster did not say). */
export function revertedCheck(installed: Revision, current: Revision | undefined, unreadable: string | undefined): RevertedCheck {
  if (unreadable || !current) return 'unknown';
  return current.id === installed.id ? 'reverted' : 'moved-on';
}

/** Pure: whether a success read from the ledger replaces the one a target is watched for (a newer rollback). */
export function supersedes(next: LastSuccess, watched: LastSuccess | undefined): boolean {
  return !watched || (next.rollbackId !== watched.rollbackId && next.at >= watched.at);
}

export interface RevertedWatchDeps {
  /** Each target's last successful rollback on the ledger (the shared one with the Kubernetes backend); throws when it cannot be read. */
  successes: () => Promise<{ target: Target; last: LastSuccess }[]>;
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

  /** Checks now, then every interval. */
  start(): void {
    void this.check();
    this.timer = setInterval(() => void this.check(), this.deps.intervalMs).unref();
  }

  /** A rollback succeeded here: its target is reverted from now on, before the next check reads the ledger. */
  watch(rollback: RollbackRecord): void {
    const last = lastSuccessOf(rollback);
    if (last) this.follow({ namespace: rollback.namespace, name: rollback.name }, last);
  }

  private follow(target: Target, last: LastSuccess): void {
    const key = targetKey(target);
    const previous = this.watched.get(key);
    if (!supersedes(last, previous?.last)) return;
    if (previous && previous.last.strategy !== last.strategy) this.deps.metrics.targetReverted.remove({ ...target, strategy: previous.last.strategy });
    this.watched.set(key, { target, last, movedOn: false });
    this.deps.metrics.targetReverted.set({ ...target, strategy: last.strategy }, 1);
    // The alert rule measures how long a target has been reverted from this; a restart must not lose it.
    this.deps.metrics.lastSuccess.set(target, last.at / 1000);
  }

  /** Reads the ledger, then compares every target not yet moved on with the cluster; one check at a time. */
  check(): Promise<void> {
    this.checking = this.checking.then(() => this.checkNow());
    return this.checking;
  }

  private async checkNow(): Promise<void> {
    try {
      for (const { target, last } of await this.deps.successes()) this.follow(target, last);
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message }, 'could not read the ledger for the reverted signal; checking the targets already known');
    }
    const watched = [...this.watched.values()].filter((w) => !w.movedOn);
    if (watched.length === 0) return;
    let view: ClusterView;
    try {
      view = await this.deps.view(watched.map((w) => ({ target: w.target, strategy: w.last.strategy })));
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message }, 'could not read rolled-back targets for the reverted signal; it keeps its values');
      return;
    }
    for (const w of watched) {
      const facts = view.facts(w.target, w.last.strategy);
      const result = revertedCheck(w.last.installed, facts.current, facts.unreadable);
      if (result !== 'moved-on' || this.watched.get(targetKey(w.target)) !== w) continue;
      w.movedOn = true;
      this.deps.metrics.targetReverted.set({ ...w.target, strategy: w.last.strategy }, 0);
      this.deps.log.info(
        { target: targetKey(w.target), rollbackId: w.last.rollbackId, installed: w.last.installed.label, now: facts.current?.label },
        'the rolled-back target has a revision the receiver did not install: no longer reverted',
      );
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
