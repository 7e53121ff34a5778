/**
 * The composition root: config → store → state → dispatcher → app → server, and the
 * graceful shutdown that unwinds it (stop intake, finish in-flight work, close the store).
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { delimiter, join } from 'node:path';
import { createServer as createHttpServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config/load.js';
import { formatDuration } from './config/duration.js';
import { Dispatcher } from './dispatch/dispatcher.js';
import { Executor } from './execution/executor.js';
import { GitOpsResumer } from './gitops/resume.js';
import { KubeClient } from './kube/client.js';
import { createApp } from './http/app.js';
import { fastWebhook } from './intake/fast-webhook.js';
import { loadCredentials, type Credentials } from './http/auth.js';
import { Metrics } from './metrics.js';
import { Monitor, type Sampler } from './monitoring/monitor.js';
import { PrometheusSampler } from './monitoring/sampler.js';
import type { Effect, RollbackRecord, RollbackStatus } from './store/records.js';
import { buildNotifiers } from './notify/build.js';
import { LogNotifier } from './notify/log.js';
import { Notifications } from './notify/notifier.js';
import { kubernetesBackend, type KubernetesBackend } from './store/kubernetes/backend.js';
import type { Takeover } from './store/kubernetes/takeover.js';
import { SqliteStore } from './store/sqlite.js';
import { StateIndex } from './store/state-index.js';
import { AlertmanagerClient } from './alertmanager/client.js';
import { SilenceKeeper } from './alertmanager/silence-keeper.js';
import { RevertedWatch } from './monitoring/reverted.js';
import { VERSION } from './version.js';

export class StartupError extends Error {}

export interface ServiceOptions {
  config: Config;
  log: Logger;
  clock?: Clock;
  credentials?: Credentials;
  /** Off in tests that build many services in one process. */
  defaultMetrics?: boolean;
  /** null or absent: no cluster (`serve` passes {@link kubeFromEnvironment}'s). */
  kube?: KubeClient | null;
  /** Default: Prometheus at config.prometheusUrl. */
  sampler?: Sampler;
  /** Where channel secrets named by env come from (default process.env). */
  env?: Record<string, string | undefined>;
}

/** A cluster is configured when KUBECONFIG, ~/.kube/config or an in-cluster service account exists; null otherwise. */
export async function kubeFromEnvironment(): Promise<KubeClient | null> {
  const inCluster = Boolean(process.env.KUBERNETES_SERVICE_HOST);
  const file = process.env.KUBECONFIG || join(homedir(), '.kube', 'config');
  if (!inCluster && !existsSync(file.split(delimiter)[0] ?? file)) return null;
  try {
    return await KubeClient.fromEnvironment();
  } catch (err) {
    throw new StartupError(`cannot load the cluster configuration (${inCluster ? 'in-cluster service account' : `KUBECONFIG ${file}`}): ${(err as Error).message}`);
  }
}

const PRUNE_EVERY_MS = 3600_000;
const SHUTDOWN_GRACE_MS = 10_000;

export class Service {
  readonly app;
  /** What the server runs: the /webhook fast path, and the express app for everything else. */
  readonly handler: RequestListener;
  readonly store: SqliteStore;
  readonly state: StateIndex;
  readonly dispatcher: Dispatcher;
  readonly metrics: Metrics;
  readonly kube: KubeClient | null;
  readonly executor: Executor | null = null;
  readonly gitops: GitOpsResumer | null = null;
  readonly monitor: Monitor | null;
  private server: Server | undefined;
  /** Responses not yet finished, so shutdown can tell their keep-alive clients to hang up. */
  private readonly openResponses = new Set<ServerResponse>();
  private draining = false;
  private closed: Promise<void> | undefined;
  private readonly pruneTimer: NodeJS.Timeout;
  private readonly notifications: Notifications;
  private readonly credentialsNote: string;
  private readonly channelsNote: string;
  /** The Kubernetes state backend, when replicas share the state. */
  readonly backend: KubernetesBackend | null = null;
  private takeover: Takeover | null = null;
  /** Alertmanager's API (silences), when `alertmanager.url` is configured. */
  readonly alertmanager: AlertmanagerClient | null;
  /** The reverted signal: targets the receiver rolled back, until they get another revision. */
  private readonly reverted: RevertedWatch | null = null;
  /** The receiver's own silences during rollbacks (`alertmanager.silenceDuringWindow`). */
  private readonly silences: SilenceKeeper | null;

