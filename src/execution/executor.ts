/**
 * Runs admitted rollbacks: read → compare with the pin → apply the plan step by step →
 * verify → record, with bounded concurrency and an Event on the target at each stage.
 *
 * The destination was pinned at admission. Before acting, the target must still serve
 * the revision the pin rolls away from (or already the destination); otherwise someone
 * else changed it and the rollback stops `failed` and escalates. A write that times out,
 * drops or meets a 409 is never blindly repeated: the object is read again and compared
 * with the step's expectations — done (skip), still as pinned (send again with a fresh
 * read), or changed by someone else (stop and escalate). Progress is recorded after each
 * write, so a restart resumes the same way. Shutdown stops between steps (a safe point).
 */
import pLimit from 'p-limit';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Config } from '../config/load.js';
import type { ClusterView, WorkloadFacts } from '../guards/guard.js';
import { KubeApiError, type KubeClient } from '../kube/client.js';
import { recordEvent, type EventReason } from '../kube/events.js';
import type { EscalationReason, Metrics } from '../metrics.js';
import { targetKey, type Pin, type RollbackKind, type StrategyName, type Target } from '../model.js';
import type { Notifications } from '../notify/notifier.js';
import type { DecisionRecord, Effect, GitOpsPauseRecord, RollbackRecord, RollbackStatus, RollbackStep } from '../store/records.js';
import { stepState } from './expectations.js';
import { InterruptedError, OwnershipLostError } from './interrupted.js';
import { blueGreen } from './strategies/blue-green.js';
import { redactedRequest } from './helm/redact.js';
import { deploymentUndo } from './strategies/deployment-undo.js';
import { helm } from './strategies/helm.js';
import { scaleSwap } from './strategies/scale-swap.js';
import { PlanError, type Inspection, type KubeReader, type PlanStep, type Strategy } from './strategies/strategy.js';
import { probe, probeUrl, VerificationError, waitForRollout } from './verify/verify.js';
import { gitopsEnabled } from '../gitops/config.js';
import { accessCheck, detectGitOps } from '../gitops/detect.js';
import { isPauseStep, pauseIndex, pauseSteps } from '../gitops/pause.js';
import { touchedObjects } from '../matching/target.js';

/** The cluster could not be read (unreachable, overloaded): intake answers 503 so Alertmanager retries. */
export class ClusterUnavailableError extends Error {}

/** The cluster as read for one decision pass: the guards' facts, and plans from the very same read. */
export interface ClusterRead extends ClusterView {
  /** The requests a pinned rollback of the target would send, from this read (dry-run answers). */
  plan(target: Target, strategy: StrategyName, pin: Pin, kind: RollbackKind): PlanStep[];
  snapshot(target: Target, strategy: StrategyName): Record<string, unknown>;
}

/** The target no longer is where the pin found it: someone else changed it. */
class ConcurrentChangeError extends Error {}

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
  /** Keeps the rollback's Leases while it runs (Kubernetes backend); `lost` aborts when another replica took it over. */
  hold?: (rollback: RollbackRecord) => RunHold;
}

export interface RunHold {
  lost: AbortSignal;
  release(): void;
}

type RequestStep = Extract<PlanStep, { action: 'request' }>;

/** The pinned GitOps pauses first, then the strategy's requests: nothing reconciles the rollback away while it runs. */
function planOf(strategy: Strategy, inspection: Inspection, pin: Pin, kind: RollbackKind): PlanStep[] {
  return [...pauseSteps(pin.pauses), ...strategy.plan(inspection, pin, kind)];
}

/** Seed: an emergency scales the failed side down with `--timeout=30s`: its requests get 30 s, not the attempt's timeout. */
const EMERGENCY_TIMEOUT_MS = 30_000;
/** Reads for the guards must not hold up intake for long. */
const FACTS_TIMEOUT_MS = 10_000;
/** Cluster reads in flight at once for one decision pass. */
const FACTS_CONCURRENCY = 8;
/** A write is sent at most this often (each time after comparing with the pin). */
const MAX_WRITE_ATTEMPTS = 5;

