/**
 * Runs rollbacks: inspect → validate → plan → apply the plan step by step → verify →
 * record, with bounded concurrency, transient API errors retried with backoff inside
 * the attempt's timeout, 409 conflicts retried on a fresh read, an Event on the target
 * at each stage, and escalation when the attempt fails or verification does.
 */
import pLimit from 'p-limit';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Config } from '../config/load.js';
import type { ClusterView, WorkloadFacts } from '../guards/guard.js';
import { KubeApiError, type ApiRequest, type KubeClient } from '../kube/client.js';
import { recordEvent, type EventReason } from '../kube/events.js';
import type { Metrics } from '../metrics.js';
import { targetKey, type StrategyName, type Target } from '../model.js';
import type { Notifications } from '../notify/notifier.js';
import type { DecisionRecord, Effect, RollbackRecord, RollbackStatus, RollbackStep } from '../store/records.js';
import { blueGreen } from './strategies/blue-green.js';
import { deploymentUndo } from './strategies/deployment-undo.js';
import { scaleSwap } from './strategies/scale-swap.js';
import type { Inspection, KubeReader, PlanStep, Strategy, StrategyOptions } from './strategies/strategy.js';
import { probe, probeUrl, VerificationError, waitForRollout } from './verify/verify.js';

/** The cluster could not be read (unreachable, overloaded): intake answers 503 so Alertmanager retries. */
export class ClusterUnavailableError extends Error {}

export interface ExecutorDeps {
  kube: KubeClient;
  config: Config;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  notifications: Notifications;
  /** Commits effects through the dispatcher (the one write path). */
  record: (effects: Effect[]) => Promise<void>;
  /** The decision that started a rollback, for notification context. */
  decisionOf: (id: string) => DecisionRecord | undefined;
  /** Called once a live rollback has finished and is recorded (opens the monitoring window). */
  onFinished?: (rollback: RollbackRecord, status: RollbackStatus, serving: Target | undefined) => void;
}

export interface ExecuteOptions {
  toRevision?: number;
  rollbackTag?: string;
}

const MAX_CONFLICT_RETRIES = 3;
/** Seed: an emergency scales the failed side down with `--timeout=30s`: its requests get 30 s, not the attempt's timeout. */
const EMERGENCY_TIMEOUT_MS = 30_000;
/** Reads for the guards must not hold up intake for long. */
const FACTS_TIMEOUT_MS = 10_000;

export class Executor {
  readonly strategies: ReadonlyMap<StrategyName, Strategy>;
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly running = new Set<Promise<void>>();
  /** Start times of the rollbacks executing now, by id (the in-progress gauges read them). */
  private readonly startedAt = new Map<string, number>();

  runningStarts(): number[] {
    return [...this.startedAt.values()];
  }

  constructor(private readonly deps: ExecutorDeps) {
    const { execution } = deps.config;
    this.strategies = new Map<StrategyName, Strategy>([
      ['deployment-undo', deploymentUndo as Strategy],
      ['blue-green', blueGreen(execution.blueGreen) as Strategy],
      ['scale-swap', scaleSwap(execution.scaleSwap) as Strategy],
    ]);
    this.limit = pLimit(execution.concurrency);
  }

  private reader(deadline: number, steps?: RollbackStep[]): KubeReader {
    return <T>(path: string) =>
      this.deps.kube.request<T>(
        { method: 'GET', path },
        { deadline, onRetry: (err, attempt) => steps?.push(this.step('retry', `attempt ${attempt} failed: ${err.message}; retrying`)) },
      );
  }

  private step(name: string, detail: string, extra: Partial<RollbackStep> = {}): RollbackStep {
    return { at: this.deps.clock.now(), name, detail, ...extra };
  }

  private strategy(name: StrategyName): Strategy | undefined {
    return this.strategies.get(name);
  }

  /** Inspects a target for the guards and for dry-run plans. Not-found and forbidden become validation problems. */
  async inspect(target: Target, strategyName: StrategyName, opts: StrategyOptions, deadline: number): Promise<Inspection> {
    const strategy = this.strategy(strategyName);
    const object = { kind: 'Deployment', apiVersion: 'apps/v1', ...target, uid: '' };
    const refused = (problem: string): Inspection => ({
      target,
      object,
      facts: { optInObject: `${strategyName} target ${target.namespace}/${target.name}`, optedIn: false, unreadable: problem, validationProblem: problem },
      snapshot: {},
    });
    if (!strategy) return refused(`strategy ${strategyName} is not available in this build`);
    try {
      return await strategy.inspect(this.reader(deadline), target, opts);
    } catch (err) {
      if (err instanceof KubeApiError && !err.transient) {
        const what = err.status === 404 ? 'not found' : err.status === 403 ? 'forbidden (check the RBAC rules)' : err.reason;
        return refused(`cannot read ${target.namespace}/${target.name} for ${strategyName}: ${what}: ${err.message}`);
      }
      throw new ClusterUnavailableError(`the Kubernetes API did not answer: ${(err as Error).message}`);
    }
  }

