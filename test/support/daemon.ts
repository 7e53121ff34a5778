/**
 * Throwaway server processes for tests (Prometheus, Alertmanager, the receiver itself in
 * the demo): the generic process handling shared by every harness.
 *
 * A Daemon owns a fresh temp dir (`<tmpBase>/<tmpPrefix>XXXXXX`) and a loopback port. It
 * spawns its binary detached, in a process group of its own, with stdout/stderr appended
 * to `<tmpDir>/<name>.log`, and polls an HTTP readiness path until it answers 200. A
 * start that fails throws with the tail of that log; startOnFreePort() retries once when
 * the log says the port was taken in between ("address already in use").
 *
 * kill()/restart() stop and start the process on the same port, keeping the temp dir
 * (config and data); pause()/resume() SIGSTOP/SIGCONT it; stop() kills the group and
 * removes the temp dir.
 *
 * Nothing is orphaned: a process 'exit' hook SIGKILLs every live group and removes the
 * temp dirs (attached only while there is something to clean up, so test files loading
 * this module afresh under jest do not pile up listeners), and a detached bash watchdog
 * per daemon kills the group(s) listed in `<tmpDir>/pgids` and removes the dir when this
 * Node process dies without running its exit hooks (SIGKILL, fatal signal).
 *
 * Avoids `import.meta` and top-level await, so that it loads the same under ts-jest,
 * tsx (scripts, jest globalSetup through tsImport) and plain Node after tsc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

// ---------------------------------------------------------------- helpers

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A loopback port that was free a moment ago (it can be taken before it is bound: see startOnFreePort). */
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

/** The last `lines` lines of a file, or a note saying why it cannot be read. */
export function tailFile(file: string, lines: number): string {
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

/** `override` (a harness's env var), else /dev/shm when it has room (tmpfs: no fsync cost), else os.tmpdir(). */
export function tmpBase(override?: string): string {
  return override ?? (roomyTmpfs('/dev/shm') ? '/dev/shm' : os.tmpdir());
}

/** Sends `sig` to the process group `pid` (ignored when it is gone). */
export function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    /* already gone */
  }
}

// ------------------------------------------------- cleanup on process exit

const liveGroups = new Set<number>();
const liveDirs = new Set<string>();
let exitHookAttached = false;
function onExit(): void {
  for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
  for (const d of liveDirs) fs.rmSync(d, { recursive: true, force: true });
}
function syncExitHook(): void {
  const needed = liveGroups.size > 0 || liveDirs.size > 0;
  if (needed && !exitHookAttached) process.on('exit', onExit);
  if (!needed && exitHookAttached) process.off('exit', onExit);
  exitHookAttached = needed;
}

// ---------------------------------------------------------------- the daemon

export interface DaemonSpec {
  /** Short name: log file `<name>.log`, watchdog `<name>-test-watchdog`, messages "<name> exited ...". */
  name: string;
  /** Prefix of error messages, e.g. 'prometheus harness'. */
  label: string;
  /** The executable (path or name on PATH). */
  binary: string;
  /** Arguments, computed at every spawn (the temp dir and port are known by then). */
  args: (d: Daemon) => string[];
  /** Temp dir name prefix, e.g. 'prometheus-test-'. */
  tmpPrefix: string;
  /** Parent of the temp dir. Default {@link tmpBase}(). */
  tmpBase?: string;
  /** Path polled until it answers 200, e.g. '/-/ready'. */
  readyPath: string;
  /** Headers for the readiness requests (credentials). */
  readyHeaders?: () => Record<string, string>;
  /** Time to wait for readiness. Default 30 s. */
  startTimeoutMs?: number;
  /** Appended to the error when the binary cannot be run at all, e.g. how to install it. */
  installHint?: string;
  /** Environment of the process (a function: computed at every spawn). Default: this process's. */
  env?: NodeJS.ProcessEnv | ((d: Daemon) => NodeJS.ProcessEnv);
  /** Working directory. Default: this process's. */
  cwd?: string;
}

export class Daemon {
  readonly url: string;
  readonly tmpDir: string;
  readonly logPath: string;
  /** Wall time from spawn to ready of the first start, ms. */
  startMs = 0;

  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private exitInfo: string | undefined;
  private watchdog: ChildProcess | undefined;
  private stopping: Promise<void> | undefined;
  private lastTail = '';

  constructor(
    readonly port: number,
    readonly spec: DaemonSpec,
  ) {
    this.tmpDir = fs.mkdtempSync(path.join(spec.tmpBase ?? tmpBase(), spec.tmpPrefix));
    liveDirs.add(this.tmpDir);
    syncExitHook();
    this.url = `http://127.0.0.1:${port}`;
    this.logPath = path.join(this.tmpDir, `${spec.name}.log`);
  }

  /** A path inside the temp dir. */
  file(...parts: string[]): string {
    return path.join(this.tmpDir, ...parts);
  }

  /** pid (= process group id) of the running process, undefined when not running. */
  pid(): number | undefined {
    return this.running() ? this.child?.pid : undefined;
  }

  running(): boolean {
    return !!this.child && this.exitInfo === undefined;
  }

  /** Last lines of the process's own log (kept after stop()). */
  logTail(lines = 40): string {
    return fs.existsSync(this.logPath) ? tailFile(this.logPath, lines) : this.lastTail;
  }

