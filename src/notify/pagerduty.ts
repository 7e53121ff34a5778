/**
 * PagerDuty Events API v2 (seed: error-rate alerts page). By default a page is triggered
 * when a rollback starts on an `error_rate` trigger and on every escalation, and resolved
 * when the monitoring window ends clean (`recovered`). One incident per rollback: the
 * dedup_key is `rollback-receiver/<rollbackId>` (per target for an escalation without a
 * rollback), so started → escalated → recovered update and close the same incident.
 */
import type { Target } from '../model.js';
import type { HttpRequestSpec } from './http.js';
import { HttpChannel, type ChannelDeps, type ChannelSettings } from './channel.js';
import { eventDecision, eventRollbackId, eventTarget, reportUrl, truncate, type NotificationMessage, type Severity } from './message.js';
import type { NotificationEvent, NotificationType } from './notifier.js';

export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

export interface PagerDutyOptions {
  routingKey: string;
  url: string;
  /** rollback_started pages only for rollbacks started by these triggers; null: every start. */
  startedBy: readonly string[] | null;
  /** Overrides of the message severity, per event type. */
  severity: Partial<Record<NotificationType, Severity>>;
  /** payload.source; default the target `namespace/name`. */
  source?: string;
}

const DEDUP_PREFIX = 'rollback-receiver';

/** Stable per incident: the rollback, else the target, else the alert. */
export function pagerDutyDedupKey(event: NotificationEvent): string {
  const rollbackId = eventRollbackId(event);
  if (rollbackId) return `${DEDUP_PREFIX}/${rollbackId}`;
  if (event.type === 'brake_tripped') return `${DEDUP_PREFIX}/brake`;
  const target: Target | null = eventTarget(event);
  if (target) return `${DEDUP_PREFIX}/${target.namespace}/${target.name}`;
  const d = eventDecision(event);
  return `${DEDUP_PREFIX}/alert/${d?.alert.fingerprint ?? event.type}`;
}

export function pagerDutyAction(event: NotificationEvent): 'trigger' | 'resolve' {
  return event.type === 'recovered' ? 'resolve' : 'trigger';
}

export class PagerDutyNotifier extends HttpChannel {
  constructor(
    private readonly options: PagerDutyOptions,
    settings: ChannelSettings,
    deps: ChannelDeps,
  ) {
    super('pagerduty', settings, [options.routingKey], deps);
  }

  protected override wants(event: NotificationEvent): boolean {
    if (event.type !== 'rollback_started' || this.options.startedBy === null) return true;
    return event.rollback.trigger !== null && this.options.startedBy.includes(event.rollback.trigger);
  }

  /** One incident's events in order, so a resolve never overtakes its trigger. */
  protected override orderKey(event: NotificationEvent): string {
    return pagerDutyDedupKey(event);
  }

  protected override details(): string {
    return this.options.startedBy === null ? '' : `pages on starts by ${this.options.startedBy.join(', ') || 'no trigger'}`;
  }

  protected override request(event: NotificationEvent, message: NotificationMessage): HttpRequestSpec {
    const dedupKey = pagerDutyDedupKey(event);
    const action = pagerDutyAction(event);
    if (action === 'resolve') {
      return { method: 'POST', url: this.options.url, body: { routing_key: this.options.routingKey, event_action: 'resolve', dedup_key: dedupKey } };
    }
    const firstLine = message.text.split('\n')[0];
    const target = message.target;
    const d = eventDecision(event);
    const customDetails: Record<string, unknown> = {
      event: event.type,
      details: message.text,
      ...Object.fromEntries(message.fields.map((f) => [f.name.toLowerCase(), f.value])),
    };
    if (d) {
      customDetails.alert_labels = d.alert.labels;
      if (d.reason) customDetails.decision_reason = d.reason;
    }
    const clientUrl = reportUrl(this.deps.receiverUrl, message.rollbackId) ?? this.deps.receiverUrl;
    return {
      method: 'POST',
      url: this.options.url,
      body: {
        routing_key: this.options.routingKey,
        event_action: 'trigger',
        dedup_key: dedupKey,
        payload: {
          summary: truncate(firstLine ? `${message.title}: ${firstLine}` : message.title, 1024),
          source: this.options.source ?? (target ? `${target.namespace}/${target.name}` : 'rollback-receiver'),
          severity: this.options.severity[event.type] ?? message.severity,
          timestamp: new Date(this.clock.now()).toISOString(),
          ...(target ? { component: target.name, group: target.namespace } : {}),
          class: message.trigger ?? event.type,
          custom_details: customDetails,
        },
        links: message.links.map((l) => ({ href: l.url, text: l.text })),
        client: 'rollback-receiver',
        ...(clientUrl ? { client_url: clientUrl } : {}),
      },
    };
  }
}
