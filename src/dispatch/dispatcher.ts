/**
 * The single admission point (SPEC safety invariant 1). Every path that can change a
 * target — alert payloads, pending intents coming due, operator requests of every kind,
 * operator switches — is queued here and decided in order inside one SQLite transaction
 * (group commit): whatever arrived during one turn of the event loop is decided against
 * the ledger as the previous item left it, so two requests for one target can never both
 * be admitted. Each item sits in a savepoint of its own, so it is recorded whole or not at
 * all. Callers hear back only after the commit; side effects (rollbacks, timers,
 * notifications) start only after it too. Cluster reads happen before queueing; the
 * executor compares the cluster with the pinned plan again before it acts.
 */
import type { Logger } from 'pino';
import type { AlertmanagerClient } from '../alertmanager/client.js';
import type { SilenceCheck } from '../alertmanager/silence.js';
import type { SilenceKeeper } from '../alertmanager/silence-keeper.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config/load.js';
import { decide, decideOperator, type Decision, type OperatorDecision, type OperatorRequest } from '../decide.js';
import { ClusterUnavailableError, type ClusterRead, type Executor } from '../execution/executor.js';
import type { ClusterView } from '../guards/guard.js';
import { intentFor, matchTrigger } from '../matching/intent.js';
import { checkTarget } from '../matching/target.js';
import { dedupKey, targetKey, type Alert, type StrategyName, type Target } from '../model.js';
import { newId } from '../ids.js';
import type { ParsedPayload } from '../intake/payload.js';
import type { Metrics } from '../metrics.js';
import type { Notifications } from '../notify/notifier.js';
import type { Effect, PendingIntent, RollbackRecord } from '../store/records.js';
import { targetOf } from '../store/ledger.js';
import { isShared, type SharedLedger } from '../store/shared-ledger.js';
import type { SqliteStore } from '../store/sqlite.js';
import type { StateIndex } from '../store/state-index.js';
import { PendingTimer } from './pending-timer.js';

/** Reads Alertmanager's silences for the admission check; a failure is a result (the alert proceeds), never an error. */
async function checkSilences(alertmanager: AlertmanagerClient): Promise<SilenceCheck> {
  try {
    return { ok: true, silences: await alertmanager.silences() };
  } catch (err) {
    return { ok: false, problem: (err as Error).message };
  }
}

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
  /** The ledger shared between replicas (Kubernetes backend); null: this process is the only writer (SQLite). */
  shared?: SharedLedger | null;
  /** Alertmanager's API, for the human-silence check (guard 6a); null when not configured. */
  alertmanager?: AlertmanagerClient | null;
  /** Creates the silence a live rollback planned (`alertmanager.silenceDuringWindow`). */
  silences?: SilenceKeeper | null;
}

type Work =
  | { kind: 'payload'; payload: ParsedPayload; cluster: ClusterView | null; targets: Target[]; silences?: SilenceCheck }
  | { kind: 'redecide'; due: PendingIntent[]; cluster: ClusterView | null; targets: Target[]; silences?: SilenceCheck }
  | { kind: 'operator'; request: OperatorRequest; cluster: ClusterView }
  | { kind: 'effects'; effects: Effect[] }
  /** Recorded here only: a rollback adopted from another replica, already in the shared state. */
  | { kind: 'local'; effects: Effect[] };

/** A shared decision lost this many races in a row: answer 503 and let the sender retry. */
const MAX_SHARED_ATTEMPTS = 8;

/** The targets whose shared state a piece of work decides on. */
function targetsOf(work: Work): Target[] {
  switch (work.kind) {
    case 'payload':
    case 'redecide':
      return work.targets;
    case 'operator':
      return [work.request.target];
    case 'effects':
    case 'local':
      return work.effects.flatMap((e) => targetOf(e) ?? []);
  }
}

type Outcome = { decisions: Decision[]; operator?: OperatorDecision };

interface Queued {
  work: Work;
  resolve: (outcome: Outcome) => void;
  reject: (err: Error) => void;
}

/** An error from SQLite itself (by its code: the class differs between module instances of the native addon). */
function isStoreError(err: Error): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('SQLITE_');
}

/** The store could not commit: intake answers 503 so Alertmanager retries. */
export class StoreUnavailableError extends Error {}
/** A bug while deciding: that request answers 500 (Alertmanager does not retry it forever); nothing of it is recorded. */
export class DecisionError extends Error {}

