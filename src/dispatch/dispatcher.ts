/**
 * Turns payloads into committed decisions. Concurrent webhooks share one SQLite
 * transaction (group commit): whatever arrived during one turn of the event loop is
 * decided in order and committed with a single fsync, each payload in a savepoint of
 * its own so it is recorded whole or not at all. Callers hear back only after the
 * commit; side effects (rollbacks, timers, notifications) start only after it too.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Config } from '../config/load.js';
import { decide, type Decision } from '../decide.js';
import type { Executor } from '../execution/executor.js';
import type { ClusterView } from '../guards/guard.js';
import { intentFor, matchTrigger } from '../matching/intent.js';
import { checkTarget } from '../matching/target.js';
import { dedupKey, type Alert, type StrategyName, type Target } from '../model.js';
import { newId } from '../ids.js';
import type { ParsedPayload } from '../intake/payload.js';
import type { Metrics } from '../metrics.js';
import type { Notifications } from '../notify/notifier.js';
import type { Effect, PendingIntent } from '../store/records.js';
import type { SqliteStore } from '../store/sqlite.js';
import type { StateIndex } from '../store/state-index.js';
import { PendingTimer } from './pending-timer.js';

export interface DispatcherDeps {
  config: Config;
  store: SqliteStore;
  state: StateIndex;
  clock: Clock;
  metrics: Metrics;
  log: Logger;
  notifications: Notifications;
  /** null: no cluster configured; the cluster-side guards are skipped and say so. */
  executor: Executor | null;
}

type Work =
  | { kind: 'payload'; payload: ParsedPayload; cluster: ClusterView | null }
  | { kind: 'redecide'; due: PendingIntent[]; cluster: ClusterView | null }
  | { kind: 'effects'; effects: Effect[] };

interface Queued {
  work: Work;
  resolve: (decisions: Decision[]) => void;
  reject: (err: Error) => void;
}

export class StoreUnavailableError extends Error {}

export class Dispatcher {
  private queue: Queued[] = [];
  private arriving = 0;
  private flushScheduled = false;
  private readonly pendingTimer: PendingTimer;
  private readonly idle = new Set<() => void>();

  /** The executor needs the dispatcher to record results, so it is attached after both exist. */
  attachExecutor(executor: Executor): void {
    this.deps.executor = executor;
  }

  constructor(private readonly deps: DispatcherDeps) {
    this.pendingTimer = new PendingTimer(deps.clock, () => this.redecideDue());
  }

  /** Schedules the pending intents restored from the store. */
  start(): void {
    for (const p of this.deps.state.pendingIntents()) this.pendingTimer.schedule(p.dueAt);
  }

  stop(): void {
    this.pendingTimer.stop();
  }

  /** Decides and durably records every alert of a payload, in payload order. */
  async submit(payload: ParsedPayload): Promise<Decision[]> {
    // Counted from arrival, so a shutdown waits for payloads still reading the cluster.
    this.arriving++;
    try {
      const cluster = await this.clusterView(payload.alerts);
      return await this.enqueue({ kind: 'payload', payload, cluster });
    } finally {
      this.arriving--;
      this.notifyIdle();
    }
  }

  /**
   * Reads, once per target, what the cluster-side guards need — only for alerts that
   * could get that far, so Alertmanager's re-sends never touch the API server.
   */
  private async clusterView(alerts: Alert[], pending = false): Promise<ClusterView | null> {
    const executor = this.deps.executor;
    if (!executor) return null;
    const { config, state } = this.deps;
    const candidates: { target: Target; strategy: StrategyName }[] = [];
    for (const alert of alerts) {
      if (alert.status !== 'firing' || (!pending && state.decided(dedupKey(alert)))) continue;
      const trigger = matchTrigger(alert, config.rollback.triggers);
      if (!trigger) continue;
      const check = checkTarget(intentFor(alert, trigger), config.rollback, config.execution);
      if (check.ok) candidates.push({ target: check.target, strategy: check.strategy });
    }
    return executor.view(candidates);
  }

  /** Operator changes (freeze, cooldown reset) go through the same commit path. */
  async record(effects: Effect[]): Promise<void> {
    await this.enqueue({ kind: 'effects', effects });
  }

  /** Decides without recording or changing anything (`/api/v1/simulate`). */
  async simulate(payload: ParsedPayload): Promise<Decision[]> {
    const cluster = await this.clusterView(payload.alerts);
    return this.decideAll({ kind: 'payload', payload, cluster }, this.deps.state.layer());
  }

  /** Resolves once nothing is queued (graceful shutdown). */
  drain(): Promise<void> {
    if (this.queue.length === 0 && this.arriving === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.add(resolve));
  }

