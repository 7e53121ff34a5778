/**
 * A real, throwaway Prometheus server for tests (Debian's `prometheus` package:
 * /usr/bin/prometheus, 2.42 on bookworm; or $PROMETHEUS_BIN).
 *
 * startPrometheus() writes a config with a short scrape/evaluation interval, scrape jobs
 * for the caller's loopback targets and optional rule files into a fresh temp dir, starts
 * Prometheus on 127.0.0.1 with a random free port and waits for /-/ready.
 *
 * Process hygiene is test/support/daemon.ts's (shared with the Alertmanager harness):
 * Prometheus runs in its own process group (detached), a process 'exit' hook SIGKILLs every
 * live group and removes the temp dirs, and a detached watchdog shell kills the group and
 * removes the dir if this Node process dies without running its exit hooks (SIGKILL, fatal
 * signal). A start that fails throws with the tail of Prometheus's own log; a port taken
 * between picking and binding it is retried once.
 *
 * Avoids `import.meta` and top-level await, so that it loads the same under ts-jest,
 * tsx (scripts, jest globalSetup through tsImport) and plain Node after tsc.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { Daemon, freePort, sleep, startOnFreePort, tmpBase as daemonTmpBase } from '../support/daemon.js';

// ------------------------------------------------------------------- options

export interface ScrapeJob {
  jobName: string;
  /** host:port, e.g. '127.0.0.1:12345'. */
  targets: string[];
  /** Default '/metrics'. */
  metricsPath?: string;
  /** Default: the global scrape interval. */
  scrapeInterval?: string;
  /** Extra target labels. */
  labels?: Record<string, string>;
  /** Keep the scraped `job`/`instance`/... labels on conflict (as for kube-state-metrics). */
  honorLabels?: boolean;
}

export interface PrometheusOptions {
  scrapeJobs?: ScrapeJob[];
  /** Default '1s'. */
  scrapeInterval?: string;
  /** Default '1s'. */
  evaluationInterval?: string;
  /** Rule files to write into the temp dir: file name -> YAML text or an object (stringified). */
  rules?: Record<string, string | object>;
  /** Existing rule files (absolute paths or globs) to load as they are. */
  ruleFiles?: string[];
  /** Alertmanager targets (host:port) to send alerts to. */
  alertmanagers?: string[];
  /** Top-level config keys merged over the generated config. */
  extraConfig?: Record<string, unknown>;
  /** Extra command-line flags. */
  extraArgs?: string[];
  /** Default $PROMETHEUS_BIN, else `prometheus` on PATH. */
  binary?: string;
  /** Time to wait for /-/ready. Default 30 s. */
  startTimeoutMs?: number;
  /**
   * Protect every endpoint with HTTP basic auth (--web.config.file, `basic_auth_users`).
   * `bcryptHash` is the password's bcrypt hash (cost 4 keeps requests fast); the harness
   * sends these credentials on its own requests.
   */
  basicAuth?: { username: string; password: string; bcryptHash: string };
}

export type ConfigUpdate = Pick<PrometheusOptions, 'scrapeJobs' | 'rules' | 'ruleFiles' | 'alertmanagers' | 'extraConfig'>;

export interface TargetHealth {
  job: string;
  instance: string;
  health: string;
  lastError: string;
}

