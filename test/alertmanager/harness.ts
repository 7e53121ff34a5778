/**
 * A real, throwaway Alertmanager for tests (Debian's `prometheus-alertmanager` package:
 * /usr/bin/prometheus-alertmanager, 0.25 on bookworm; or $ALERTMANAGER_BIN).
 *
 * startAlertmanager() writes the config (built from receivers/route, or a raw config) and
 * any credential files into a fresh temp dir, starts Alertmanager on 127.0.0.1 with a random
 * free port, without clustering (`--cluster.listen-address=` empty: no gossip, no peer
 * wait), and waits for /-/ready. Process handling (process group, log file, exit hook,
 * watchdog, failing start with the log tail, port retry) is test/support/daemon.ts's.
 *
 *   const am = await startAlertmanager({
 *     webhooks: [{ name: 'rollback-receiver', url: `${receiver}/webhook`, bearerToken: 'secret' }],
 *     route: { group_wait: '1s', group_interval: '2s', repeat_interval: '4s' },
 *   });
 *   // Prometheus: alertmanagers: [am.target]
 *
 * Avoids `import.meta` and top-level await (loads under ts-jest, tsx and plain Node).
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { Daemon, startOnFreePort, tmpBase } from '../support/daemon.js';

// ------------------------------------------------------------------- options

/** What a config function gets: paths inside the temp dir. */
export interface ConfigContext {
  /** Path of a file written from `files` (or any name: `<tmpDir>/files/<name>`). */
  file(name: string): string;
  /** http://127.0.0.1:PORT of this Alertmanager. */
  url: string;
}

export type RawConfig = Record<string, unknown> | string;

/** A webhook receiver, Alertmanager's `webhook_configs` with bearer auth from a credentials file. */
export interface WebhookReceiver {
  name: string;
  url: string;
  /** Written to a file of its own and sent as `http_config.authorization` (type Bearer, `credentials_file`). */
  bearerToken?: string;
  /** Default true. */
  sendResolved?: boolean;
  /** Default 0 (all). */
  maxAlerts?: number;
}

export interface AlertmanagerOptions {
  /**
   * A whole config (object or YAML text, or a function of the temp dir paths returning
   * one), used as is. When set, `global`, `route`, `receivers`, `webhooks` and
   * `inhibitRules` are ignored.
   */
  config?: RawConfig | ((ctx: ConfigContext) => RawConfig);
  global?: Record<string, unknown>;
  /**
   * The root route, merged over { receiver: <first receiver>, group_by: ['...'] (every
   * label: one group per alert), group_wait: '1s', group_interval: '2s', repeat_interval: '4s' }.
   */
  route?: Record<string, unknown>;
  /** Raw receivers (may reference files from `files` through a function). */
  receivers?: Array<Record<string, unknown>> | ((ctx: ConfigContext) => Array<Record<string, unknown>>);
  /** Webhook receivers, added after `receivers`. */
  webhooks?: WebhookReceiver[];
  inhibitRules?: Array<Record<string, unknown>>;
  /** Files written (mode 0600) to `<tmpDir>/files/<name>` before the config, e.g. credentials. */
  files?: Record<string, string>;
  /** Extra command-line flags. */
  extraArgs?: string[];
  /** Default $ALERTMANAGER_BIN, else `prometheus-alertmanager` (Debian's name) on PATH. */
  binary?: string;
  /** Time to wait for /-/ready. Default 30 s. */
  startTimeoutMs?: number;
}

export type AlertmanagerUpdate = Pick<
  AlertmanagerOptions,
  'config' | 'global' | 'route' | 'receivers' | 'webhooks' | 'inhibitRules' | 'files'
>;

/** An alert as GET /api/v2/alerts returns it (the fields tests look at). */
export interface GettableAlert {
  fingerprint: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  updatedAt: string;
  generatorURL?: string;
  receivers: { name: string }[];
  status: { state: 'unprocessed' | 'active' | 'suppressed'; silencedBy: string[]; inhibitedBy: string[] };
}

/** An alert for POST /api/v2/alerts (what Prometheus sends). */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  generatorURL?: string;
}