export class Dispatcher {
  private queue: Queued[] = [];
  private arriving = 0;
  private flushScheduled = false;
  /** The Kubernetes backend decides item by item with awaits in between: one flush at a time. */
  private flushing = false;
  private readonly pendingTimer: PendingTimer;
  private readonly idle = new Set<() => void>();
  /** Pending intents overdue at start wait until this time (rollback.startupGrace). */
  private holdOverdueUntil = -Infinity;
  private readonly overdueAtStart = new Set<string>();

  /** The executor needs the dispatcher to record results, so it is attached after both exist. */
  attachExecutor(executor: Executor): void {
    this.deps.executor = executor;
  }

  constructor(private readonly deps: DispatcherDeps) {
    this.pendingTimer = new PendingTimer(deps.clock, () => this.redecideDue(), (err) =>
      deps.log.error({ err: err.message }, 'deciding pending intents failed'),
    );
  }

  /**
   * Schedules the pending intents restored from the store. Those already overdue wait
   * `rollback.startupGrace` first, so Alertmanager can deliver a resolution it retried
   * while the receiver was down.
   */
  start(): void {
    const now = this.deps.clock.now();
    this.holdOverdueUntil = now + this.deps.config.rollback.startupGraceMs;
    for (const p of this.deps.state.pendingIntents()) {
      if (p.dueAt <= now) this.overdueAtStart.add(p.key);
      this.pendingTimer.schedule(this.heldUntil(p));
    }
  }

  private heldUntil(p: PendingIntent): number {
    return this.overdueAtStart.has(p.key) ? Math.max(p.dueAt, this.holdOverdueUntil) : p.dueAt;
  }

  stop(): void {
    this.pendingTimer.stop();
  }

  /** Decides and durably records every alert of a payload, in payload order. */
  async submit(payload: ParsedPayload): Promise<Decision[]> {
    // Counted from arrival, so a shutdown waits for payloads still reading the cluster.
    this.arriving++;
    try {
      const read = await this.read(payload.alerts);
      return (await this.enqueue({ kind: 'payload', payload, ...read })).decisions;
    } finally {
      this.arriving--;
      this.notifyIdle();
    }
  }

  /** Admits or refuses an operator's rollback through the same serialized point as alerts. */
  async submitOperator(request: OperatorRequest): Promise<{ decision: OperatorDecision; cluster: ClusterRead }> {
    this.arriving++;
    try {
      const cluster = await this.readOperator(request);
      return { decision: (await this.enqueue({ kind: 'operator', request, cluster })).operator!, cluster };
    } finally {
      this.arriving--;
      this.notifyIdle();
    }
  }

  /** What an operator request would get now, and the requests it would send, recording nothing (`dryRun: true`). */
  async simulateOperator(request: OperatorRequest): Promise<{ decision: OperatorDecision; cluster: ClusterRead }> {
    const cluster = await this.readOperator(request);
    return { decision: this.decideAll({ kind: 'operator', request, cluster }, this.deps.state.layer()).operator!, cluster };
  }

  /** The cluster and the shared state an operator request is decided on. */
  private async readOperator(request: OperatorRequest): Promise<ClusterRead> {
    const executor = this.deps.executor;
    if (!executor) throw new Error('operator rollbacks need a cluster');
    const [cluster] = await Promise.all([executor.view([{ target: request.target, strategy: request.strategy }]), this.deps.shared?.refresh([request.target])]);
    return cluster;
  }

  /**
   * Reads, once per target, what the cluster-side guards need — only for alerts that
   * could get that far, so Alertmanager's re-sends never touch the API server — and at
   * most `rollback.maxTargetsPerPayload` targets; with a shared ledger, its current state
   * for those targets too.
   */
  private async read(alerts: Alert[], pending = false): Promise<{ cluster: ClusterView | null; targets: Target[]; silences?: SilenceCheck }> {
    const { config, state, executor, shared, alertmanager } = this.deps;
    const candidates: { target: Target; strategy: StrategyName }[] = [];
    for (const alert of alerts) {
      if (alert.status !== 'firing' || (!pending && state.decided(dedupKey(alert)))) continue;
      const trigger = matchTrigger(alert, config.rollback.triggers);
      if (!trigger) continue;
      const check = checkTarget(intentFor(alert, trigger), config.rollback, config.execution);
      if (check.ok) candidates.push({ target: check.target, strategy: check.strategy });
    }
    const targets = candidates.map((c) => c.target);
    const [cluster, , silences] = await Promise.all([
      executor ? executor.view(candidates, config.rollback.maxTargetsPerPayload) : null,
      shared?.refresh(targets),
      alertmanager && candidates.length > 0 ? checkSilences(alertmanager) : undefined,
    ]);
    return { cluster, targets, silences };
  }