  constructor(private readonly opts: ServiceOptions) {
    const { config, log } = opts;
    const clock = opts.clock ?? systemClock;
    const credentials = opts.credentials ?? loadCredentials();
    if (!config.dryRun && !credentials.webhookToken && !config.allowUnauthenticatedWebhook) {
      throw new StartupError(
        'live mode needs a webhook token (ROLLBACK_WEBHOOK_TOKEN or ROLLBACK_WEBHOOK_TOKEN_FILE), or auth.allowUnauthenticatedWebhook: true',
      );
    }
    this.kube = opts.kube ?? null;
    if (!config.dryRun && !this.kube) {
      throw new StartupError(
        'live mode was asked for (ROLLBACK_DRY_RUN=false or rollback.dryRun: false), but no cluster is configured: set KUBECONFIG or run in a pod with a service account',
      );
    }
    this.credentialsNote = `auth: webhook ${credentials.webhookToken ? 'token required' : 'OPEN (no ROLLBACK_WEBHOOK_TOKEN set)'}; operator routes ${credentials.operatorToken ? 'token required' : 'disabled (no ROLLBACK_OPERATOR_TOKEN set), read routes open'}`;
    this.store = new SqliteStore(config.stateDir);
    const now = clock.now();
    const restored = this.store.restore(now - config.retentionMs, now - this.stateHorizon());
    this.state = StateIndex.restore(restored);
    this.metrics = new Metrics({ triggers: config.rollback.triggers.map((t) => t.name), defaultMetrics: opts.defaultMetrics, version: VERSION, dryRun: config.dryRun });
    // The ledger owns "in progress"; the gauges read it at scrape time.
    this.metrics.readRunningFrom(() => this.state.running().map((r) => r.startedAt));
    const channels = buildNotifiers(config.notifications, opts.env ?? process.env, {
      log,
      clock,
      serviceDryRun: config.dryRun,
      source: config.file ?? 'defaults',
      triggers: config.rollback.triggers.map((t) => t.name),
    });
    this.channelsNote = `notifications: log${channels.map((c) => `, ${c.describe()}`).join('')}`;
    this.notifications = new Notifications([new LogNotifier(log), ...channels], this.metrics, log);
    if (config.state.backend === 'kubernetes') {
      if (!this.kube) throw new StartupError('state.backend kubernetes keeps the shared state in the cluster, but no cluster is configured: set KUBECONFIG or run in a pod with a service account');
      this.backend = kubernetesBackend({ kube: this.kube, config, state: this.state, clock, log, env: opts.env ?? process.env, horizonMs: this.stateHorizon() });
    }
    this.alertmanager = config.alertmanager ? new AlertmanagerClient(config.alertmanager, config.alertmanager.timeoutMs) : null;
    this.silences = this.alertmanager && config.alertmanager?.silenceDuringWindow ? new SilenceKeeper(this.alertmanager, log) : null;
    this.dispatcher = new Dispatcher({
      config,
      store: this.store,
      state: this.state,
      clock,
      metrics: this.metrics,
      log,
      notifications: this.notifications,
      executor: null,
      shared: this.backend?.ledger ?? null,
      alertmanager: this.alertmanager,
      silences: this.silences,
    });
    if (this.kube) {
      this.executor = new Executor({
        kube: this.kube,
        config,
        clock,
        log,
        metrics: this.metrics,
        notifications: this.notifications,
        record: (effects) => this.dispatcher.record(effects),
        decisionOf: (id) => this.store.decision(id),
        onFinished: (rollback, status, serving) => this.afterRollback(rollback, status, serving?.name ?? rollback.name),
        hold: this.backend ? (rollback) => this.backend!.keeper.hold(rollback) : undefined,
      });
      this.dispatcher.attachExecutor(this.executor);
      const executor = this.executor;
      const shared = this.backend?.ledger;
      this.reverted = new RevertedWatch({
        // With the Kubernetes backend every replica reads every target's ledger: a target another replica rolled back is reported here too.
        successes: async () => {
          await shared?.refreshAll();
          return this.state.lastSuccesses();
        },
        view: (candidates) => executor.view(candidates),
        metrics: this.metrics,
        log,
        intervalMs: config.revertedCheckIntervalMs,
      });
      this.gitops = new GitOpsResumer({
        kube: this.kube,
        store: this.store,
        config,
        clock,
        log,
        notifications: this.notifications,
        record: (effects) => this.dispatcher.record(effects),
      });

    }
    const prometheus = new PrometheusSampler(config.monitoring);
    this.monitor = config.monitoring.enabled
      ? new Monitor({
          settings: config.monitoring,
          store: this.store,
          clock,
          log,
          metrics: this.metrics,
          notifications: this.notifications,
          sampler: opts.sampler ?? prometheus,
          record: (effects) => this.dispatcher.record(effects),
          share: this.backend?.windows ?? null,
          onWindowEnd: (window, why) => {
            if (window.rollbackId) void this.silences?.expire(window.rollbackId, why);
          },
        })
      : null;
    const replica = this.backend?.identity ?? hostname();
    this.app = createApp({
      config,
      store: this.store,
      state: this.state,
      dispatcher: this.dispatcher,
      credentials,
      metrics: this.metrics,
      clock,
      log,
      draining: () => this.draining,
      version: VERSION,
      kubeServer: this.kube?.server ?? null,
      executor: this.executor,
      gitops: this.gitops,
      monitor: this.monitor,
      prometheus: prometheus.client,
      receiverUrl: config.notifications.receiverUrl,
      startedAt: now,
      shared: this.backend?.ledger ?? null,
      replica,
    });
    const fast = fastWebhook({
      dispatcher: this.dispatcher,
      credentials,
      metrics: this.metrics,
      log,
      bodyLimitBytes: config.bodyLimitBytes,
      draining: () => this.draining,
      replica,
    });
    const app = this.app;
    this.handler = (req: IncomingMessage, res: ServerResponse) => {
      if (!fast(req, res)) app(req, res);
    };
    if (this.backend) {
      // Replicas share running rollbacks through Leases: whichever replica finds one orphaned adopts it.
      const executor = this.executor!;
      const monitor = this.monitor;
      this.takeover = this.backend.startTakeover(
        (rollback) => {
          this.dispatcher.recordLocally([{ type: 'rollback', record: rollback }]).then(
            () => void executor.execute(rollback, { resume: true }),
            (err: Error) => log.error({ rollbackId: rollback.id, err: err.message }, 'could not record an adopted rollback'),
          );
        },
        monitor ? (shared) => monitor.adopt(shared) : null,
      );
    } else {
      this.recoverInterrupted(restored.rollbacks.filter((r) => r.status === 'running'), now);
    }
    this.dispatcher.start();
    this.monitor?.resume();
    this.gitops?.start();
    void this.silences?.sweep((id) => this.rollbackStillOpen(id));
    this.reverted?.start();
    // Hourly, or every retention period when that is shorter, so history never outgrows it by much.
    this.pruneTimer = setInterval(() => this.prune(clock.now()), Math.min(PRUNE_EVERY_MS, config.retentionMs)).unref();
  }