interface Run {
  rollback: RollbackRecord;
  pin: Pin;
  strategy: Strategy;
  steps: RollbackStep[];
  deadline: number;
  read: KubeReader;
  /** Aborted by shutdown or by losing the rollback's Leases: stop at the next safe point. */
  stop: AbortSignal;
  lost?: AbortSignal;
  /** The target object, once inspected: events go to it. */
  object?: Inspection['object'];
}

export class Executor {
  readonly strategies: ReadonlyMap<StrategyName, Strategy>;
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly running = new Set<Promise<void>>();
  /** Aborted by shutdown: running rollbacks stop at their next safe point. */
  private readonly stopping = new AbortController();

  constructor(private readonly deps: ExecutorDeps) {
    const { execution } = deps.config;
    this.strategies = new Map<StrategyName, Strategy>([
      ['deployment-undo', deploymentUndo as Strategy],
      ['blue-green', blueGreen(execution.blueGreen) as Strategy],
      ['scale-swap', scaleSwap(execution.scaleSwap) as Strategy],
      ['helm', helm as Strategy],
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

  /** A step for the record; a request in it with Secret data shown by size only (release values, chart Secrets). */
  private step(name: string, detail: string, extra: Partial<RollbackStep> = {}): RollbackStep {
    const request = extra.request && redactedRequest(extra.request);
    return { at: this.deps.clock.now(), name, detail, ...extra, ...(request ? { request } : {}) };
  }

  /** Inspects a target for the guards and for plans. Not-found and forbidden become validation problems. */
  async inspect(target: Target, strategyName: StrategyName, deadline: number): Promise<Inspection> {
    const strategy = this.strategies.get(strategyName);
    const object = { kind: 'Deployment', apiVersion: 'apps/v1', ...target, uid: '' };
    const refused = (problem: string): Inspection => ({
      target,
      object,
      facts: { optInObject: `${strategyName} target ${target.namespace}/${target.name}`, optedIn: false, unreadable: problem, validationProblem: problem, candidates: [] },
      snapshot: {},
    });
    if (!strategy) return refused(`strategy ${strategyName} is not available in this build`);
    try {
      const inspection = await strategy.inspect(this.reader(deadline), target);
      const { config, kube } = this.deps;
      if (gitopsEnabled(config.gitops)) {
        const objects = strategy.gitopsObjects?.(inspection) ?? touchedObjects(target, strategyName, config.execution);
        inspection.facts.gitops = await detectGitOps(this.reader(deadline), accessCheck(kube, deadline), objects, config.gitops);
      }
      return inspection;
    } catch (err) {
      if (err instanceof KubeApiError && !err.transient) {
        const what = err.status === 404 ? 'not found' : err.status === 403 ? 'forbidden (check the RBAC rules)' : err.reason;
        return refused(`cannot read ${target.namespace}/${target.name} for ${strategyName}: ${what}: ${err.message}`);
      }
      throw new ClusterUnavailableError(`the Kubernetes API did not answer: ${(err as Error).message}`);
    }
  }

  /**
   * The facts the cluster-side guards need, read once per target before a decision pass,
   * a bounded number at once. Targets past `cap` are not read: their alerts are refused.
   */
  async view(candidates: { target: Target; strategy: StrategyName }[], cap = Infinity): Promise<ClusterRead> {
    const reading = new Map<string, Promise<Inspection>>();
    const deadline = this.deps.clock.now() + FACTS_TIMEOUT_MS;
    const limit = pLimit(FACTS_CONCURRENCY);
    const key = (target: Target, strategy: StrategyName) => `${strategy}:${targetKey(target)}`;
    for (const { target, strategy } of candidates) {
      const k = key(target, strategy);
      if (reading.has(k) || reading.size >= cap) continue;
      reading.set(k, limit(() => this.inspect(target, strategy, deadline)));
    }
    const read = new Map<string, Inspection>();
    await Promise.all([...reading].map(async ([k, p]) => read.set(k, await p)));
    const notRead: WorkloadFacts = { optInObject: '', optedIn: false, validationProblem: 'not inspected', candidates: [] };
    return {
      facts: (target, strategy) => read.get(key(target, strategy))?.facts ?? { ...notRead, optInObject: targetKey(target) },
      plan: (target, strategy, pin, kind) => {
        const inspection = read.get(key(target, strategy));
        return inspection ? planOf(this.strategies.get(strategy)!, inspection, pin, kind) : [];
      },
      snapshot: (target, strategy) => read.get(key(target, strategy))?.snapshot ?? {},
      skipped: (target, strategy) =>
        read.has(key(target, strategy)) ? undefined : `not read from the cluster: this payload names more than ${cap} targets (rollback.maxTargetsPerPayload)`,
    };
  }

  /** What a live run of this admitted rollback would send, in order, read now: the dry-run answer. */
  async plan(rollback: RollbackRecord): Promise<{ inspection: Inspection; plan: PlanStep[] }> {
    const inspection = await this.inspect(rollback, rollback.strategy, this.deps.clock.now() + FACTS_TIMEOUT_MS);
    const strategy = this.strategies.get(rollback.strategy);
    const plan = strategy && rollback.pin ? planOf(strategy, inspection, rollback.pin, rollback.kind) : [];
    return { inspection, plan };
  }

  /** Starts a live rollback in the background (bounded concurrency); resolves when it has finished and is recorded. Never rejects. */
  execute(rollback: RollbackRecord, opts: { resume?: boolean } = {}): Promise<void> {
    const run = this.limit(() => this.run(rollback, opts.resume ?? false)).catch((err: unknown) =>
      this.deps.log.error({ rollbackId: rollback.id, err: (err as Error).message, stack: (err as Error).stack }, 'rollback run failed unexpectedly'),
    );
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
    return run;
  }

  /** Records the plan of a dry-run rollback (what a live run would have sent). Never rejects. */
  async recordPlan(rollback: RollbackRecord): Promise<void> {
    const steps: RollbackStep[] = [];
    try {
      const { inspection, plan } = await this.plan(rollback);
      steps.push(this.step('inspected', JSON.stringify(inspection.snapshot)));
      if (inspection.facts.validationProblem) steps.push(this.step('validation', inspection.facts.validationProblem));
      for (const note of this.notes(rollback, inspection)) steps.push(this.step('note', note));
      for (const s of plan) steps.push(this.step(s.action === 'request' ? 'planned-request' : 'planned-wait', s.description, s.action === 'request' ? { request: s.request } : {}));
    } catch (err) {
      steps.push(this.step('plan-failed', (err as Error).message));
    }
    await this.deps
      .record([{ type: 'rollback-finished', id: rollback.id, target: rollback, status: 'dry_run', at: rollback.finishedAt ?? rollback.startedAt, steps: [...rollback.steps, ...steps] }])
      .catch((err: Error) => this.deps.log.error({ rollbackId: rollback.id, err: err.message }, 'could not record a dry-run plan'));
  }

  /** Shutdown: running rollbacks stop at their next safe point; waits up to `graceMs` for them. */
  async stop(graceMs: number): Promise<void> {
    this.stopping.abort();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs).unref()));
    await Promise.race([Promise.allSettled([...this.running]), timeout]);
    clearTimeout(timer);
  }