export interface RunningPrometheus {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  readonly tmpDir: string;
  readonly configPath: string;
  readonly logPath: string;
  /** Wall time from spawn to /-/ready of the first start, ms. */
  readonly startMs: number;
  /** pid (= process group id) of the running Prometheus, undefined when not running. */
  pid(): number | undefined;
  running(): boolean;
  /** Kills the process group, removes the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** Stops Prometheus (SIGKILL by default) but keeps the temp dir, port and data: "Prometheus is down". */
  kill(signal?: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  /** Starts Prometheus again after kill(), same port, config and data; resolves when ready. */
  restart(): Promise<void>;
  /** SIGSTOP: the port still accepts connections but nothing answers (a hung Prometheus). */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** Rewrites the config with `update` applied, then POST /-/reload; throws with Prometheus's error. */
  reload(update?: ConfigUpdate): Promise<void>;
  /** Last lines of Prometheus's own log. */
  logTail(lines?: number): string;
  /** GET an API path (e.g. '/api/v1/alerts') with the harness's credentials; the parsed JSON body. */
  api<T = unknown>(apiPath: string): Promise<T>;
  /** Active scrape targets and their health. */
  targets(): Promise<TargetHealth[]>;
  /**
   * Resolves when every configured target is active and has been scraped successfully.
   * Prometheus 2.42 starts scraping new targets only 5-10 s after start or reload.
   */
  waitForTargets(timeoutMs?: number): Promise<TargetHealth[]>;
}

// ---------------------------------------------------------------- helpers

export { freePort };

/** Temp dirs are `<tmpBase()>/prometheus-test-XXXXXX`. */
export const TMP_PREFIX = 'prometheus-test-';

/** $PROMETHEUS_TMPDIR, else /dev/shm when it has room (tmpfs: no fsync cost), else os.tmpdir(). */
export function tmpBase(): string {
  return daemonTmpBase(process.env.PROMETHEUS_TMPDIR);
}

// ---------------------------------------------------------------- the server

/** Prometheus's config and API on top of the generic process handling of test/support/daemon.ts. */
class PrometheusProcess implements RunningPrometheus {
  private readonly daemon: Daemon;
  readonly configPath: string;
  private config: ConfigUpdate;

  constructor(
    readonly port: number,
    private readonly opts: PrometheusOptions,
  ) {
    this.daemon = new Daemon(port, {
      name: 'prometheus',
      label: 'prometheus harness',
      binary: opts.binary ?? process.env.PROMETHEUS_BIN ?? 'prometheus',
      args: () => this.args(),
      tmpPrefix: TMP_PREFIX,
      tmpBase: tmpBase(),
      readyPath: '/-/ready',
      readyHeaders: () => this.authHeaders,
      startTimeoutMs: opts.startTimeoutMs,
      installHint: "Install Debian's package (apt-get install -y prometheus) or set PROMETHEUS_BIN.",
    });
    this.configPath = path.join(this.tmpDir, 'prometheus.yml');
    this.config = {
      scrapeJobs: opts.scrapeJobs ?? [],
      rules: opts.rules ?? {},
      ruleFiles: opts.ruleFiles ?? [],
      alertmanagers: opts.alertmanagers ?? [],
      extraConfig: opts.extraConfig ?? {},
    };
  }