  /**
   * Rollbacks a crash cut off (SPEC safety invariant 4): each is resumed from the cluster's
   * state compared with its pinned plan, or — when it cannot be (no cluster now, no pin on
   * record) — finished `failed` and escalated, never only marked.
   */
  private recoverInterrupted(interrupted: RollbackRecord[], now: number): void {
    const lost: RollbackRecord[] = [];
    for (const r of interrupted) {
      if (this.executor && r.pin && r.objects.length > 0) {
        this.opts.log.warn({ rollbackId: r.id, target: `${r.namespace}/${r.name}` }, 'resuming a rollback the previous process did not finish');
        void this.executor.execute(r, { resume: true });
      } else {
        lost.push(r);
      }
    }
    if (lost.length === 0) return;
    const why = this.executor ? 'no pinned plan on record' : 'no cluster is configured now';
    const effects = lost.flatMap((r): Effect[] => [
      {
        type: 'rollback-finished',
        id: r.id,
        target: r,
        status: 'failed',
        at: now,
        steps: [...r.steps, { at: now, name: 'interrupted', detail: `the receiver restarted while this rollback was running and cannot resume it (${why}); check the workload` }],
      },
      { type: 'escalation', target: r, reason: 'interrupted', at: now },
    ]);
    this.dispatcher.record(effects).then(
      () => {
        for (const r of lost) {
          this.metrics.escalations.inc({ reason: 'interrupted' });
          this.notifications.emit({ type: 'escalated', target: r, reason: 'interrupted', detail: `rollback ${r.id} was cut off by a restart and cannot be resumed (${why}); check the workload`, rollback: r });
        }
      },
      (err: Error) => this.opts.log.error({ err: err.message }, 'could not record the interrupted rollbacks'),
    );
  }

  /** Opens the monitoring window after a successful rollback (and after an escalated one when configured). */
  private afterRollback(rollback: RollbackRecord, status: RollbackStatus, deployment: string): void {
    if (status === 'success') this.reverted?.watch({ ...rollback, status });
    const m = this.opts.config.monitoring;
    const windowOpens = this.monitor !== null && m.enabled && (status === 'success' || (status === 'escalated' && m.afterEscalation));
    if (!windowOpens) {
      void this.silences?.expire(rollback.id, `the rollback ended ${status} without a monitoring window`);
      return;
    }
    if (!this.monitor) return;
    this.monitor.start(rollback, rollback.id, m.durationMs, deployment).catch((err: Error) => this.opts.log.error({ rollbackId: rollback.id, err: err.message }, 'could not open the monitoring window'));
  }

