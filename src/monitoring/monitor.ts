/**
 * Enhanced monitoring after a rollback (seed: 30 minutes): every interval (node-cron)
 * each metric is queried through Prometheus and judged against its threshold. A breach
 * or too many unknowns in a row escalate (once each); a window that ends clean marks
 * the rollback recovered. Windows and samples are stored as they happen, so after a
 * restart every open window resumes, and the samples it missed are queried at the
 * times they were due.
 */
import { schedule, type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { newId } from '../ids.js';
import type { Metrics } from '../metrics.js';
import type { Target } from '../model.js';
import type { NotificationEvent, Notifications } from '../notify/notifier.js';
import type { Effect, SampleRecord, WindowRecord, WindowStatus } from '../store/records.js';
import type { SqliteStore } from '../store/sqlite.js';
import { classify, escalationFor, formatValue, missedTicks, type Escalation, type Reading } from './evaluate.js';
import type { MonitoringSettings } from './settings.js';
import { stageCheckpoints } from './stages.js';
import type { RunHold } from '../execution/executor.js';
import type { SharedWindow, WindowShare } from './window-share.js';

export interface MetricSpec {
  name: string;
  query: string;
  threshold: number | null;
}

/** What a window watches: the target, the Deployment serving it after the rollback, and since when. */
export interface Watched extends Target {
  deployment: string;
  /** When the window opened: samples must not judge what came before the rollback. */
  since: number;
}

/** Reads one metric of one workload at one time. */
export interface Sampler {
  read(watched: Watched, metric: MetricSpec, at: number): Promise<Reading>;
}

export interface MonitorDeps {
  settings: MonitoringSettings;
  store: SqliteStore;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  notifications: Notifications;
  sampler: Sampler;
  record: (effects: Effect[]) => Promise<void>;
  /** Replicas: the window's state in the cluster, and its ownership (null with SQLite). */
  share?: WindowShare | null;
  /** Told when a window ends or escalates (the receiver's silence on the target ends then). */
  onWindowEnd?: (window: WindowRecord, why: string) => void;
}

interface Running {
  window: WindowRecord;
  samples: SampleRecord[];
  /** The last sample another replica took, for a window adopted from it. */
  sampledUntil?: number;
  escalated: Set<string>;
  hold?: RunHold;
  task?: ScheduledTask;
  /** Ticks run one after another, in order, even when a catch-up overlaps the schedule. */
  chain: Promise<void>;
}

export class Monitor {
  private readonly running = new Map<string, Running>();
  private stopped = false;

  constructor(private readonly deps: MonitorDeps) {}

  /** Opens a window on the target, or returns the one already open (monitor-deployment attaches to it). */
  async start(target: Target, rollbackId: string | null, durationMs = this.deps.settings.durationMs, deployment = target.name): Promise<WindowRecord> {
    const open = this.openOn(target);
    if (open) return open;
    const now = this.deps.clock.now();
    const window: WindowRecord = {
      id: newId(now),
      rollbackId,
      namespace: target.namespace,
      name: target.name,
      deployment,
      startedAt: now,
      endsAt: now + durationMs,
      intervalMs: this.deps.settings.intervalMs,
      // Stages past a shorter window's end (monitor-deployment's duration) are left out.
      stagesMs: this.deps.settings.stagesMs.filter((s) => s <= durationMs),
      status: 'active',
      escalation: null,
      finishedAt: null,
    };
    await this.deps.record([{ type: 'window-open', window }]);
    await this.shared('open', () => this.deps.share!.opened(window));
    this.deps.log.info({ windowId: window.id, rollbackId, target: `${target.namespace}/${target.name}`, endsAt: new Date(window.endsAt).toISOString() }, 'monitoring window opened');
    this.run({ window, samples: [], escalated: new Set(), chain: Promise.resolve() });
    return window;
  }

  /** Takes over a window whose replica died: sampling goes on from the last sample it took. */
  async adopt(shared: SharedWindow): Promise<void> {
    const at = this.deps.clock.now();
    const note = `${shared.window.note ? `${shared.window.note}; ` : ''}samples until ${shared.lastSampleAt === null ? 'its start' : new Date(shared.lastSampleAt).toISOString()} were taken by replica ${shared.owner}, this replica took it over at ${new Date(at).toISOString()}`;
    const window: WindowRecord = { ...shared.window, note };
    await this.deps.record([{ type: 'window-open', window }]);
    this.deps.log.warn({ windowId: window.id, from: shared.owner }, 'taking over a monitoring window whose replica stopped renewing its Lease');
    this.run({ window, samples: [], sampledUntil: shared.lastSampleAt ?? undefined, escalated: new Set(shared.escalated), chain: Promise.resolve() });
  }

  /** Calls the share, if any; its failures are logged, never fatal to the window. */
  private async shared(what: string, call: () => Promise<void>): Promise<void> {
    if (!this.deps.share) return;
    try {
      await call();
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message }, `could not ${what} the monitoring window's shared state`);
    }
  }

  /** Resumes every window left open by a previous process, catching up on missed samples (with replicas, the takeover does). */
  resume(): void {
    if (this.deps.share) return;
    for (const window of this.deps.store.windows({ status: 'active' })) {
      const samples = this.deps.store.samples(window.id);
      const escalated = new Set(window.escalation ? [window.escalation] : []);
      this.deps.log.info({ windowId: window.id, samples: samples.length }, 'resuming monitoring window after restart');
      this.run({ window, samples, escalated, chain: Promise.resolve() });
    }
  }

  private run(r: Running): void {
    // Shutting down: the window stays `active` in the store and resumes on the next start.
    if (this.stopped) return;
    this.running.set(r.window.id, r);
    this.deps.metrics.windowsActive.set(this.running.size);
    if (this.deps.share) {
      r.hold = this.deps.share.hold(r.window);
      r.hold.lost.addEventListener('abort', () => void this.handOver(r));
    }
    const last = r.samples.at(-1)?.at ?? r.sampledUntil;
    const now = this.deps.clock.now();
    for (const at of missedTicks(r.window.startedAt, last, r.window.intervalMs, Math.min(now, r.window.endsAt))) this.enqueue(r, at);
    if (now >= r.window.endsAt) {
      this.enqueue(r, undefined);
      return;
    }
    r.task = schedule(this.deps.settings.cron, (ctx) => this.enqueue(r, ctx.date.getTime()), { name: `window-${r.window.id}`, noOverlap: false });
  }

  /** @param at the sample time; undefined only finishes the window. */
  private enqueue(r: Running, at: number | undefined): void {
    r.chain = r.chain
      .then(async () => {
        if (!this.running.has(r.window.id) || this.stopped) return;
        const lastAt = r.samples.at(-1)?.at ?? r.sampledUntil ?? -Infinity;
        // After a rollback, a tick sooner than minRateWindow after the start would have to judge the time before it.
        const settled = at !== undefined && (r.window.rollbackId === null || at - r.window.startedAt >= this.deps.settings.minRateWindowMs);
        if (at !== undefined && settled && at <= r.window.endsAt && at > lastAt) await this.sample(r, at);
        if (at === undefined || at + r.window.intervalMs > r.window.endsAt || this.deps.clock.now() >= r.window.endsAt) await this.finish(r);
      })
      .catch((err: unknown) => this.deps.log.error({ windowId: r.window.id, err: (err as Error).message }, 'monitoring tick failed'));
  }

  private async sample(r: Running, at: number): Promise<void> {
    const target = { namespace: r.window.namespace, name: r.window.name };
    // A window without a rollback (monitor-deployment) has no "before" to keep out: its range is the full rateWindow.
    const watched = { ...target, deployment: r.window.deployment, since: r.window.rollbackId === null ? -Infinity : r.window.startedAt };
    const samples: SampleRecord[] = await Promise.all(
      this.deps.settings.metrics.map(async (metric) => {
        const reading = await this.deps.sampler.read(watched, metric, at);
        const { state, detail } = classify(reading, metric.threshold);
        return { windowId: r.window.id, at, metric: metric.name, value: reading.value, threshold: metric.threshold, state, detail };
      }),
    );
    const previous = r.samples.at(-1)?.at ?? r.sampledUntil ?? -Infinity;
    r.samples.push(...samples);
    // A stage whose checkpoint this sample reached: its verdict, from the samples on record (stages.ts).
    for (const c of stageCheckpoints(r.window, r.samples)) {
      if (c.at > previous && c.at <= at) this.deps.log.info({ windowId: r.window.id, stage: c.stage, status: c.status, detail: c.detail }, 'monitoring stage checkpoint');
    }
    const effects: Effect[] = [{ type: 'window-samples', samples }];
    for (const s of samples) if (s.state === 'breach') this.deps.metrics.monitoringBreaches.inc({ metric: s.metric });
    const escalation = escalationFor(r.samples, samples, this.deps.settings.unknownLimit);
    if (escalation && !r.escalated.has(escalation.reason)) {
      r.escalated.add(escalation.reason);
      const status: WindowStatus = escalation.reason === 'monitoring_breach' || r.window.status === 'breached' ? 'breached' : 'escalated';
      r.window = { ...r.window, status, escalation: r.window.escalation ?? escalation.reason };
      effects.push(
        { type: 'window-update', id: r.window.id, status, escalation: r.window.escalation, finishedAt: null },
        { type: 'escalation', target, reason: escalation.reason, at },
      );
      this.escalate(r, escalation);
      this.deps.onWindowEnd?.(r.window, `the monitoring window escalated (${escalation.reason})`);
    }
    this.deps.log.info({ windowId: r.window.id, at: new Date(at).toISOString(), samples: samples.map((s) => `${s.metric}=${s.value === null ? 'none' : formatValue(s.value)} ${s.state}`) }, 'monitoring sample');
    await this.deps.record(effects);
    await this.shared('update', () => this.deps.share!.sampled({ window: r.window, lastSampleAt: at, escalated: [...r.escalated], owner: '' }));
  }

  /** Another replica owns the window now: stop sampling here; this replica's record says so. */
  private async handOver(r: Running): Promise<void> {
    if (!this.running.delete(r.window.id)) return;
    this.deps.metrics.windowsActive.set(this.running.size);
    await r.task?.destroy();
    r.hold?.release();
    const note = `handed over to another replica at ${new Date(this.deps.clock.now()).toISOString()}; its later samples are in that replica's records`;
    await this.deps.record([{ type: 'window-update', id: r.window.id, status: 'stopped', escalation: r.window.escalation, finishedAt: null, note }]).catch((err: Error) =>
      this.deps.log.warn({ windowId: r.window.id, err: err.message }, 'could not record a handed-over window'),
    );
  }

  private escalate(r: Running, escalation: Escalation): void {
    const { metrics, notifications } = this.deps;
    metrics.escalations.inc({ reason: escalation.reason });
    const rollback = r.window.rollbackId ? this.deps.store.rollback(r.window.rollbackId) : undefined;
    const decision = rollback?.decisionId ? this.deps.store.decision(rollback.decisionId) : undefined;
    const target = { namespace: r.window.namespace, name: r.window.name };
    let event: NotificationEvent;
    if (escalation.reason === 'monitoring_breach' && rollback) {
      const s = escalation.sample;
      event = { type: 'window_breached', rollback, metric: s.metric, value: s.value ?? Number.NaN, threshold: s.threshold ?? Number.NaN, decision };
    } else {
      const detail =
        escalation.reason === 'monitoring_breach'
          ? `${escalation.sample.metric} ${escalation.sample.detail} during the monitoring window`
          : `${escalation.metric} unknown ${escalation.count} times in a row during the monitoring window`;
      event = { type: 'escalated', target, reason: escalation.reason, detail, rollback, decision };
    }
    notifications.emit(event);
  }

  private async finish(r: Running): Promise<void> {
    this.running.delete(r.window.id);
    this.deps.metrics.windowsActive.set(this.running.size);
    await r.task?.destroy();
    r.hold?.release();
    const now = this.deps.clock.now();
    const status: WindowStatus = r.window.status === 'active' ? 'recovered' : r.window.status;
    r.window = { ...r.window, status, finishedAt: now };
    const rollback = r.window.rollbackId ? this.deps.store.rollback(r.window.rollbackId) : undefined;
    const effects: Effect[] = [{ type: 'window-update', id: r.window.id, status, escalation: r.window.escalation, finishedAt: now }];
    // The revision the rollback installed passed its window: known-good, for people to see.
    if (status === 'recovered' && rollback?.pin) {
      effects.push({ type: 'revision-mark', target: rollback, mark: { revision: rollback.pin.to, status: 'known-good', since: now, rollbackId: rollback.id } });
    }
    await this.deps.record(effects);
    await this.shared('close', () => this.deps.share!.closed(r.window));
    this.deps.log.info({ windowId: r.window.id, status }, 'monitoring window ended');
    this.deps.onWindowEnd?.(r.window, `the monitoring window ended ${status}`);
    if (status === 'recovered' && rollback) {
      const decision = rollback.decisionId ? this.deps.store.decision(rollback.decisionId) : undefined;
      const count = new Set(r.samples.map((s) => s.at)).size;
      this.deps.notifications.emit({ type: 'recovered', rollback, detail: `${count} samples over ${Math.round((r.window.endsAt - r.window.startedAt) / 60_000)} min, no breach`, decision });
    }
  }

  /** The window open on a target now, if any. */
  openOn(target: Target): WindowRecord | undefined {
    return [...this.running.values()].find((r) => r.window.namespace === target.namespace && r.window.name === target.name)?.window;
  }

  /** Windows open now (for status and tests). */
  active(): WindowRecord[] {
    return [...this.running.values()].map((r) => r.window);
  }

  /** Stops scheduling (shutdown); open windows stay `active` in the store and resume on the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.running.values()].map(async (r) => {
      await r.task?.destroy();
      await r.chain;
      r.hold?.release();
    }));
    this.running.clear();
  }
}
