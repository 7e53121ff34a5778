/**
 * Every metric of SPEC §5, registered in one place. Names and labels are a contract:
 * dashboards and alert rules depend on them.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { DECISIONS, EXECUTION_RESULTS, ROLLBACK_KINDS, STRATEGIES } from './model.js';

export class Metrics {
  readonly registry = new Registry();

  readonly webhooksReceived = new Counter({
    name: 'rollback_webhooks_received_total',
    help: 'Webhook requests received on /webhook, by HTTP status code.',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  readonly alerts = new Counter({
    name: 'rollback_alerts_total',
    help: 'Alerts decided, by trigger and decision.',
    labelNames: ['trigger', 'decision'] as const,
    registers: [this.registry],
  });

  readonly executions = new Counter({
    name: 'rollback_executions_total',
    help: 'Rollback executions finished, by strategy, kind and result.',
    labelNames: ['strategy', 'kind', 'result'] as const,
    registers: [this.registry],
  });

  readonly executionDuration = new Histogram({
    name: 'rollback_execution_duration_seconds',
    help: 'Time from the webhook to a verified rollback, by strategy.',
    labelNames: ['strategy'] as const,
    buckets: [1, 5, 10, 30, 60, 120, 300, 600, 900, 1800],
    registers: [this.registry],
  });

  /** Start times (ms) of the rollbacks running now; the ledger owns them, the gauges read them at scrape time. */
  private runningStarts: () => readonly number[] = () => [];

  /** Where the running rollbacks are read from at scrape time. */
  readRunningFrom(source: () => readonly number[]): void {
    this.runningStarts = source;
  }

  readonly inProgress = new Gauge({
    name: 'rollback_in_progress',
    help: 'Rollbacks executing now.',
    registers: [this.registry],
    collect: () => {
      this.inProgress.set(this.runningStarts().length);
    },
  });

  readonly inProgressOldestStart = new Gauge({
    name: 'rollback_in_progress_oldest_start_timestamp_seconds',
    help: 'Unix time the oldest running rollback started (0 when none), for a stuck-rollback alert.',
    registers: [this.registry],
    collect: () => {
      const starts = this.runningStarts();
      this.inProgressOldestStart.set(starts.length ? Math.min(...starts) / 1000 : 0);
    },
  });

  readonly internalErrors = new Counter({
    name: 'rollback_internal_errors_total',
    help: 'Errors caught by the process-level handler (unhandled rejections, uncaught exceptions): bugs, the process kept serving.',
    registers: [this.registry],
  });

  readonly buildInfo = new Gauge({
    name: 'rollback_build_info',
    help: 'Always 1; tells dashboards the version and whether the receiver runs in dry-run (shadow) mode.',
    labelNames: ['version', 'dry_run'] as const,
    registers: [this.registry],
  });

  readonly cooldownActive = new Gauge({
    name: 'rollback_cooldown_active',
    help: '1 while the target is cooling down after a rollback.',
    labelNames: ['namespace', 'name'] as const,
    registers: [this.registry],
  });

  readonly lastSuccess = new Gauge({
    name: 'rollback_last_success_timestamp_seconds',
    help: 'Unix time of the last successful rollback of the target.',
    labelNames: ['namespace', 'name'] as const,
    registers: [this.registry],
  });

  readonly targetReverted = new Gauge({
    name: 'rollback_target_reverted',
    help: '1 from a successful rollback of the target until it gets a revision the receiver did not install (checked every monitoring.reverted.checkInterval), then 0.',
    labelNames: ['namespace', 'name', 'strategy'] as const,
    registers: [this.registry],
  });

  readonly windowsActive = new Gauge({
    name: 'rollback_monitoring_windows_active',
    help: 'Post-rollback monitoring windows running now.',
    registers: [this.registry],
  });

  readonly monitoringBreaches = new Counter({
    name: 'rollback_monitoring_breaches_total',
    help: 'Monitoring samples over their threshold, by metric.',
    labelNames: ['metric'] as const,
    registers: [this.registry],
  });

  readonly escalations = new Counter({
    name: 'rollback_escalations_total',
    help: 'Escalations to operators, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly notifications = new Counter({
    name: 'rollback_notifications_total',
    help: 'Notifications sent, by channel and result.',
    labelNames: ['channel', 'result'] as const,
    registers: [this.registry],
  });

  constructor(opts: { triggers: readonly string[]; defaultMetrics?: boolean; version?: string; dryRun?: boolean }) {
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.buildInfo.set({ version: opts.version ?? 'unknown', dry_run: String(opts.dryRun ?? true) }, 1);
    // Known series start at 0 so rate() and absent() work from the first scrape.
    for (const trigger of [...opts.triggers, 'none']) {
      for (const decision of DECISIONS) this.alerts.inc({ trigger, decision }, 0);
    }
    for (const strategy of STRATEGIES) {
      this.executionDuration.zero({ strategy });
      for (const kind of ROLLBACK_KINDS) {
        for (const result of EXECUTION_RESULTS) this.executions.inc({ strategy, kind, result }, 0);
      }
    }
    for (const status of ['200', '400', '401', '413', '415', '503']) this.webhooksReceived.inc({ status }, 0);
    for (const reason of ESCALATION_REASONS) this.escalations.inc({ reason }, 0);
    for (const metric of MONITORED_METRICS) this.monitoringBreaches.inc({ metric }, 0);
  }
}

/** The seed's monitoring metrics (SPEC §4 monitoring.enhanced). */
export const MONITORED_METRICS = ['error_rate', 'response_time', 'cpu_usage', 'memory_usage'] as const;

export const ESCALATION_REASONS = [
  'retries_exhausted',
  'verification_failed',
  'execution_failed',
  'concurrent_change',
  'no_safe_destination',
  'interrupted',
  'monitoring_breach',
  'monitoring_unknown',
] as const;
export type EscalationReason = (typeof ESCALATION_REASONS)[number];
