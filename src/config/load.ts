/**
 * Loads the one YAML config file (or none), applies the environment of SPEC §3 and
 * returns the normalised Config, or a ConfigError whose lines each name a key.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { configFileSchema, type ConfigFile } from './schema.js';
import { formatIssues } from './issues.js';
import type { StrategyName } from '../model.js';
import { buildMonitoringSettings, type MonitoringSettings } from '../monitoring/settings.js';
import { buildTriggers, type Trigger } from './triggers.js';
import { buildGitOpsConfig, type GitOpsConfig } from '../gitops/config.js';
import { resolveHttpAuth, type HttpCredentials } from './secrets.js';

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`invalid configuration (${source}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  /** Path of the file read, or null when running on defaults. */
  file: string | null;
  port: number;
  bodyLimitBytes: number;
  tls?: { certFile: string; keyFile: string };
  allowUnauthenticatedWebhook: boolean;
  stateDir: string;
  retentionMs: number;
  state: { backend: 'sqlite' | 'kubernetes'; namespace?: string; leaseDurationMs: number };
  dryRun: boolean;
  logLevel: LogLevel;
  prometheusUrl: string;
  rollback: Omit<ConfigFile['rollback'], 'triggers' | 'cooldownPeriod' | 'retryWindow' | 'executionTimeout' | 'brake' | 'startupGrace'> & {
    triggers: Trigger[];
    cooldownMs: number;
    retryWindowMs: number;
    executionTimeoutMs: number;
    startupGraceMs: number;
    brake: { max: number; windowMs: number };
  };
  environments: Record<string, { namespace: string; name?: string; strategy?: StrategyName }>;
  execution: Omit<ConfigFile['execution'], 'verifyTimeout' | 'probes'> & { verifyTimeoutMs: number; probes: { urls: string[]; intervalMs: number } };
  monitoring: MonitoringSettings;
  /** How often rolled-back targets are compared with the cluster (the reverted signal). */
  revertedCheckIntervalMs: number;
  gitops: GitOpsConfig;
  report: ConfigFile['report'];
  notifications: ConfigFile['notifications'];
  /** How long SIGTERM waits for in-flight rollbacks to reach a safe point. */
  shutdownGraceMs: number;
  /** Alertmanager's API (silences); undefined when not configured. */
  alertmanager?: AlertmanagerSettings;
}

export interface AlertmanagerSettings extends HttpCredentials {
  url: string;
  timeoutMs: number;
  silenceDuringWindow: boolean;
}


export function parseConfigText(text: string, source: string): ConfigFile {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(source, doc.errors.map((e) => `YAML: ${e.message.split('\n')[0]}`));
  }
  const raw: unknown = doc.toJS() ?? {};
  const parsed = configFileSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(source, formatIssues(parsed.error.issues));
  return parsed.data;
}

type Env = Record<string, string | undefined>;

function envBoolean(env: Env, name: string, problems: string[]): boolean | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  if (v === 'true') return true;
  if (v === 'false') return false;
  problems.push(`${name}: must be "true" or "false", got "${v}"`);
  return undefined;
}

/**
 * @param path `--config` if given; else ROLLBACK_CONFIG; else no file (defaults).
 */
export function loadConfig(path: string | undefined, env: Env = process.env): Config {
  const file = path ?? (env.ROLLBACK_CONFIG || undefined);
  let text = '';
  if (file) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(file, [`cannot read the config file: ${(err as Error).message}`]);
    }
  }
  const source = file ?? 'defaults';
  const cfg = parseConfigText(text, source);
  return buildConfig(cfg, file ? resolve(file) : null, env);
}