  /** Decides again every pending intent whose delay has ended, then waits for the next. */
  async redecideDue(): Promise<void> {
    const now = this.deps.clock.now();
    const due = this.deps.state.pendingIntents().filter((p) => p.dueAt <= now);
    if (due.length > 0) {
      try {
        const cluster = await this.clusterView(due.map((p) => p.alert), true);
        await this.enqueue({ kind: 'redecide', due, cluster });
      } catch (err) {
        this.deps.log.error({ err: (err as Error).message }, 'could not decide pending intents; retrying in 5s');
        this.pendingTimer.schedule(now + 5000);
        return;
      }
    }
    for (const p of this.deps.state.pendingIntents()) this.pendingTimer.schedule(p.dueAt);
  }

  private enqueue(work: Work): Promise<Decision[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ work, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private decideAll(work: Work, layer: StateIndex): Decision[] {
    const { config, clock } = this.deps;
    const cluster = work.kind === 'effects' ? null : work.cluster;
    const now = clock.now();
    const id = () => newId(now);
    const run = (alert: ParsedPayload['alerts'][number], group: ParsedPayload['group'], redecide?: PendingIntent): Decision => {
      const d = decide({ alert, group, config, state: layer, now, cluster, newId: id, redecide });
      for (const e of d.effects) layer.apply(e);
      return d;
    };
    switch (work.kind) {
      case 'payload':
        return work.payload.alerts.map((a) => run(a, work.payload.group));
      case 'redecide':
        // Another path (a resolved alert) may have closed the intent since it was picked.
        return work.due.filter((p) => layer.pending(p.key)?.id === p.id).map((p) => run(p.alert, p.group, p));
      case 'effects':
        for (const e of work.effects) layer.apply(e);
        return [];
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    const items = this.queue;
    this.queue = [];
    const batch = this.deps.state.layer();
    const decided: { item: Queued; decisions: Decision[] }[] = [];
    const failed: { item: Queued; err: Error }[] = [];
    try {
      this.deps.store.transaction(() => {
        for (const item of items) {
          const layer = batch.layer();
          try {
            const decisions = this.deps.store.savepoint(() => {
              const ds = this.decideAll(item.work, layer);
              for (const e of layer.effects()) this.deps.store.write(e);
              return ds;
            });
            layer.mergeIntoParent();
            decided.push({ item, decisions });
          } catch (err) {
            failed.push({ item, err: err as Error });
          }
        }
      });
    } catch (err) {
      // The commit itself failed: nothing of this batch is recorded.
      this.deps.log.error({ err: (err as Error).message }, 'store commit failed');
      for (const item of items) item.reject(new StoreUnavailableError(`store commit failed: ${(err as Error).message}`));
      this.notifyIdle();
      return;
    }
    batch.mergeIntoParent();
    for (const { item, err } of failed) {
      this.deps.log.error({ err: err.message, work: item.work.kind }, 'store write failed; payload not recorded');
      item.reject(new StoreUnavailableError(`store write failed: ${err.message}`));
    }
    for (const { item, decisions } of decided) {
      this.afterCommit(decisions);
      item.resolve(decisions);
    }
    this.notifyIdle();
  }

  private notifyIdle(): void {
    if (this.queue.length > 0 || this.arriving > 0) return;
    for (const resolve of this.idle) resolve();
    this.idle.clear();
  }

  private afterCommit(decisions: Decision[]): void {
    const { metrics, notifications, log } = this.deps;
    for (const d of decisions) {
      const r = d.record;
      metrics.alerts.inc({ trigger: r.trigger ?? 'none', decision: r.decision });
      if (r.dueAt !== null) this.pendingTimer.schedule(r.dueAt);
      if (r.decision === 'disabled') notifications.emit({ type: 'notify_only', decision: r });
      if (d.brakeTripped) notifications.emit({ type: 'brake_tripped', detail: r.reason, decision: r });
      if (d.escalation) {
        metrics.escalations.inc({ reason: d.escalation.reason });
        notifications.emit({ type: 'escalated', target: d.escalation.target, reason: d.escalation.reason, detail: r.reason, decision: r });
      }
      if (d.rollback) {
        log.info({ rollbackId: d.rollback.id, target: `${d.rollback.namespace}/${d.rollback.name}`, dryRun: d.rollback.dryRun }, r.reason);
        // Live rollbacks announce themselves from the executor; shadow mode announces what it would do here.
        if (d.rollback.dryRun) notifications.emit({ type: 'rollback_started', rollback: d.rollback, decision: r });
        if (this.deps.executor) {
          if (d.rollback.status === 'running') void this.deps.executor.execute(d.rollback);
          else void this.deps.executor.recordPlan(d.rollback);
        }
      }
    }
  }
}
