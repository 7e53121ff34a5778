/**
 * A generic JSON webhook for anything else (chat bridges, ticketing, audit): the event
 * type, the channel-neutral message, and the raw event data minus anything secret-like
 * (Kubernetes request bodies of rollback steps, keys named like tokens or passwords).
 */
import type { HttpRequestSpec } from './http.js';
import { HttpChannel, type ChannelDeps, type ChannelSettings } from './channel.js';
import type { NotificationMessage } from './message.js';
import type { NotificationEvent } from './notifier.js';

export interface WebhookOptions {
  url: string;
  method: 'POST' | 'PUT' | 'PATCH';
  /** Resolved header values (some may be secrets). */
  headers: Record<string, string>;
  /** Values to scrub from logs: secret header values, and the URL when it came from a secret. */
  secrets: readonly string[];
}

export const WEBHOOK_PAYLOAD_VERSION = '1';

const SECRET_KEY = /(token|password|passwd|secret|authorization|api[-_]?key|credential|cookie)/i;

/** A deep copy of the event without secret-like keys or Kubernetes request bodies (Helm release Secrets are in them). */
export function sanitizeEvent(event: NotificationEvent): Record<string, unknown> {
  const strip = (value: unknown, path: readonly string[]): unknown => {
    if (Array.isArray(value)) return value.map((v) => strip(v, path));
    if (value === null || typeof value !== 'object') return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (SECRET_KEY.test(k)) continue;
      if (k === 'body' && path[path.length - 1] === 'request') continue;
      out[k] = strip(v, [...path, k]);
    }
    return out;
  };
  return strip(JSON.parse(JSON.stringify(event)) as unknown, []) as Record<string, unknown>;
}

export function webhookPayload(event: NotificationEvent, message: NotificationMessage, at: number): Record<string, unknown> {
  return {
    version: WEBHOOK_PAYLOAD_VERSION,
    source: 'rollback-receiver',
    type: event.type,
    at: new Date(at).toISOString(),
    dryRun: message.dryRun,
    message: {
      title: message.title,
      severity: message.severity,
      text: message.text,
      links: message.links,
      fields: message.fields,
      target: message.target,
      rollbackId: message.rollbackId,
      trigger: message.trigger,
    },
    event: sanitizeEvent(event),
  };
}

export class WebhookNotifier extends HttpChannel {
  constructor(
    private readonly options: WebhookOptions,
    settings: ChannelSettings,
    deps: ChannelDeps,
  ) {
    super('webhook', settings, options.secrets, deps);
  }

  protected override request(event: NotificationEvent, message: NotificationMessage): HttpRequestSpec {
    return { method: this.options.method, url: this.options.url, headers: this.options.headers, body: webhookPayload(event, message, this.clock.now()) };
  }
}
