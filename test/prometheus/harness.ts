/**
 * A real, throwaway Prometheus server for tests (Debian's `prometheus` package:
 * /usr/bin/prometheus, 2.42 on bookworm; or $PROMETHEUS_BIN).
 *
 * startPrometheus() writes a config with a short scrape/evaluation interval, scrape jobs
 * for the caller's loopback targets and optional rule files into a fresh temp dir, starts
 * Prometheus on 127.0.0.1 with a random free port and waits for /-/ready.
 *
 * Process hygiene follows test/envtest/cluster.ts: Prometheus runs in its own process
 * group (detached), a process 'exit' hook SIGKILLs every live group and removes the temp
 * dirs, and a detached watchdog shell kills the group and removes the dir if this Node
 * process dies without running its exit hooks (SIGKILL, fatal signal). A start that fails
 * throws with the tail of Prometheus's own log.
 *
 * Avoids `import.meta` and top-level await, so that it loads the same under ts-jest,
 * tsx (scripts, jest globalSetup through tsImport) and plain Node after tsc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';

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

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function tailFile(file: string, lines: number): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines - 1).join('\n');
  } catch (e) {
    return `<cannot read ${file}: ${String(e)}>`;
  }
}

function roomyTmpfs(dir: string): boolean {
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    const st = fs.statfsSync(dir);
    return st.bavail * st.bsize > 512 * 1024 * 1024;
  } catch {
    return false;
  }
}

/** Temp dirs are `<tmpBase()>/prometheus-test-XXXXXX`. */
export const TMP_PREFIX = 'prometheus-test-';

/** $PROMETHEUS_TMPDIR, else /dev/shm when it has room (tmpfs: no fsync cost), else os.tmpdir(). */
export function tmpBase(): string {
  return process.env.PROMETHEUS_TMPDIR ?? (roomyTmpfs('/dev/shm') ? '/dev/shm' : os.tmpdir());
}

/**
 * Every live process group and temp dir we own, for the synchronous exit handler. The
 * handler is attached only while there is something to clean up, so that test files
 * loading this module afresh (jest) do not pile up 'exit' listeners.
 */
const liveGroups = new Set<number>();
const liveDirs = new Set<string>();
let exitHookAttached = false;
function onExit(): void {
  for (const pgid of liveGroups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  for (const d of liveDirs) fs.rmSync(d, { recursive: true, force: true });
}
function syncExitHook(): void {
  const needed = liveGroups.size > 0 || liveDirs.size > 0;
  if (needed && !exitHookAttached) process.on('exit', onExit);
  if (!needed && exitHookAttached) process.off('exit', onExit);
  exitHookAttached = needed;
}

function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    /* already gone */
  }
}

// ---------------------------------------------------------------- the server

class PrometheusProcess implements RunningPrometheus {
  readonly url: string;
  readonly tmpDir: string;
  readonly configPath: string;
  readonly logPath: string;
  startMs = 0;

  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private exitInfo: string | undefined;
  private watchdog: ChildProcess | undefined;
  private stopping: Promise<void> | undefined;
  private lastTail = '';
  private readonly bin: string;
  private config: ConfigUpdate;

  constructor(
    readonly port: number,
    private readonly opts: PrometheusOptions,
  ) {
    this.tmpDir = fs.mkdtempSync(path.join(tmpBase(), TMP_PREFIX));
    liveDirs.add(this.tmpDir);
    syncExitHook();
    this.url = `http://127.0.0.1:${port}`;
    this.configPath = path.join(this.tmpDir, 'prometheus.yml');
    this.logPath = path.join(this.tmpDir, 'prometheus.log');
    this.bin = opts.binary ?? process.env.PROMETHEUS_BIN ?? 'prometheus';
    this.config = {
      scrapeJobs: opts.scrapeJobs ?? [],
      rules: opts.rules ?? {},
      ruleFiles: opts.ruleFiles ?? [],
      alertmanagers: opts.alertmanagers ?? [],
      extraConfig: opts.extraConfig ?? {},
    };
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
    return this.running() ? this.child?.pid : undefined;
  }

  running(): boolean {
    return !!this.child && this.exitInfo === undefined;
  }

  logTail(lines = 40): string {
    return fs.existsSync(this.logPath) ? tailFile(this.logPath, lines) : this.lastTail;
  }

  private writePgids(): void {
    try {
      fs.writeFileSync(path.join(this.tmpDir, 'pgids'), this.running() && this.child?.pid ? `${this.child.pid}\n` : '');
    } catch {
      /* tmp dir removed */
    }
  }

  private startWatchdog(): void {
    const script = [
      'while kill -0 "$1" 2>/dev/null && [ -d "$2" ]; do sleep 1; done',
      '[ -d "$2" ] || exit 0',
      'for g in $(cat "$2/pgids" 2>/dev/null); do kill -KILL -- "-$g" 2>/dev/null; done',
      'rm -rf "$2"',
    ].join('\n');
    const w = spawn('bash', ['-c', script, 'prometheus-test-watchdog', String(process.pid), this.tmpDir], {
      detached: true,
      stdio: 'ignore',
    });
    w.on('error', () => undefined);
    w.unref();
    this.watchdog = w;
  }

