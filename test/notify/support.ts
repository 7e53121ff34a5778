/**
 * Notification test kit: a local HTTP server standing in for Slack, PagerDuty, a webhook
 * receiver and a status page (it records every request and can be told to fail), and
 * realistic decision / rollback fixtures built from Alertmanager payloads.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { parse as parseYaml } from 'yaml';
import { webhookPayloadSchema, toAlerts } from '../../src/intake/payload.js';
import { createLogger } from '../../src/log.js';
import { Metrics } from '../../src/metrics.js';
import type { Target } from '../../src/model.js';
import { notificationsSchema, type NotificationsConfig } from '../../src/notify/config.js';
import type { NotificationEvent } from '../../src/notify/notifier.js';
import type { DecisionRecord, RollbackRecord } from '../../src/store/records.js';
import { alert, payload, type AlertSpec } from '../support/alerts.js';
import { LogCapture } from '../support/service.js';

export const T0 = Date.parse('2026-11-27T07:00:00Z');

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON, or the raw text when it is not JSON. */
  body: unknown;
  at: number;
}

export interface ScriptedResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Answer this late (ms). */
  delayMs?: number;
}

/** A local stand-in for a SaaS endpoint. Answers `ok` (200 or 202 on /v2/enqueue) unless scripted. */
export class StubServer {
  readonly requests: RecordedRequest[] = [];
  private readonly script: ScriptedResponse[] = [];
  private waiters: { count: number; resolve: () => void }[] = [];
  private server: Server | undefined;
  /** When set, every unscripted answer echoes the request (path, headers) in a 500: the worst case for secret leaks. */
  echoFailures = false;
  port = 0;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // keep the text
        }
        const recorded: RecordedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, at: Date.now() };
        this.requests.push(recorded);
        this.waiters = this.waiters.filter((w) => {
          if (this.requests.length < w.count) return true;
          w.resolve();
          return false;
        });
        const scripted = this.script.shift();
        const answer = (): void => {
          if (scripted) {
            res.writeHead(scripted.status, { 'content-type': 'text/plain', ...scripted.headers });
            res.end(scripted.body ?? '');
          } else if (this.echoFailures) {
            res.writeHead(500, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ error: 'boom', path: recorded.path, headers: recorded.headers, body: recorded.body }));
          } else if (recorded.path.endsWith('/v2/enqueue')) {
            res.writeHead(202, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ status: 'success', message: 'Event processed' }));
          } else {
            res.writeHead(200, { 'content-type': 'text/plain' });
            res.end('ok');
          }
        };
        if (scripted?.delayMs) setTimeout(answer, scripted.delayMs);
        else answer();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  url(path = '/'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** The next answers, in order (then `ok` again). */
  respond(...answers: ScriptedResponse[]): void {
    this.script.push(...answers);
  }

  fail(times: number, status = 500, headers?: Record<string, string>): void {
    for (let i = 0; i < times; i++) this.script.push({ status, headers, body: `upstream error ${status}` });
  }

  /** Resolves once `count` requests have arrived in all. */
  waitFor(count: number): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  on(pathPrefix: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path.startsWith(pathPrefix));
  }

  reset(): void {
    this.requests.length = 0;
    this.script.length = 0;
    this.echoFailures = false;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export function testLogger(): { log: Logger; logs: LogCapture } {
  const logs = new LogCapture();
  return { log: createLogger('debug', logs), logs };
}

export function testMetrics(): Metrics {
  return new Metrics({ triggers: ['error_rate', 'health_check'], defaultMetrics: false });
}

/** rollback_notifications_total{channel,result} as a plain map "channel/result" → count (the series pre-set to 0 left out). */
export async function notificationCounts(metrics: Metrics): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of (await metrics.notifications.get()).values) if (v.value > 0) out[`${String(v.labels.channel)}/${String(v.labels.result)}`] = v.value;
  return out;
}

/** The block as it would sit under `notifications:` in the YAML file. */
export function notificationsConfig(yaml: string): NotificationsConfig {
  return notificationsSchema.parse(parseYaml(yaml) ?? {});
}

let seq = 0;
function id(prefix: string): string {
  seq += 1;
  return `${prefix}${(T0 + seq).toString(36)}-${seq.toString(16).padStart(10, '0')}`;
}

/** A decision as the dispatcher records it, from a real Alertmanager v4 payload. */
export function decisionFixture(over: Partial<DecisionRecord> = {}, spec: AlertSpec = {}): DecisionRecord {
  const parsed = toAlerts(webhookPayloadSchema.parse(payload([alert(spec)])));
  const a = parsed.alerts[0]!;
  const trigger = a.labels.rollback_trigger ?? null;
  return {
    id: id('d'),
    at: T0,
    alert: a,
    group: parsed.group,
    trigger,
    namespace: a.labels.namespace ?? null,
    name: a.labels.deployment ?? null,
    strategy: 'deployment-undo',
    decision: 'executed',
    reason: `rolling back ${a.labels.namespace}/${a.labels.deployment} with deployment-undo (trigger ${trigger})`,
    rollbackId: null,
    pendingOf: null,
    dueAt: null,
    ...over,
  };
}

export function rollbackFixture(over: Partial<RollbackRecord> = {}, decision?: DecisionRecord): RollbackRecord {
  return {
    id: id('r'),
    namespace: decision?.namespace ?? 'prod',
    name: decision?.name ?? 'api',
    strategy: 'deployment-undo',
    kind: 'automatic',
    status: 'running',
    reason: decision ? `${decision.trigger}: ${decision.alert.labels.alertname} (${decision.alert.annotations.summary})` : 'operator request',
    trigger: decision?.trigger ?? null,
    decisionId: decision?.id ?? null,
    startedAt: T0,
    finishedAt: null,
    dryRun: false,
    steps: [],
    objects: ['Deployment:prod/api'],
    pin: null,
    ...over,
  };
}

/** An automatic rollback started by an alert: the decision, the rollback and its `rollback_started` event. */
export function startedRollback(
  spec: AlertSpec = {},
  over: Partial<RollbackRecord> = {},
): { decision: DecisionRecord; rollback: RollbackRecord; event: NotificationEvent } {
  const decision = decisionFixture({}, spec);
  const rollback = rollbackFixture(over, decision);
  decision.rollbackId = rollback.id;
  if (rollback.dryRun) {
    decision.decision = 'dry_run';
    decision.reason = `dry-run: would roll back ${rollback.namespace}/${rollback.name} with ${rollback.strategy} (trigger ${rollback.trigger})`;
  }
  return { decision, rollback, event: { type: 'rollback_started', rollback, decision } };
}

export function escalation(target: Target, reason: string, detail: string, extra: { rollback?: RollbackRecord; decision?: DecisionRecord } = {}): NotificationEvent {
  return { type: 'escalated', target, reason, detail, ...extra };
}

/** Waits until `predicate` holds, polling (deliveries run in the background). */
export async function until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
