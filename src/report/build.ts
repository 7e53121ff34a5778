/**
 * Gathers an incident report's inputs: the records from the store, and the triggering
 * metric over the hour before the rollback from Prometheus (a range query).
 */
import type { Config } from '../config/load.js';
import { renderQuery, type PrometheusClient } from '../monitoring/prometheus.js';
import type { RollbackRecord } from '../store/records.js';
import type { SqliteStore } from '../store/sqlite.js';
import { renderReport, type MetricHistory } from './markdown.js';

/** Which monitoring metric shows each default trigger's signal. */
const TRIGGER_METRIC: Record<string, string> = { error_rate: 'error_rate', response_time: 'response_time', cpu: 'cpu_usage', memory: 'memory_usage' };
const HOUR_MS = 3600_000;
const STEP_SECONDS = 60;

/**
 * The monitoring query of the trigger's metric, from the configuration. Never an
 * expression taken from the alert (its generatorURL is only shown as a link): PromQL
 * from an alert's labels or URLs is input, not configuration.
 */
export function historyQuery(config: Config, trigger: string | null, target: { namespace: string; name: string }): string | undefined {
  const metric = config.monitoring.metrics.find((m) => m.name === TRIGGER_METRIC[trigger ?? '']);
  if (!metric) return undefined;
  return renderQuery(metric.query, { namespace: target.namespace, name: target.name, deployment: target.name, window: `${Math.round(config.monitoring.rateWindowMs / 1000)}s` });
}

export async function buildReport(
  rollback: RollbackRecord,
  deps: { store: SqliteStore; config: Config; prometheus: PrometheusClient; now: number; receiverUrl?: string },
): Promise<string> {
  const { store, config } = deps;
  const decision = rollback.decisionId ? store.decision(rollback.decisionId) : undefined;
  const pending = decision?.pendingOf ? store.decision(decision.pendingOf) : undefined;
  const [window] = store.windows({ rollbackId: rollback.id });
  const query = historyQuery(config, decision ? decision.trigger : 'error_rate', rollback);
  let history: MetricHistory | undefined;
  if (query) {
    try {
      const series = await deps.prometheus.range(query, rollback.startedAt - HOUR_MS, rollback.startedAt, STEP_SECONDS);
      history = { query, points: (series[0]?.values ?? []).map((p) => ({ at: p.timestampMs, value: p.value })) };
    } catch (err) {
      history = { query, points: [], error: (err as Error).message };
    }
  }
  return renderReport({
    rollback,
    decision,
    pending,
    window: window ? { window, samples: store.samples(window.id) } : undefined,
    history,
    contacts: config.report.escalationContacts,
    generatedAt: deps.now,
    reportUrl: deps.receiverUrl ? `${deps.receiverUrl.replace(/\/$/, '')}/api/v1/rollbacks/${rollback.id}/report` : undefined,
    pauses: rollback.pin?.pauses?.map((_, i) => store.gitopsPause(`${rollback.id}-${i}`)).filter((p) => p !== undefined),
    marks: rollback.pin ? { from: store.revisionMark(rollback, rollback.pin.from.id), to: store.revisionMark(rollback, rollback.pin.to.id) } : undefined,
  });
}