  private async run(rollback: RollbackRecord, resume: boolean): Promise<void> {
    const { clock, config, log } = this.deps;
    const deadline = clock.now() + (rollback.kind === 'emergency' ? Math.min(EMERGENCY_TIMEOUT_MS, config.rollback.executionTimeoutMs) : config.rollback.executionTimeoutMs);
    const steps: RollbackStep[] = [];
    const strategy = this.strategies.get(rollback.strategy);
    const decision = rollback.decisionId ? this.deps.decisionOf(rollback.decisionId) : undefined;
    let object: Inspection['object'] | undefined;
    let serving: Target | undefined;
    let status: RollbackStatus = 'success';
    let escalation: EscalationReason | undefined;
    let summary = '';
    if (resume) steps.push(this.step('resumed', 'the rollback was cut off (restart, or its replica died); comparing the cluster with the pinned plan'));
    else this.deps.notifications.emit({ type: 'rollback_started', rollback, decision });
    const hold = this.deps.hold?.(rollback);
    const stop = hold ? AbortSignal.any([this.stopping.signal, hold.lost]) : this.stopping.signal;
    try {
      if (!strategy) throw new PlanError(`strategy ${rollback.strategy} is not available in this build`);
      if (!rollback.pin) throw new PlanError('no pinned destination on record (admitted by an older version); nothing was sent');
      const run: Run = { rollback, pin: rollback.pin, strategy, steps, deadline, read: this.reader(deadline, steps), stop, lost: hold?.lost };
      const inspection = await strategy.inspect(run.read, rollback);
      object = run.object = inspection.object;
      serving = strategy.verifies(rollback, run.pin)[0];
      steps.push(this.step('inspected', JSON.stringify(inspection.snapshot)));
      void this.event(object, resume ? 'RollbackResumed' : 'RollbackStarted', `${rollback.kind} rollback ${rollback.id} with ${rollback.strategy}, ${run.pin.from.label} → ${run.pin.to.label}: ${rollback.reason}`);
      const current = inspection.facts.current;
      const arrived = current?.id === run.pin.to.id;
      if (!arrived && current?.id !== run.pin.from.id) {
        throw new ConcurrentChangeError(
          `${rollback.namespace}/${rollback.name} changed concurrently${inspection.facts.changedBy ? ` by ${inspection.facts.changedBy}` : ''}: it serves ${current?.label ?? 'an unknown revision'}, neither ${run.pin.from.label} (rolled away from) nor ${run.pin.to.label} (the pinned destination)`,
        );
      }
      if (rollback.kind !== 'emergency' && !resume && !arrived && inspection.facts.validationProblem) {
        throw new PlanError(`pre-rollback validation failed: ${inspection.facts.validationProblem}`);
      }
      const plan = planOf(strategy, inspection, run.pin, rollback.kind);
      for (const note of this.notes(rollback, inspection)) steps.push(this.step('note', note));
      // Resuming, or already at the destination: every step is checked before it is sent.
      await this.apply(run, plan, resume || arrived);
      // An emergency's 30 s bound is for acting; verifying it afterwards may take the usual time.
      const verifyUntil = clock.now() + config.execution.verifyTimeoutMs;
      summary = await this.verify(run, rollback.kind === 'emergency' ? verifyUntil : Math.min(deadline, verifyUntil));
    } catch (err) {
      summary = (err as Error).message;
      if (err instanceof InterruptedError || err instanceof OwnershipLostError) {
        steps.push(this.step(err instanceof OwnershipLostError ? 'handed-over' : 'interrupted', summary));
        await this.progress(rollback, steps);
        log.warn({ rollbackId: rollback.id }, summary);
        hold?.release();
        return;
      }
      if (err instanceof VerificationError) {
        status = 'escalated';
        escalation = 'verification_failed';
        steps.push(this.step('verification-failed', summary));
      } else {
        status = 'failed';
        escalation = err instanceof ConcurrentChangeError ? 'concurrent_change' : 'execution_failed';
        steps.push(this.step('failed', summary));
        if (strategy && rollback.pin) await this.recordFailure(rollback, strategy, rollback.pin, steps, deadline, summary);
      }
    }
    await this.finish(rollback, { status, escalation, summary, steps, object, serving, decision });
    hold?.release();
  }