export function buildConfig(cfg: ConfigFile, file: string | null, env: Env = process.env): Config {
  const source = file ?? 'defaults';
  const problems: string[] = [];
  const { triggers, problems: triggerProblems } = buildTriggers(cfg.rollback.triggers);
  problems.push(...triggerProblems);

  let port = cfg.server.port ?? 9095;
  if (env.PORT !== undefined && env.PORT !== '') {
    const p = Number(env.PORT);
    if (!Number.isInteger(p) || p < 0 || p > 65535) problems.push(`PORT: must be a port number 0-65535, got "${env.PORT}"`);
    else port = p;
  }
  const dryRun = envBoolean(env, 'ROLLBACK_DRY_RUN', problems) ?? cfg.rollback.dryRun;
  const logLevel = (env.LOG_LEVEL || 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL: must be one of ${LOG_LEVELS.join(', ')}, got "${env.LOG_LEVEL}"`);
  const prometheusUrl = env.PROMETHEUS_URL || cfg.monitoring.enhanced.prometheusUrl || 'http://127.0.0.1:9090';
  if (!URL.canParse(prometheusUrl)) problems.push(`PROMETHEUS_URL: "${prometheusUrl}" is not a URL`);
  for (const ns of cfg.rollback.namespaces.allow) {
    if (cfg.rollback.namespaces.deny.includes(ns)) problems.push(`rollback.namespaces: "${ns}" is both allowed and denied`);
  }
  const monitoring = buildMonitoringSettings(cfg.monitoring.enhanced, prometheusUrl, env);
  problems.push(...monitoring.problems);
  const guardWindow = Math.max(cfg.rollback.cooldownPeriod, cfg.rollback.retryWindow, cfg.rollback.brake.window);
  if (cfg.store.retention < guardWindow) {
    problems.push(`store.retention: must be at least the longest guard window (${guardWindow / 1000}s), or restarts would forget guard state`);
  }
  if (cfg.monitoring.reverted.checkInterval < 1000) problems.push('monitoring.reverted.checkInterval: must be at least 1s');
  if (cfg.state.leaseDuration < 3000) problems.push('state.leaseDuration: must be at least 3s (Leases are renewed every third of it)');
  const am = cfg.alertmanager;
  if (am && !/^https?:$/.test(new URL(am.url).protocol)) problems.push(`alertmanager.url: must be http or https, got "${am.url}"`);
  const alertmanager: AlertmanagerSettings | undefined = am
    ? { url: am.url, timeoutMs: am.timeout, silenceDuringWindow: am.silenceDuringWindow, ...resolveHttpAuth(am.auth, 'alertmanager.auth', env, problems) }
    : undefined;
  const [blue, green] = cfg.execution.blueGreen.colors;
  if (blue === green) problems.push(`execution.blueGreen.colors: the two colours must differ, got "${blue}" twice`);
  if (problems.length > 0) throw new ConfigError(source, problems);

  const { triggers: _t, cooldownPeriod, retryWindow, executionTimeout, brake, startupGrace, ...rollbackRest } = cfg.rollback;
  return {
    file,
    port,
    bodyLimitBytes: cfg.server.bodyLimit,
    tls: cfg.server.tls,
    allowUnauthenticatedWebhook: cfg.auth.allowUnauthenticatedWebhook,
    stateDir: env.ROLLBACK_STATE_DIR || cfg.store.dir || './data',
    retentionMs: cfg.store.retention,
    state: { backend: cfg.state.backend, namespace: cfg.state.namespace, leaseDurationMs: cfg.state.leaseDuration },
    dryRun,
    logLevel,
    prometheusUrl,
    rollback: {
      ...rollbackRest,
      triggers,
      cooldownMs: cooldownPeriod,
      retryWindowMs: retryWindow,
      executionTimeoutMs: executionTimeout,
      startupGraceMs: startupGrace,
      brake: { max: brake.max, windowMs: brake.window },
    },
    environments: Object.fromEntries(
      Object.entries(cfg.environments).map(([env, v]) => [env, typeof v === 'string' ? { namespace: v } : v]),
    ),
    execution: {
      concurrency: cfg.execution.concurrency,
      verifyTimeoutMs: cfg.execution.verifyTimeout,
      probes: { urls: cfg.execution.probes.urls, intervalMs: cfg.execution.probes.interval },
      blueGreen: cfg.execution.blueGreen,
      scaleSwap: cfg.execution.scaleSwap,
    },
    monitoring: monitoring.settings,
    revertedCheckIntervalMs: cfg.monitoring.reverted.checkInterval,
    gitops: buildGitOpsConfig(cfg.gitops),
    report: cfg.report,
    notifications: cfg.notifications,
    shutdownGraceMs: cfg.shutdown.grace,
    alertmanager,
  };
}