  /** The facts the cluster-side guards need, read once per target before a decision pass. */
  async view(candidates: { target: Target; strategy: StrategyName }[]): Promise<ClusterView> {
    const facts = new Map<string, WorkloadFacts>();
    const deadline = this.deps.clock.now() + FACTS_TIMEOUT_MS;
    const opts: StrategyOptions = { kind: 'automatic' };
    await Promise.all(
      candidates.map(async ({ target, strategy }) => {
        const key = `${strategy}:${targetKey(target)}`;
        if (facts.has(key)) return;
        facts.set(key, { optInObject: '', optedIn: false });
        facts.set(key, (await this.inspect(target, strategy, opts, deadline)).facts);
      }),
    );
    return {
      facts: (target, strategy) =>
        facts.get(`${strategy}:${targetKey(target)}`) ?? { optInObject: `${targetKey(target)}`, optedIn: false, validationProblem: 'not inspected' },
    };
  }

  /** What a live run would send, in order: the dry-run answer. */
  async plan(target: Target, strategyName: StrategyName, opts: StrategyOptions): Promise<{ inspection: Inspection; plan: PlanStep[] }> {
    const inspection = await this.inspect(target, strategyName, opts, this.deps.clock.now() + FACTS_TIMEOUT_MS);
    const strategy = this.strategy(strategyName);
    const plan = strategy && !inspection.facts.validationProblem ? strategy.plan(inspection, opts) : [];
    return { inspection, plan };
  }

  /** Starts a live rollback in the background (bounded concurrency); resolves when it has finished and is recorded. */
  execute(rollback: RollbackRecord, opts: ExecuteOptions = {}): Promise<void> {
    const run = this.limit(() => this.run(rollback, opts));
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
    return run;
  }

  /** Records the plan of a dry-run rollback (what a live run would have sent). */
  async recordPlan(rollback: RollbackRecord, opts: ExecuteOptions = {}): Promise<void> {
    const steps: RollbackStep[] = [];
    try {
      const { inspection, plan } = await this.plan(rollback, rollback.strategy, {
        kind: rollback.kind,
        ...opts,
      });
      steps.push(this.step('inspected', JSON.stringify(inspection.snapshot)));
      if (inspection.facts.validationProblem) steps.push(this.step('validation', inspection.facts.validationProblem));
      for (const s of plan) steps.push(this.step(s.action === 'request' ? 'planned-request' : 'planned-wait', s.description, s.action === 'request' ? { request: s.request } : {}));
    } catch (err) {
      steps.push(this.step('plan-failed', (err as Error).message));
    }
    await this.deps.record([{ type: 'rollback-finished', id: rollback.id, target: rollback, status: 'dry_run', at: rollback.finishedAt ?? rollback.startedAt, steps: [...rollback.steps, ...steps] }]);
  }

  /** Waits for running rollbacks (graceful shutdown). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }

  private async run(rollback: RollbackRecord, opts: ExecuteOptions): Promise<void> {
    const { clock, metrics, config, log } = this.deps;
    const deadline = clock.now() + (rollback.kind === 'emergency' ? Math.min(EMERGENCY_TIMEOUT_MS, config.rollback.executionTimeoutMs) : config.rollback.executionTimeoutMs);
    const steps: RollbackStep[] = [];
    const sopts: StrategyOptions = { kind: rollback.kind, ...opts };
    const strategy = this.strategy(rollback.strategy);
    let object: Inspection['object'] | undefined;
    /** The Deployment that serves once the rollback is done (what monitoring watches). */
    let serving: Target | undefined;
    let status: RollbackStatus = 'success';
    let escalation: string | undefined;
    let summary = '';
    const decision = rollback.decisionId ? this.deps.decisionOf(rollback.decisionId) : undefined;
    this.deps.notifications.emit({ type: 'rollback_started', rollback, decision });
    this.startedAt.set(rollback.id, rollback.startedAt);
    try {
      if (!strategy) throw new Error(`strategy ${rollback.strategy} is not available in this build`);
      let inspection = await strategy.inspect(this.reader(deadline, steps), rollback, sopts);
      object = inspection.object;
      serving = strategy.verifies(inspection)[0];
      steps.push(this.step('inspected', JSON.stringify(inspection.snapshot)));
      void this.event(object, 'RollbackStarted', `${rollback.kind} rollback ${rollback.id} with ${rollback.strategy}: ${rollback.reason}`);
      if (rollback.kind !== 'emergency' && inspection.facts.validationProblem) {
        throw new Error(`pre-rollback validation failed: ${inspection.facts.validationProblem}`);
      }
      if (inspection.noop) {
        steps.push(this.step('skipped', inspection.noop));
      } else {
        for (let attempt = 0; ; attempt++) {
          try {
            await this.apply(strategy.plan(inspection, sopts), deadline, steps);
            break;
          } catch (err) {
            if (!(err instanceof KubeApiError && err.conflict) || attempt >= MAX_CONFLICT_RETRIES) throw err;
            steps.push(this.step('conflict', `${err.message}; reading the objects again`));
            inspection = await strategy.inspect(this.reader(deadline, steps), rollback, sopts);
          }
        }
      }
      // What was sent is on record before verifying, which can take minutes (and a restart may cut it off).
      await this.deps.record([{ type: 'rollback-steps', id: rollback.id, steps: [...rollback.steps, ...steps] }]).catch((err: Error) =>
        log.warn({ rollbackId: rollback.id, err: err.message }, 'could not record the steps so far'),
      );
      // An emergency's 30 s bound is for acting; verifying it afterwards may take the usual time.
      const verifyUntil = clock.now() + config.execution.verifyTimeoutMs;
      summary = await this.verify(strategy, inspection, rollback.kind === 'emergency' ? verifyUntil : Math.min(deadline, verifyUntil), steps);
    } catch (err) {
      const message = (err as Error).message;
      if (err instanceof VerificationError) {
        status = 'escalated';
        escalation = 'verification_failed';
        steps.push(this.step('verification-failed', message));
      } else {
        status = 'failed';
        escalation = 'execution_failed';
        steps.push(this.step('failed', message));
      }
      summary = message;
    } finally {
      this.startedAt.delete(rollback.id);
    }