  /** Whether a rollback may still need its silence: running, or its window open (another replica's, with the shared backend, may be unknown here). */
  private rollbackStillOpen(rollbackId: string): boolean {
    const rollback = this.store.rollback(rollbackId);
    if (!rollback) return this.backend !== null;
    return rollback.status === 'running' || this.store.windows({ status: 'active' }).some((w) => w.rollbackId === rollbackId);
  }

  /** How far back rollbacks matter to the guards. */
  private stateHorizon(): number {
    const r = this.opts.config.rollback;
    // Cooldown counts from a rollback's end, which comes up to an execution timeout after its start.
    const longestCooldown = Math.max(r.cooldownMs, ...r.triggers.map((t) => t.cooldownMs ?? 0)) + r.executionTimeoutMs;
    return Math.max(longestCooldown, r.retryWindowMs, r.brake.windowMs);
  }

  private prune(now: number): void {
    try {
      const removed = this.store.prune(now - this.opts.config.retentionMs);
      this.state.forgetDecided(now - this.opts.config.retentionMs);
      this.state.prune(now - this.stateHorizon());
      if (removed > 0) this.opts.log.info({ removed }, 'pruned records older than store.retention');
    } catch (err) {
      this.opts.log.error({ err: (err as Error).message }, 'pruning old records failed');
    }
  }

  /** Live mode must reach the API server before taking alerts; dry-run only warns. */
  async checkCluster(): Promise<string> {
    if (!this.kube) return 'cluster: none configured — opt-in, stale and validation checks are skipped';
    try {
      const version = await this.kube.send<{ gitVersion: string }>({ method: 'GET', path: '/version' }, 10_000);
      return `cluster: ${this.kube.server} (Kubernetes ${version.gitVersion})`;
    } catch (err) {
      const why = `cannot reach the Kubernetes API at ${this.kube.server}: ${(err as Error).message}`;
      if (!this.opts.config.dryRun) throw new StartupError(`live mode needs a usable cluster; ${why}`);
      return `cluster: ${why} (dry-run continues; decisions needing the cluster will answer 503)`;
    }
  }

  async listen(port = this.opts.config.port, host?: string): Promise<AddressInfo> {
    const { tls } = this.opts.config;
    this.server = tls
      ? createHttpsServer({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) }, this.handler)
      : createHttpServer(this.handler);
    const server = this.server;
    server.on('request', (_req, res: ServerResponse) => {
      this.openResponses.add(res);
      res.on('close', () => this.openResponses.delete(res));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return server.address() as AddressInfo;
  }

  /** Graceful: refuse new work, finish what was accepted, then close the store. */
  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    this.draining = true;
    clearInterval(this.pruneTimer);
    this.reverted?.stop();
    const server = this.server;
    if (server) {
      // Keep-alive clients (Alertmanager) would otherwise hold the server open until their idle timeout.
      for (const res of this.openResponses) if (!res.headersSent) res.setHeader('Connection', 'close');
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS).unref();
      await closed;
      clearTimeout(timer);
    }
    await this.dispatcher.drain();
    this.dispatcher.stop();
    this.gitops?.stop();
    await this.takeover?.stop();
    // In-flight rollbacks stop at a safe point; what is left resumes at the next start.
    await this.executor?.stop(this.opts.config.shutdownGraceMs);
    await this.monitor?.stop();
    await this.notifications.drain(SHUTDOWN_GRACE_MS);
    this.store.close();
  }

  /** The first log lines: what mode, where, with what. */
  describe(): string[] {
    const c = this.opts.config;
    return [
      c.dryRun
        ? 'mode: DRY-RUN (shadow) — decisions are recorded as if rollbacks ran; nothing in any cluster is changed'
        : 'mode: LIVE — automatic rollbacks act on the cluster',
      `config: ${c.file ?? 'none (built-in defaults)'}; state: ${this.store.path}`,
      `triggers: ${c.rollback.triggers.map((t) => `${t.name}${t.actAfterMs ? ` (acts after ${formatDuration(t.actAfterMs)})` : ''}${t.automatic ? '' : ' (notify only)'}`).join(', ')}`,
      this.credentialsNote,
      this.channelsNote,
      this.backend?.describe() ?? `state: sqlite (one replica) in ${this.store.path}`,
      `guards: cooldown ${formatDuration(c.rollback.cooldownMs)}, ${c.rollback.maximumRetries} attempts per ${formatDuration(c.rollback.retryWindowMs)}, brake ${c.rollback.brake.max} per ${formatDuration(c.rollback.brake.windowMs)}`,
    ];
  }
}
