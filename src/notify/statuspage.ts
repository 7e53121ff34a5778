/**
 * The seed's status-page update:
 *   curl -X PATCH https://status.example.com/incidents -H "Authorization: Bearer $STATUS_API_KEY"
 *        -d '{"status": "investigating", "message": "Emergency maintenance in progress"}'
 * The page is customer-facing, so the message comes from a per-event template (defaults
 * name the workload only) and shadow (dry-run) events are not sent unless asked for.
 */
import type { HttpRequestSpec } from './http.js';
import { HttpChannel, type ChannelDeps, type ChannelSettings } from './channel.js';
import type { NotificationMessage } from './message.js';
import type { NotificationEvent, NotificationType } from './notifier.js';

export const STATUSPAGE_STATUSES = ['investigating', 'identified', 'monitoring', 'resolved'] as const;
export type StatusPageStatus = (typeof STATUSPAGE_STATUSES)[number];

export const DEFAULT_STATUSPAGE_STATUS: Record<NotificationType, StatusPageStatus> = {
  rollback_started: 'investigating',
  rollback_succeeded: 'monitoring',
  rollback_failed: 'investigating',
  escalated: 'investigating',
  window_breached: 'investigating',
  recovered: 'resolved',
  brake_tripped: 'investigating',
  notify_only: 'investigating',
  gitops_resumed: 'monitoring',
};

export const DEFAULT_STATUSPAGE_MESSAGES: Record<NotificationType, string> = {
  rollback_started: 'Emergency maintenance in progress: rolling back a recent change to {name}',
  rollback_succeeded: 'A recent change to {name} has been rolled back; we are monitoring the service',
  rollback_failed: 'We are investigating a problem with {name}',
  escalated: 'We are investigating a problem with {name}',
  window_breached: 'We are investigating a problem with {name}',
  recovered: '{name} has recovered',
  brake_tripped: 'We are investigating a problem',
  notify_only: 'We are investigating a problem with {name}',
  gitops_resumed: 'Regular deployments of {name} have resumed',
};

/** The placeholders a message template may use. */
export const TEMPLATE_PLACEHOLDERS = ['title', 'text', 'namespace', 'name', 'target', 'strategy', 'kind', 'rollbackId', 'trigger', 'severity'] as const;

/** Placeholders a template uses that do not exist, for config validation. */
export function unknownPlaceholders(template: string): string[] {
  const known = new Set<string>(TEMPLATE_PLACEHOLDERS);
  return [...template.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1] ?? '').filter((p) => !known.has(p));
}

export function renderTemplate(template: string, message: NotificationMessage): string {
  const value = (field: string) => message.fields.find((f) => f.name === field)?.value ?? '';
  const values: Record<string, string> = {
    title: message.title,
    text: message.text,
    namespace: message.target?.namespace ?? '',
    name: message.target?.name ?? 'the service',
    target: message.target ? `${message.target.namespace}/${message.target.name}` : '',
    strategy: value('Strategy'),
    kind: value('Kind'),
    rollbackId: message.rollbackId ?? '',
    trigger: message.trigger ?? '',
    severity: message.severity,
  };
  return template.replace(/\{([^{}]*)\}/g, (whole, name: string) => values[name] ?? whole);
}

export interface StatusPageOptions {
  url: string;
  token: string;
  method: 'PATCH' | 'POST' | 'PUT';
  status: Record<NotificationType, StatusPageStatus>;
  messages: Record<NotificationType, string>;
}

export class StatusPageNotifier extends HttpChannel {
  constructor(
    private readonly options: StatusPageOptions,
    settings: ChannelSettings,
    deps: ChannelDeps,
  ) {
    super('statuspage', settings, [options.token], deps);
  }

  /** One incident resource: every update in order. */
  protected override orderKey(): string {
    return 'incident';
  }

  protected override request(event: NotificationEvent, message: NotificationMessage): HttpRequestSpec {
    return {
      method: this.options.method,
      url: this.options.url,
      headers: { authorization: `Bearer ${this.options.token}` },
      body: { status: this.options.status[event.type], message: renderTemplate(this.options.messages[event.type], message) },
    };
  }
}