    const now = clock.now();
    const result = status === 'success' ? 'success' : status === 'escalated' ? 'escalated' : 'failed';
    metrics.executions.inc({ strategy: rollback.strategy, kind: rollback.kind, result });
    metrics.executionDuration.observe({ strategy: rollback.strategy }, (now - rollback.startedAt) / 1000);
    if (status === 'success') metrics.lastSuccess.set({ namespace: rollback.namespace, name: rollback.name }, now / 1000);
    if (object) {
      const reason: EventReason = status === 'success' ? 'RollbackSucceeded' : status === 'escalated' ? 'RollbackEscalated' : 'RollbackFailed';
      void this.event(object, reason, `rollback ${rollback.id}: ${summary}`);
    }
    const effects: Effect[] = [{ type: 'rollback-finished', id: rollback.id, target: rollback, status, at: now, steps: [...rollback.steps, ...steps] }];
    if (escalation) effects.push({ type: 'escalation', target: rollback, reason: escalation, at: now });
    try {
      await this.deps.record(effects);
    } catch (err) {
      log.error({ rollbackId: rollback.id, err: (err as Error).message }, 'could not record the rollback result');
    }
    log[status === 'success' ? 'info' : 'warn']({ rollbackId: rollback.id, target: targetKey(rollback), status }, summary);
    const done: RollbackRecord = { ...rollback, status, finishedAt: now, steps: [...rollback.steps, ...steps] };
    if (status === 'success') this.deps.notifications.emit({ type: 'rollback_succeeded', rollback: done, detail: summary, decision });
    else this.deps.notifications.emit({ type: 'rollback_failed', rollback: done, detail: summary, decision });
    if (escalation) {
      metrics.escalations.inc({ reason: escalation });
      this.deps.notifications.emit({ type: 'escalated', target: rollback, reason: escalation, detail: `rollback ${rollback.id}: ${summary}`, rollback: done, decision });
    }
    this.deps.onFinished?.(done, status, serving);
  }

  private async apply(plan: PlanStep[], deadline: number, steps: RollbackStep[]): Promise<void> {
    for (const s of plan) {
      if (s.action === 'wait') {
        const status = await waitForRollout(this.reader(deadline, steps), s.deployment, Math.min(deadline, this.deps.clock.now() + (s.timeoutMs ?? this.deps.config.execution.verifyTimeoutMs)), this.deps.clock);
        steps.push(this.step('waited', `${s.description}: ${status.message}`));
        continue;
      }
      const request: ApiRequest = s.request;
      await this.deps.kube.request(request, {
        deadline,
        onRetry: (err, attempt) => steps.push(this.step('retry', `attempt ${attempt} of ${request.method} ${request.path} failed: ${err.message}`)),
      });
      steps.push(this.step('request', s.description, { request, result: 'ok' }));
    }
  }

  private async verify(strategy: Strategy, inspection: Inspection, deadline: number, steps: RollbackStep[]): Promise<string> {
    const messages: string[] = [];
    for (const target of strategy.verifies(inspection)) {
      const status = await waitForRollout(this.reader(deadline, steps), target, deadline, this.deps.clock);
      steps.push(this.step('verified', status.message));
      messages.push(status.message);
    }
    for (const template of this.deps.config.execution.probes.urls) {
      const result = await probe(probeUrl(template, inspection.target), this.deps.config.execution.probes.intervalMs, deadline, this.deps.clock);
      steps.push(this.step('probe', result));
      messages.push(result);
    }
    return messages.join('; ') || 'nothing to verify';
  }

  private async event(object: Inspection['object'], reason: EventReason, message: string): Promise<void> {
    try {
      await recordEvent(this.deps.kube, object, reason, message, this.deps.clock.now());
    } catch (err) {
      this.deps.log.warn({ reason, object: `${object.namespace}/${object.name}`, err: (err as Error).message }, 'could not record a Kubernetes event');
    }
  }
}