  private fail(what: string, cause?: unknown): Error {
    const detail = cause ? `: ${cause instanceof Error ? cause.message : String(cause)}` : '';
    const state = this.running() ? 'still running' : `exited with ${this.exitInfo ?? 'unknown status'}`;
    return new Error(
      `prometheus harness: ${what}${detail}\n--- last 40 lines of ${this.logPath} (${state}) ---\n${this.logTail(40)}`,
    );
  }

  private async spawnProcess(): Promise<void> {
    if (this.stopping) throw new Error('prometheus harness: stopped');
    const fd = fs.openSync(this.logPath, 'a');
    const args = this.args();
    fs.writeSync(fd, `### ${new Date().toISOString()} ${this.bin} ${args.join(' ')}\n`);
    let child: ChildProcess;
    try {
      child = spawn(this.bin, args, { detached: true, stdio: ['ignore', fd, fd] });
    } finally {
      fs.closeSync(fd);
    }
    const spawnError = await new Promise<Error | undefined>((resolve) => {
      child.once('spawn', () => resolve(undefined));
      child.once('error', (e) => resolve(e));
    });
    if (spawnError || !child.pid) {
      const code = (spawnError as NodeJS.ErrnoException | undefined)?.code ?? 'no pid';
      throw new Error(
        `prometheus harness: cannot run ${this.bin} (${code}). Install Debian's package ` +
          '(apt-get install -y prometheus) or set PROMETHEUS_BIN.',
      );
    }
    child.unref();
    const pid = child.pid;
    liveGroups.add(pid);
    syncExitHook();
    this.child = child;
    this.exitInfo = undefined;
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = signal ? `signal ${signal}` : `code ${code}`;
        liveGroups.delete(pid);
        syncExitHook();
        killGroup(pid, 'SIGKILL'); // stragglers
        this.writePgids();
        resolve();
      });
    });
    this.writePgids();
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastErr: unknown;
    for (;;) {
      if (!this.running()) throw this.fail('prometheus exited before it was ready');
      try {
        const res = await fetch(`${this.url}/-/ready`, {
          headers: this.authHeaders,
          signal: AbortSignal.timeout(2000),
        });
        await res.text();
        if (res.status === 200) return;
        lastErr = new Error(`/-/ready answered ${res.status}`);
      } catch (e) {
        lastErr = e;
      }
      if (Date.now() > deadline) throw this.fail(`timed out after ${timeoutMs} ms waiting for /-/ready`, lastErr);
      await sleep(25);
    }
  }

  async start(): Promise<void> {
    const t0 = Date.now();
    this.writeConfig();
    this.startWatchdog();
    await this.spawnProcess();
    await this.waitReady(this.opts.startTimeoutMs ?? 30_000);
    this.startMs = Date.now() - t0;
  }

  async kill(signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
    const pid = this.child?.pid;
    if (!this.running() || !pid) return;
    this.child?.ref(); // keep the event loop alive until it has exited
    killGroup(pid, 'SIGCONT'); // a paused process would not act on SIGTERM
    killGroup(pid, signal);
    const t = setTimeout(() => killGroup(pid, 'SIGKILL'), 5000);
    await this.exited;
    clearTimeout(t);
  }

  async restart(): Promise<void> {
    if (this.running()) return;
    await this.spawnProcess();
    await this.waitReady(this.opts.startTimeoutMs ?? 30_000);
  }

  pause(): void {
    const pid = this.pid();
    if (pid) killGroup(pid, 'SIGSTOP');
  }

  resume(): void {
    const pid = this.pid();
    if (pid) killGroup(pid, 'SIGCONT');
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
    if (res.status !== 200) throw this.fail(`reload answered HTTP ${res.status}: ${text.trim()}`);
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
        throw this.fail(`targets not all up after ${timeoutMs} ms: ${JSON.stringify(last)}`);
      }
      await sleep(100);
    }
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.kill('SIGKILL');
      this.lastTail = this.logTail(40);
      const w = this.watchdog;
      if (w?.pid && w.exitCode === null) killGroup(w.pid, 'SIGKILL');
      fs.rmSync(this.tmpDir, { recursive: true, force: true });
      liveDirs.delete(this.tmpDir);
      syncExitHook();
    })();
    return this.stopping;
  }
}

/** Starts a throwaway Prometheus. Throws, with the tail of its log, if it cannot. */
export async function startPrometheus(opts: PrometheusOptions = {}): Promise<RunningPrometheus> {
  for (let attempt = 1; ; attempt++) {
    const p = new PrometheusProcess(await freePort(), opts);
    try {
      await p.start();
      return p;
    } catch (e) {
      await p.stop().catch(() => undefined);
      // A random port can be taken between picking and binding it: retry once.
      if (attempt < 2 && /address already in use/i.test(String(e))) continue;
      throw e;
    }
  }
}