  /** An Error naming `what` (and `cause`), with the state of the process and the tail of its log. */
  fail(what: string, cause?: unknown): Error {
    const detail = cause ? `: ${cause instanceof Error ? cause.message : String(cause)}` : '';
    const state = this.running() ? 'still running' : `exited with ${this.exitInfo ?? 'unknown status'}`;
    return new Error(
      `${this.spec.label}: ${what}${detail}\n--- last 40 lines of ${this.logPath} (${state}) ---\n${this.logTail(40)}`,
    );
  }

  private writePgids(): void {
    try {
      fs.writeFileSync(path.join(this.tmpDir, 'pgids'), this.running() && this.child?.pid ? `${this.child.pid}\n` : '');
    } catch {
      /* tmp dir removed */
    }
  }

  private startWatchdog(): void {
    if (this.watchdog) return;
    const script = [
      'while kill -0 "$1" 2>/dev/null && [ -d "$2" ]; do sleep 1; done',
      '[ -d "$2" ] || exit 0',
      'for g in $(cat "$2/pgids" 2>/dev/null); do kill -KILL -- "-$g" 2>/dev/null; done',
      'rm -rf "$2"',
    ].join('\n');
    const w = spawn('bash', ['-c', script, `${this.spec.name}-test-watchdog`, String(process.pid), this.tmpDir], {
      detached: true,
      stdio: 'ignore',
    });
    w.on('error', () => undefined);
    w.unref();
    this.watchdog = w;
  }

  private async spawnProcess(): Promise<void> {
    if (this.stopping) throw new Error(`${this.spec.label}: stopped`);
    const bin = this.spec.binary;
    const fd = fs.openSync(this.logPath, 'a');
    const args = this.spec.args(this);
    fs.writeSync(fd, `### ${new Date().toISOString()} ${bin} ${args.join(' ')}\n`);
    let child: ChildProcess;
    try {
      child = spawn(bin, args, {
        detached: true,
        stdio: ['ignore', fd, fd],
        ...(this.spec.env ? { env: typeof this.spec.env === 'function' ? this.spec.env(this) : this.spec.env } : {}),
        ...(this.spec.cwd ? { cwd: this.spec.cwd } : {}),
      });
    } finally {
      fs.closeSync(fd);
    }
    const spawnError = await new Promise<Error | undefined>((resolve) => {
      child.once('spawn', () => resolve(undefined));
      child.once('error', (e) => resolve(e));
    });
    if (spawnError || !child.pid) {
      const code = (spawnError as NodeJS.ErrnoException | undefined)?.code ?? 'no pid';
      throw new Error(`${this.spec.label}: cannot run ${bin} (${code}).${this.spec.installHint ? ` ${this.spec.installHint}` : ''}`);
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
      if (!this.running()) throw this.fail(`${this.spec.name} exited before it was ready`);
      try {
        const res = await fetch(`${this.url}${this.spec.readyPath}`, {
          headers: this.spec.readyHeaders?.() ?? {},
          signal: AbortSignal.timeout(2000),
        });
        await res.text();
        if (res.status === 200) return;
        lastErr = new Error(`${this.spec.readyPath} answered ${res.status}`);
      } catch (e) {
        lastErr = e;
      }
      if (Date.now() > deadline) throw this.fail(`timed out after ${timeoutMs} ms waiting for ${this.spec.readyPath}`, lastErr);
      await sleep(25);
    }
  }

  /** Starts the watchdog and the process; resolves when it is ready. Write config files before. */
  async start(): Promise<void> {
    const t0 = Date.now();
    this.startWatchdog();
    await this.spawnProcess();
    await this.waitReady(this.spec.startTimeoutMs ?? 30_000);
    this.startMs = Date.now() - t0;
  }

  /** Stops the process (SIGKILL by default) but keeps the temp dir and port: "it is down". */
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

  /** Starts the process again after kill(), same port, temp dir and data; resolves when ready. */
  async restart(): Promise<void> {
    if (this.running()) return;
    await this.spawnProcess();
    await this.waitReady(this.spec.startTimeoutMs ?? 30_000);
  }

  /** SIGSTOP: the port still accepts connections but nothing answers (a hung server). */
  pause(): void {
    const pid = this.pid();
    if (pid) killGroup(pid, 'SIGSTOP');
  }

  /** SIGCONT after pause(). */
  resume(): void {
    const pid = this.pid();
    if (pid) killGroup(pid, 'SIGCONT');
  }

  /** Kills the process group (SIGTERM first when `signal` says so), removes the temp dir. Idempotent. */
  stop(signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
    this.stopping ??= (async () => {
      await this.kill(signal);
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

/**
 * Creates a server on a free port with `make` and starts it; on failure stops it (no
 * leftovers) and throws, except that a port taken between picking and binding it
 * ("address already in use") is retried once on another port.
 */
export async function startOnFreePort<T extends { start(): Promise<void>; stop(): Promise<void> }>(
  make: (port: number) => T,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const server = make(await freePort());
    try {
      await server.start();
      return server;
    } catch (e) {
      await server.stop().catch(() => undefined);
      if (attempt < 2 && /address already in use/i.test(String(e))) continue;
      throw e;
    }
  }
}