  get url(): string {
    return this.daemon.url;
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

  private get authHeaders(): Record<string, string> {
    const b = this.opts.basicAuth;
    return b ? { Authorization: `Basic ${Buffer.from(`${b.username}:${b.password}`).toString('base64')}` } : {};
  }

  private writeConfig(): void {
    const c = this.config;
    const b = this.opts.basicAuth;
    if (b) {
      fs.writeFileSync(
        path.join(this.tmpDir, 'web.yml'),
        YAML.stringify({ basic_auth_users: { [b.username]: b.bcryptHash } }),
        { mode: 0o600 },
      );
    }
    const ruleDir = path.join(this.tmpDir, 'rules');
    fs.rmSync(ruleDir, { recursive: true, force: true });
    fs.mkdirSync(ruleDir);
    const written: string[] = [];
    for (const [name, content] of Object.entries(c.rules ?? {})) {
      if (name.includes('/') || name.startsWith('.')) throw new Error(`prometheus harness: bad rule file name ${name}`);
      const file = path.join(ruleDir, name);
      fs.writeFileSync(file, typeof content === 'string' ? content : YAML.stringify(content));
      written.push(file);
    }
    const doc: Record<string, unknown> = {
      global: {
        scrape_interval: this.opts.scrapeInterval ?? '1s',
        scrape_timeout: this.opts.scrapeInterval ?? '1s',
        evaluation_interval: this.opts.evaluationInterval ?? '1s',
      },
      rule_files: [...written, ...(c.ruleFiles ?? [])],
      scrape_configs: (c.scrapeJobs ?? []).map((j) => ({
        job_name: j.jobName,
        metrics_path: j.metricsPath ?? '/metrics',
        ...(j.scrapeInterval ? { scrape_interval: j.scrapeInterval, scrape_timeout: j.scrapeInterval } : {}),
        ...(j.honorLabels ? { honor_labels: true } : {}),
        static_configs: [{ targets: j.targets, ...(j.labels ? { labels: j.labels } : {}) }],
      })),
      ...((c.alertmanagers ?? []).length
        ? { alerting: { alertmanagers: [{ static_configs: [{ targets: c.alertmanagers }] }] } }
        : {}),
      ...(c.extraConfig ?? {}),
    };
    fs.writeFileSync(this.configPath, YAML.stringify(doc));
  }

  private args(): string[] {
    return [
      `--config.file=${this.configPath}`,
      `--storage.tsdb.path=${path.join(this.tmpDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${this.port}`,
      `--web.external-url=${this.url}/`,
      '--web.enable-lifecycle',
      '--log.level=info',
      ...(this.opts.basicAuth ? [`--web.config.file=${path.join(this.tmpDir, 'web.yml')}`] : []),
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

  kill(signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
    return this.daemon.kill(signal);
  }

  restart(): Promise<void> {
    return this.daemon.restart();
  }

  pause(): void {
    this.daemon.pause();
  }

  resume(): void {
    this.daemon.resume();
  }

  stop(): Promise<void> {
    return this.daemon.stop();
  }

  async reload(update: ConfigUpdate = {}): Promise<void> {
    this.config = { ...this.config, ...update };
    this.writeConfig();
    const res = await fetch(`${this.url}/-/reload`, {
      method: 'POST',
      headers: this.authHeaders,
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (res.status !== 200) throw this.daemon.fail(`reload answered HTTP ${res.status}: ${text.trim()}`);
  }

  async api<T = unknown>(apiPath: string): Promise<T> {
    const res = await fetch(`${this.url}${apiPath}`, { headers: this.authHeaders, signal: AbortSignal.timeout(5000) });
    const text = await res.text();
    if (!res.ok) throw new Error(`prometheus harness: GET ${apiPath} answered ${res.status}: ${text.slice(0, 500)}`);
    return JSON.parse(text) as T;
  }

  async targets(): Promise<TargetHealth[]> {
    const res = await fetch(`${this.url}/api/v1/targets?state=active`, {
      headers: this.authHeaders,
      signal: AbortSignal.timeout(5000),
    });
    const body = (await res.json()) as {
      data?: { activeTargets?: Array<{ labels?: Record<string, string>; health?: string; lastError?: string }> };
    };
    return (body.data?.activeTargets ?? []).map((t) => ({
      job: t.labels?.job ?? '',
      instance: t.labels?.instance ?? '',
      health: t.health ?? 'unknown',
      lastError: t.lastError ?? '',
    }));
  }

  async waitForTargets(timeoutMs = 20_000): Promise<TargetHealth[]> {
    // Prometheus 2.42 hands new targets to the scrape loops on 5 s tickers (discovery
    // manager, then scrape manager): the first scrape comes 5-10 s after start or reload.
    const expected = (this.config.scrapeJobs ?? []).reduce((n, j) => n + new Set(j.targets).size, 0);
    const deadline = Date.now() + timeoutMs;
    let last: TargetHealth[] = [];
    for (;;) {
      try {
        last = await this.targets();
        if (last.length >= expected && last.every((t) => t.health === 'up')) return last;
      } catch {
        /* not yet */
      }
      if (Date.now() > deadline) {
        throw this.daemon.fail(`targets not all up after ${timeoutMs} ms: ${JSON.stringify(last)}`);
      }
      await sleep(100);
    }
  }
}

/** Starts a throwaway Prometheus. Throws, with the tail of its log, if it cannot. */
export async function startPrometheus(opts: PrometheusOptions = {}): Promise<RunningPrometheus> {
  return startOnFreePort((port) => new PrometheusProcess(port, opts));
}