export interface AlertsFilter {
  active?: boolean;
  silenced?: boolean;
  inhibited?: boolean;
  unprocessed?: boolean;
  /** Alertmanager matchers, e.g. ['alertname="X"']. */
  filter?: string[];
  /** Regex on the receiver name. */
  receiver?: string;
}

export interface RunningAlertmanager {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** 127.0.0.1:PORT, for Prometheus's `alerting.alertmanagers` static targets. */
  readonly target: string;
  readonly port: number;
  readonly tmpDir: string;
  readonly configPath: string;
  readonly logPath: string;
  /** Wall time from spawn to /-/ready of the first start, ms. */
  readonly startMs: number;
  /** Path of a file written from `files`. */
  file(name: string): string;
  /** pid (= process group id), undefined when not running. */
  pid(): number | undefined;
  running(): boolean;
  /** Kills the process group, removes the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** Stops Alertmanager (SIGKILL by default), keeping the temp dir, port and data. */
  kill(signal?: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  /** Starts it again after kill(), same port, config and data; resolves when ready. */
  restart(): Promise<void>;
  /** Rewrites the config with `update` applied, then POST /-/reload; throws with Alertmanager's error. */
  reload(update?: AlertmanagerUpdate): Promise<void>;
  /** Last lines of Alertmanager's own log. */
  logTail(lines?: number): string;
  /** GET /api/v2/alerts (default: every alert Alertmanager holds). */
  alerts(filter?: AlertsFilter): Promise<GettableAlert[]>;
  /** POST /api/v2/alerts, as Prometheus does. */
  postAlerts(alerts: PostableAlert[]): Promise<void>;
  /** GET an API path (e.g. '/api/v2/status'); the parsed JSON body. */
  api<T = unknown>(apiPath: string): Promise<T>;
}

/** Temp dirs are `<tmpBase>/alertmanager-test-XXXXXX`. */
export const TMP_PREFIX = 'alertmanager-test-';

// ---------------------------------------------------------------- config

export const DEFAULT_ROUTE = { group_by: ['...'], group_wait: '1s', group_interval: '2s', repeat_interval: '4s' };

function fileName(name: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(name) || name.startsWith('.')) throw new Error(`alertmanager harness: bad file name ${name}`);
  return name;
}

/** The Alertmanager config for `opts` (ctx gives the file paths). Exported for tests that only need the YAML. */
export function buildConfig(opts: AlertmanagerUpdate, ctx: ConfigContext): RawConfig {
  if (opts.config !== undefined) return typeof opts.config === 'function' ? opts.config(ctx) : opts.config;
  const raw = typeof opts.receivers === 'function' ? opts.receivers(ctx) : (opts.receivers ?? []);
  const webhooks = (opts.webhooks ?? []).map((w) => ({
    name: w.name,
    webhook_configs: [
      {
        url: w.url,
        send_resolved: w.sendResolved ?? true,
        ...(w.maxAlerts ? { max_alerts: w.maxAlerts } : {}),
        ...(w.bearerToken !== undefined
          ? { http_config: { authorization: { type: 'Bearer', credentials_file: ctx.file(`${fileName(w.name)}.token`) } } }
          : {}),
      },
    ],
  }));
  const receivers = [...raw, ...webhooks];
  const first = receivers[0]?.name;
  if (typeof first !== 'string') throw new Error('alertmanager harness: no receivers (give receivers, webhooks or config)');
  return {
    ...(opts.global ? { global: opts.global } : {}),
    route: { receiver: first, ...DEFAULT_ROUTE, ...opts.route },
    receivers,
    ...(opts.inhibitRules ? { inhibit_rules: opts.inhibitRules } : {}),
  };
}

// ---------------------------------------------------------------- the server

class AlertmanagerProcess implements RunningAlertmanager {
  private readonly daemon: Daemon;
  readonly configPath: string;
  private opts: AlertmanagerOptions;