  private async finish(
    rollback: RollbackRecord,
    r: { status: RollbackStatus; escalation?: EscalationReason; summary: string; steps: RollbackStep[]; object?: Inspection['object']; serving?: Target; decision?: DecisionRecord },
  ): Promise<void> {
    const { clock, metrics, log } = this.deps;
    const now = clock.now();
    const result = r.status === 'success' ? 'success' : r.status === 'escalated' ? 'escalated' : 'failed';
    metrics.executions.inc({ strategy: rollback.strategy, kind: rollback.kind, result });
    metrics.executionDuration.observe({ strategy: rollback.strategy }, (now - rollback.startedAt) / 1000);
    if (r.status === 'success') metrics.lastSuccess.set({ namespace: rollback.namespace, name: rollback.name }, now / 1000);
    if (r.object) {
      const reason: EventReason = r.status === 'success' ? 'RollbackSucceeded' : r.status === 'escalated' ? 'RollbackEscalated' : 'RollbackFailed';
      void this.event(r.object, reason, `rollback ${rollback.id}: ${r.summary}`);
    }
    const steps = [...rollback.steps, ...r.steps];
    const effects: Effect[] = [{ type: 'rollback-finished', id: rollback.id, target: rollback, status: r.status, at: now, steps }];
    if (r.escalation) effects.push({ type: 'escalation', target: rollback, reason: r.escalation, at: now });
    try {
      await this.deps.record(effects);
    } catch (err) {
      log.error({ rollbackId: rollback.id, err: (err as Error).message }, 'could not record the rollback result');
    }
    log[r.status === 'success' ? 'info' : 'warn']({ rollbackId: rollback.id, target: targetKey(rollback), status: r.status }, r.summary);
    const done: RollbackRecord = { ...rollback, status: r.status, finishedAt: now, steps };
    if (r.status === 'success') this.deps.notifications.emit({ type: 'rollback_succeeded', rollback: done, detail: r.summary, decision: r.decision });
    else this.deps.notifications.emit({ type: 'rollback_failed', rollback: done, detail: r.summary, decision: r.decision });
    if (r.escalation) {
      metrics.escalations.inc({ reason: r.escalation });
      this.deps.notifications.emit({ type: 'escalated', target: rollback, reason: r.escalation, detail: `rollback ${rollback.id}: ${r.summary}`, rollback: done, decision: r.decision });
    }
    this.deps.onFinished?.(done, r.status, r.serving);
  }