  /** Operator changes (freeze, cooldown reset, quarantine clearing) go through the same commit path. */
  async record(effects: Effect[]): Promise<void> {
    await this.enqueue({ kind: 'effects', effects });
  }

  /** Records effects in this replica's store only (a rollback adopted from another replica). */
  async recordLocally(effects: Effect[]): Promise<void> {
    await this.enqueue({ kind: 'local', effects });
  }

  /** Decides without recording or changing anything (`/api/v1/simulate`). */
  async simulate(payload: ParsedPayload): Promise<Decision[]> {
    const read = await this.read(payload.alerts);
    return this.decideAll({ kind: 'payload', payload, ...read }, this.deps.state.layer()).decisions;
  }

  /** Resolves once nothing is queued (graceful shutdown). */
  drain(): Promise<void> {
    if (this.queue.length === 0 && this.arriving === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.add(resolve));
  }

  /** Decides again every pending intent whose delay has ended, then waits for the next. */
  async redecideDue(): Promise<void> {
    const now = this.deps.clock.now();
    const due = this.deps.state.pendingIntents().filter((p) => this.heldUntil(p) <= now);
    if (due.length > 0) {
      try {
        const read = await this.read(
          due.map((p) => p.alert),
          true,
        );
        await this.enqueue({ kind: 'redecide', due, ...read });
      } catch (err) {
        this.deps.log.error({ err: (err as Error).message }, 'could not decide pending intents; retrying in 5s');
        this.pendingTimer.schedule(now + 5000);
        return;
      }
    }
    for (const p of this.deps.state.pendingIntents()) this.pendingTimer.schedule(this.heldUntil(p));
  }

