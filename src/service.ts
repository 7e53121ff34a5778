/**
 * The composition root: config → store → state → dispatcher → app → server, and the
 * graceful shutdown that unwinds it (stop intake, finish in-flight work, close the store).
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config/load.js';
import { formatDuration } from './config/duration.js';
import { Dispatcher } from './dispatch/dispatcher.js';
import { createApp } from './http/app.js';
import { loadCredentials, type Credentials } from './http/auth.js';
import { Metrics } from './metrics.js';
import { LogNotifier } from './notify/log.js';
import { Notifications } from './notify/notifier.js';
import { SqliteStore } from './store/sqlite.js';
import { StateIndex } from './store/state-index.js';
import { VERSION } from './version.js';

export class StartupError extends Error {}

export interface ServiceOptions {
  config: Config;
  log: Logger;
  clock?: Clock;
  credentials?: Credentials;
  /** Off in tests that build many services in one process. */
  defaultMetrics?: boolean;
}

const PRUNE_EVERY_MS = 3600_000;
const SHUTDOWN_GRACE_MS = 10_000;

export class Service {
  readonly app;
  readonly store: SqliteStore;
  readonly state: StateIndex;
  readonly dispatcher: Dispatcher;
  readonly metrics: Metrics;
  private server: Server | undefined;
  private draining = false;
  private closed: Promise<void> | undefined;
  private readonly pruneTimer: NodeJS.Timeout;
  private readonly notifications: Notifications;
  private readonly credentialsNote: string;

  constructor(private readonly opts: ServiceOptions) {
    const { config, log } = opts;
    const clock = opts.clock ?? systemClock;
    const credentials = opts.credentials ?? loadCredentials();
    if (!config.dryRun && !credentials.webhookToken && !config.allowUnauthenticatedWebhook) {
      throw new StartupError(
        'live mode needs a webhook token (ROLLBACK_WEBHOOK_TOKEN or ROLLBACK_WEBHOOK_TOKEN_FILE), or auth.allowUnauthenticatedWebhook: true',
      );
    }
    if (!config.dryRun) {
      throw new StartupError(
        'live mode was asked for (ROLLBACK_DRY_RUN=false or rollback.dryRun: false), but this build has no Kubernetes executors yet; run in dry-run mode',
      );
    }
    this.credentialsNote = `auth: webhook ${credentials.webhookToken ? 'token required' : 'OPEN (no ROLLBACK_WEBHOOK_TOKEN set)'}; operator routes ${credentials.operatorToken ? 'token required' : 'disabled (no ROLLBACK_OPERATOR_TOKEN set), read routes open'}`;
    this.store = new SqliteStore(config.stateDir);
    const now = clock.now();
    this.state = StateIndex.restore(this.store.restore(now - config.retentionMs, now - this.stateHorizon()));
    this.metrics = new Metrics({ triggers: config.rollback.triggers.map((t) => t.name), defaultMetrics: opts.defaultMetrics });
    this.notifications = new Notifications([new LogNotifier(log)], this.metrics, log);
    this.dispatcher = new Dispatcher({
      config,
      store: this.store,
      state: this.state,
      clock,
      metrics: this.metrics,
      log,
      notifications: this.notifications,
      cluster: null,
    });
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
      startedAt: now,
    });
    this.dispatcher.start();
    this.pruneTimer = setInterval(() => this.prune(clock.now()), PRUNE_EVERY_MS).unref();
  }

  /** How far back rollbacks matter to the guards. */
  private stateHorizon(): number {
    const r = this.opts.config.rollback;
    return Math.max(r.cooldownMs, r.retryWindowMs, r.brake.windowMs, ...r.triggers.map((t) => t.cooldownMs ?? 0));
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

  async listen(port = this.opts.config.port, host?: string): Promise<AddressInfo> {
    const { tls } = this.opts.config;
    this.server = tls
      ? createHttpsServer({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) }, this.app)
      : createHttpServer(this.app);
    const server = this.server;
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
    const server = this.server;
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS).unref();
      await closed;
      clearTimeout(timer);
    }
    await this.dispatcher.drain();
    this.dispatcher.stop();
    await this.notifications.drain();
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
      `guards: cooldown ${formatDuration(c.rollback.cooldownMs)}, ${c.rollback.maximumRetries} attempts per ${formatDuration(c.rollback.retryWindowMs)}, brake ${c.rollback.brake.max} per ${formatDuration(c.rollback.brake.windowMs)}`,
    ];
  }
}