  private notes(rollback: RollbackRecord, inspection: Inspection): string[] {
    const strategy = this.strategies.get(rollback.strategy);
    return strategy?.notes && rollback.pin ? strategy.notes(inspection, rollback.pin) : [];
  }

  /** Where the target keeps its own history (helm), the failure is written there too, read afresh; best effort. */
  private async recordFailure(rollback: RollbackRecord, strategy: Strategy, pin: Pin, steps: RollbackStep[], deadline: number, error: string): Promise<void> {
    if (!strategy.failure) return;
    try {
      // Past the deadline (a timeout is a failure too) the failure still gets a short while to be written.
      const until = Math.max(deadline, this.deps.clock.now() + FACTS_TIMEOUT_MS);
      const fresh = await strategy.inspect(this.reader(until, steps), rollback);
      for (const s of strategy.failure(fresh, pin, error)) {
        if (s.action !== 'request') continue;
        await this.deps.kube.send(s.request, FACTS_TIMEOUT_MS);
        steps.push(this.step('request', s.description, { request: s.request, result: 'ok' }));
      }
    } catch (err) {
      steps.push(this.step('failure-not-recorded', `could not record the failure in ${rollback.strategy}'s history: ${(err as Error).message}`));
    }
  }

  /** What was sent so far, on record: a restart resumes from it. */
  private async progress(rollback: RollbackRecord, steps: RollbackStep[]): Promise<void> {
    await this.deps
      .record([{ type: 'rollback-steps', id: rollback.id, steps: [...rollback.steps, ...steps] }])
      .catch((err: Error) => this.deps.log.warn({ rollbackId: rollback.id, err: err.message }, 'could not record the steps so far'));
  }

  private async apply(run: Run, plan: PlanStep[], careful: boolean): Promise<void> {
    for (const s of plan) {
      // Between steps is the safe point: nothing half-sent, the Service never switched to a colour not ready.
      this.checkpoint(run);
      if (s.action === 'wait') {
        const until = Math.min(run.deadline, this.deps.clock.now() + (s.timeoutMs ?? this.deps.config.execution.verifyTimeoutMs));
        const status = await this.interruptible(run, () => waitForRollout(run.read, s.deployment, until, this.deps.clock, run.stop));
        run.steps.push(this.step('waited', `${s.description}: ${status.message}`));
        continue;
      }
      await this.write(run, s, careful);
      if (isPauseStep(s)) await this.paused(run, s);
      await this.progress(run.rollback, run.steps);
    }
  }