  constructor(
    readonly port: number,
    opts: AlertmanagerOptions,
  ) {
    this.opts = opts;
    this.daemon = new Daemon(port, {
      name: 'alertmanager',
      label: 'alertmanager harness',
      binary: opts.binary ?? process.env.ALERTMANAGER_BIN ?? 'prometheus-alertmanager',
      args: () => this.args(),
      tmpPrefix: TMP_PREFIX,
      tmpBase: tmpBase(process.env.ALERTMANAGER_TMPDIR),
      readyPath: '/-/ready',
      startTimeoutMs: opts.startTimeoutMs,
      installHint: "Install Debian's package (apt-get install -y prometheus-alertmanager) or set ALERTMANAGER_BIN.",
    });
    this.configPath = path.join(this.tmpDir, 'alertmanager.yml');
  }

  get url(): string {
    return this.daemon.url;
  }

  get target(): string {
    return `127.0.0.1:${this.port}`;
  }

  get tmpDir(): string {
    return this.daemon.tmpDir;
  }

  get logPath(): string {
    return this.daemon.logPath;
  }

  get startMs(): number {
    return this.daemon.startMs;
  }

  file(name: string): string {
    return path.join(this.tmpDir, 'files', fileName(name));
  }

  private writeConfig(): void {
    const dir = path.join(this.tmpDir, 'files');
    fs.mkdirSync(dir, { recursive: true });
    const files: Record<string, string> = { ...this.opts.files };
    for (const w of this.opts.webhooks ?? []) if (w.bearerToken !== undefined) files[`${fileName(w.name)}.token`] = w.bearerToken;
    for (const [name, content] of Object.entries(files)) fs.writeFileSync(this.file(name), content, { mode: 0o600 });
    const config = buildConfig(this.opts, { file: (n) => this.file(n), url: this.url });
    fs.writeFileSync(this.configPath, typeof config === 'string' ? config : YAML.stringify(config));
  }

  private args(): string[] {
    return [
      `--config.file=${this.configPath}`,
      `--storage.path=${path.join(this.tmpDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${this.port}`,
      `--web.external-url=${this.url}`,
      '--cluster.listen-address=',
      '--log.level=info',
      ...(this.opts.extraArgs ?? []),
    ];
  }

  pid(): number | undefined {
    return this.daemon.pid();
  }

  running(): boolean {
    return this.daemon.running();
  }

  logTail(lines = 40): string {
    return this.daemon.logTail(lines);
  }

  async start(): Promise<void> {
    this.writeConfig();
    await this.daemon.start();
  }

  stop(): Promise<void> {
    return this.daemon.stop();
  }

  kill(signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
    return this.daemon.kill(signal);
  }

  restart(): Promise<void> {
    return this.daemon.restart();
  }

  async reload(update: AlertmanagerUpdate = {}): Promise<void> {
    this.opts = { ...this.opts, ...update };
    this.writeConfig();
    const res = await fetch(`${this.url}/-/reload`, { method: 'POST', signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    if (res.status !== 200) throw this.daemon.fail(`reload answered HTTP ${res.status}: ${text.trim()}`);
  }

  async api<T = unknown>(apiPath: string, init: RequestInit = {}): Promise<T> {
    const res = await fetch(`${this.url}${apiPath}`, { ...init, signal: AbortSignal.timeout(5000) });
    const text = await res.text();
    if (!res.ok) {
      throw new Error(`alertmanager harness: ${init.method ?? 'GET'} ${apiPath} answered ${res.status}: ${text.slice(0, 500)}`);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  alerts(filter: AlertsFilter = {}): Promise<GettableAlert[]> {
    const q = new URLSearchParams();
    for (const k of ['active', 'silenced', 'inhibited', 'unprocessed'] as const) {
      if (filter[k] !== undefined) q.set(k, String(filter[k]));
    }
    for (const m of filter.filter ?? []) q.append('filter', m);
    if (filter.receiver) q.set('receiver', filter.receiver);
    const qs = q.toString();
    return this.api<GettableAlert[]>(`/api/v2/alerts${qs ? `?${qs}` : ''}`);
  }

  async postAlerts(alerts: PostableAlert[]): Promise<void> {
    await this.api('/api/v2/alerts', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(alerts),
    });
  }
}

/** Starts a throwaway Alertmanager. Throws, with the tail of its log, if it cannot. */
export async function startAlertmanager(opts: AlertmanagerOptions): Promise<RunningAlertmanager> {
  return startOnFreePort((port) => new AlertmanagerProcess(port, opts));
}