  private enqueue(work: Work): Promise<Outcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ work, resolve, reject });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.flushing) return;
    this.flushScheduled = true;
    setImmediate(() => (this.deps.shared ? void this.flushShared() : this.flush()));
  }

  private decideAll(work: Work, layer: StateIndex): Outcome {
    const { config, clock } = this.deps;
    const now = clock.now();
    const id = () => newId(now);
    const run = (alert: ParsedPayload['alerts'][number], group: ParsedPayload['group'], cluster: ClusterView | null, silences: SilenceCheck | undefined, redecide?: PendingIntent): Decision => {
      const d = decide({ alert, group, config, state: layer, now, cluster, newId: id, redecide, silences });
      for (const e of d.effects) layer.apply(e);
      return d;
    };
    switch (work.kind) {
      case 'payload':
        return { decisions: work.payload.alerts.map((a) => run(a, work.payload.group, work.cluster, work.silences)) };
      case 'redecide':
        // Another path (a resolved alert) may have closed the intent since it was picked.
        return { decisions: work.due.filter((p) => layer.pending(p.key)?.id === p.id).map((p) => run(p.alert, p.group, work.cluster, work.silences, p)) };
      case 'operator': {
        const operator = decideOperator({ request: work.request, config, state: layer, now, cluster: work.cluster, newId: id });
        for (const e of operator.effects) layer.apply(e);
        return { decisions: [], operator };
      }
      case 'effects':
      case 'local':
        for (const e of work.effects) layer.apply(e);
        return { decisions: [] };
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    const items = this.queue;
    this.queue = [];
    const batch = this.deps.state.layer();
    const decided: { item: Queued; outcome: Outcome }[] = [];
    const failed: { item: Queued; err: Error }[] = [];
    try {
      this.deps.store.transaction(() => {
        for (const item of items) {
          const layer = batch.layer();
          try {
            const outcome = this.deps.store.savepoint(() => {
              const o = this.decideAll(item.work, layer);
              for (const e of layer.effects()) this.deps.store.write(e);
              return o;
            });
            layer.mergeIntoParent();
            decided.push({ item, outcome });
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
      if (isStoreError(err)) {
        this.deps.log.error({ err: err.message, work: item.work.kind }, 'store write failed; not recorded');
        item.reject(new StoreUnavailableError(`store write failed: ${err.message}`));
      } else {
        this.deps.log.error({ err: err.message, stack: err.stack, work: item.work.kind }, 'deciding failed (a bug); not recorded');
        item.reject(new DecisionError(`deciding failed: ${err.message}`));
      }
    }
    for (const { item, outcome } of decided) {
      this.afterCommit(outcome);
      item.resolve(outcome);
    }
    this.notifyIdle();
  }

  /**
   * The Kubernetes backend: each item is decided on the state as refreshed, its shared
   * effects published (CAS, Leases), and only then recorded locally and merged. A lost
   * race refreshes those targets and decides the item again.
   */
  private async flushShared(): Promise<void> {
    this.flushScheduled = false;
    this.flushing = true;
    const items = this.queue;
    this.queue = [];
    for (const item of items) {
      try {
        const outcome = await this.admitShared(item.work);
        this.afterCommit(outcome);
        item.resolve(outcome);
      } catch (err) {
        this.deps.log.error({ err: (err as Error).message, work: item.work.kind }, 'deciding on the shared state failed; not recorded');
        item.reject(err instanceof ClusterUnavailableError || err instanceof StoreUnavailableError ? err : new StoreUnavailableError((err as Error).message));
      }
    }
    this.flushing = false;
    if (this.queue.length > 0) this.scheduleFlush();
    this.notifyIdle();
  }

  private async admitShared(work: Work): Promise<Outcome> {
    const shared = this.deps.shared!;
    for (let attempt = 1; ; attempt++) {
      const layer = this.deps.state.layer();
      const outcome = this.decideAll(work, layer);
      const published = work.kind === 'local' ? [] : layer.effects().filter(isShared);
      if (published.length === 0 || (await shared.publish(published)) === 'ok') {
        this.deps.store.transaction(() => {
          for (const e of layer.effects()) this.deps.store.write(e);
        });
        layer.mergeIntoParent();
        return outcome;
      }
      if (attempt >= MAX_SHARED_ATTEMPTS) throw new StoreUnavailableError(`lost ${attempt} races for the shared state of ${targetsOf(work).map(targetKey).join(', ')}; retry`);
      // Jittered, so replicas that collided do not collide again in step.
      await new Promise((r) => setTimeout(r, Math.random() * 50 * attempt));
      await shared.refresh(targetsOf(work));
    }
  }

  private notifyIdle(): void {
    if (this.queue.length > 0 || this.arriving > 0 || this.flushing) return;
    for (const resolve of this.idle) resolve();
    this.idle.clear();
  }

  private launch(rollback: RollbackRecord): void {
    const executor = this.deps.executor;
    if (!executor) return;
    // Both never reject: failures are recorded, logged and escalated inside.
    if (rollback.status === 'running') void executor.execute(rollback);
    else void executor.recordPlan(rollback);
  }

  private afterCommit(outcome: Outcome): void {
    const { metrics, notifications, log } = this.deps;
    for (const d of outcome.decisions) {
      const r = d.record;
      metrics.alerts.inc({ trigger: r.trigger ?? 'none', decision: r.decision });
      if (r.dueAt !== null) this.pendingTimer.schedule(r.dueAt);
      if (d.notify) notifications.emit({ type: 'notify_only', decision: r });
      if (d.brakeTripped) notifications.emit({ type: 'brake_tripped', detail: r.reason, decision: r });
      if (d.escalation) {
        metrics.escalations.inc({ reason: d.escalation.reason });
        notifications.emit({ type: 'escalated', target: d.escalation.target, reason: d.escalation.reason, detail: r.reason, decision: r });
      }
      if (d.rollback) {
        log.info({ rollbackId: d.rollback.id, target: `${d.rollback.namespace}/${d.rollback.name}`, dryRun: d.rollback.dryRun }, r.reason);
        // Live rollbacks announce themselves from the executor; shadow mode announces what it would do here.
        if (d.rollback.dryRun) notifications.emit({ type: 'rollback_started', rollback: d.rollback, decision: r });
        else void this.deps.silences?.create(d.rollback);
        this.launch(d.rollback);
      }
    }
    const op = outcome.operator;
    if (op?.admitted) {
      log.info({ rollbackId: op.rollback.id, target: `${op.rollback.namespace}/${op.rollback.name}`, kind: op.rollback.kind }, op.rollback.steps[0]?.detail ?? 'operator rollback');
      this.launch(op.rollback);
    } else if (op?.escalation) {
      metrics.escalations.inc({ reason: op.escalation.reason });
      notifications.emit({ type: 'escalated', target: op.escalation.target, reason: op.escalation.reason, detail: op.verdict.reason });
    }
  }
}