  /** A GitOps reconciliation is paused (now, or by an earlier attempt): on record until resumed, and on the target, never silently. */
  private async paused(run: Run, step: RequestStep): Promise<void> {
    const index = pauseIndex(step);
    const pause = run.pin.pauses?.[index];
    run.steps.push(this.step('gitops-paused', step.description));
    if (!pause || !run.object) return;
    const record: GitOpsPauseRecord = {
      id: `${run.rollback.id}-${index}`,
      rollbackId: run.rollback.id,
      target: { namespace: run.rollback.namespace, name: run.rollback.name },
      object: run.object,
      pause,
      pausedAt: this.deps.clock.now(),
      status: 'paused',
      resumedAt: null,
      resumedBy: null,
    };
    await this.deps.record([{ type: 'gitops-pause', record }]);
    void this.event(run.object, 'GitOpsPaused', `rollback ${run.rollback.id}: ${step.description}; resume with rollback-receiver gitops resume ${record.id}`);
  }

  /** Stops here when shutdown asked, or when another replica owns the rollback now. */
  private checkpoint(run: Run): void {
    if (run.lost?.aborted) throw new OwnershipLostError();
    if (run.stop.aborted) throw new InterruptedError();
  }

  /** An interrupted wait is an interruption, or a lost ownership when that is why. */
  private async interruptible<T>(run: Run, wait: () => Promise<T>): Promise<T> {
    try {
      return await wait();
    } catch (err) {
      if (err instanceof InterruptedError && run.lost?.aborted) throw new OwnershipLostError();
      throw err;
    }
  }

  /** Sends one write; on an uncertain outcome compares with the pin before anything else is sent. */
  private async write(run: Run, planned: RequestStep, careful: boolean): Promise<void> {
    let step = planned;
    if (careful && (await this.compare(run, step)) === 'done') return;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.deps.kube.send(step.request, Math.max(1000, Math.min(15_000, run.deadline - Date.now())));
        run.steps.push(this.step('request', step.description, { request: step.request, result: 'ok' }));
        return;
      } catch (err) {
        const uncertain = err instanceof KubeApiError && (err.ambiguous || err.conflict || err.status === 429);
        if (!uncertain || attempt >= MAX_WRITE_ATTEMPTS || this.deps.clock.now() >= run.deadline) throw err;
        run.steps.push(this.step(err.conflict ? 'conflict' : 'uncertain', `${step.description}: ${err.message}; reading the objects again to compare with the pinned plan`));
      }
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
      const fresh = await run.strategy.inspect(run.read, run.rollback);
      let rebuilt: RequestStep | undefined;
      try {
        rebuilt = planOf(run.strategy, fresh, run.pin, run.rollback.kind).find((s): s is RequestStep => s.id === step.id && s.action === 'request');
      } catch (err) {
        if (!(err instanceof PlanError)) throw err;
        throw new ConcurrentChangeError(`${run.rollback.namespace}/${run.rollback.name} changed concurrently: ${err.message}`);
      }
      step = rebuilt ?? step;
      if ((await this.compare(run, step)) === 'done') return;
    }
  }

  /** done: the step already took effect; ready: send it; otherwise throws naming the change. */
  private async compare(run: Run, step: RequestStep): Promise<'done' | 'ready'> {
    const state = await stepState(step, run.read);
    if (state.state === 'changed') throw new ConcurrentChangeError(`${step.description}: changed concurrently: ${state.detail}`);
    if (state.state === 'done') run.steps.push(this.step('confirmed', `${step.description}: already in effect`));
    return state.state;
  }

  private async verify(run: Run, deadline: number): Promise<string> {
    const messages: string[] = [];
    const read = this.reader(deadline, run.steps);
    for (const target of run.strategy.verifies(run.rollback, run.pin)) {
      const status = await this.interruptible(run, () => waitForRollout(read, target, deadline, this.deps.clock, run.stop));
      run.steps.push(this.step('verified', status.message));
      messages.push(status.message);
    }
    for (const template of this.deps.config.execution.probes.urls) {
      const result = await this.interruptible(run, () => probe(probeUrl(template, run.rollback), this.deps.config.execution.probes.intervalMs, deadline, this.deps.clock, run.stop));
      run.steps.push(this.step('probe', result));
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
