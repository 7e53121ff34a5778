/**
 * `monitoring.enhanced` normalised: the seed's metrics and thresholds (in the seed's
 * units), a PromQL template per metric, a cron schedule for the interval, and the
 * Prometheus credentials resolved from env or files.
 */
import type { ConfigFile } from '../config/schema.js';
import { resolveHttpAuth } from '../config/secrets.js';
import { intervalToCron } from './cron.js';
import type { MetricSpec } from './monitor.js';
import { DEFAULT_QUERIES } from './prometheus.js';
import { DEFAULT_STAGES_MS, stageProblem } from './stages.js';

/** The seed's alert_thresholds: error_rate 0.05 (ratio), response_time 3000 ms. */
export const DEFAULT_THRESHOLDS: Record<string, number> = { error_rate: 0.05, response_time: 3000 };

export interface MonitoringSettings {
  enabled: boolean;
  durationMs: number;
  intervalMs: number;
  cron: string;
  /** `query` is a template: {namespace}, {name}, {window}. */
  metrics: MetricSpec[];
  rateWindowMs: number;
  minRateWindowMs: number;
  prometheusUrl: string;
  timeoutMs: number;
  bearerToken?: string;
  basicAuth?: { username: string; password: string };
  unknownLimit: number;
  afterEscalation: boolean;
  /** Stage checkpoints, offsets from the window's start (stages.ts). */
  stagesMs: number[];
}

type Env = Record<string, string | undefined>;

export function buildMonitoringSettings(
  enhanced: ConfigFile['monitoring']['enhanced'],
  prometheusUrl: string,
  env: Env,
): { settings: MonitoringSettings; problems: string[] } {
  const problems: string[] = [];
  const key = 'monitoring.enhanced';
  const cron = intervalToCron(enhanced.interval);
  if (typeof cron !== 'string') problems.push(`${key}.interval: ${cron.problem}`);
  if (enhanced.interval > enhanced.duration) problems.push(`${key}.interval: longer than the window's duration`);
  if (Math.min(enhanced.minRateWindow, enhanced.rateWindow) + enhanced.interval > enhanced.duration) {
    problems.push(`${key}.duration: too short to take a sample after a rollback (needs at least minRateWindow + interval)`);
  }
  const thresholds = { ...DEFAULT_THRESHOLDS, ...enhanced.alert_thresholds };
  const defaults = DEFAULT_QUERIES as Readonly<Record<string, string>>;
  const metrics: MetricSpec[] = [];
  enhanced.metrics.forEach((name, i) => {
    const query = enhanced.queries[name] ?? defaults[name];
    if (!query) problems.push(`${key}.metrics[${i}]: "${name}" has no default query: add one under ${key}.queries.${name}`);
    else metrics.push({ name, query, threshold: thresholds[name] ?? null });
  });
  for (const name of Object.keys(enhanced.alert_thresholds)) {
    if (!enhanced.metrics.includes(name)) problems.push(`${key}.alert_thresholds.${name}: "${name}" is not in ${key}.metrics`);
  }
  // Unset: the seed's 5/10/15/20 minutes, those within the window (a short window keeps the ones it reaches).
  const stagesMs = enhanced.stages ?? DEFAULT_STAGES_MS.filter((s) => s <= enhanced.duration);
  const stages = stageProblem(stagesMs, enhanced.duration);
  if (stages) problems.push(`${key}.stages: ${stages}`);
  const settings: MonitoringSettings = {
    enabled: enhanced.enabled,
    durationMs: enhanced.duration,
    intervalMs: enhanced.interval,
    cron: typeof cron === 'string' ? cron : '',
    metrics,
    rateWindowMs: enhanced.rateWindow,
    minRateWindowMs: Math.min(enhanced.minRateWindow, enhanced.rateWindow),
    prometheusUrl,
    timeoutMs: enhanced.timeout,
    unknownLimit: enhanced.unknownLimit,
    afterEscalation: enhanced.afterEscalation,
    stagesMs,
  };
  Object.assign(settings, resolveHttpAuth(enhanced.auth, `${key}.auth`, env, problems));
  return { settings, problems };
}
