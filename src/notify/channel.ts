/**
 * What the HTTP channels share: the event subscription (and whether shadow events go
 * out), the message built once by message.ts, and ordered, retried delivery (http.ts).
 * A channel file only says how its service wants the message shaped.
 */
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../clock.js';
import { targetKey } from '../model.js';
import { Delivery, type DeliveryPolicy, type FetchLike, type HttpRequestSpec } from './http.js';
import { describeEvent, isDryRunEvent, type NotificationMessage } from './message.js';
import { NOTIFICATION_TYPES, type NotificationEvent, type NotificationType, type SubscribingNotifier } from './notifier.js';

export interface ChannelSettings {
  events: ReadonlySet<NotificationType>;
  /** Send events about dry-run (shadow) rollbacks too. */
  includeDryRun: boolean;
  policy: DeliveryPolicy;
}

export interface ChannelDeps {
  log: Logger;
  clock?: Clock;
  /** Tests may substitute; default Node's global fetch. */
  fetch?: FetchLike;
  /** The service runs in dry-run mode: every event is a shadow one. */
  serviceDryRun?: boolean;
  /** The receiver's external base URL, for incident-report links. */
  receiverUrl?: string;
}

export abstract class HttpChannel implements SubscribingNotifier {
  protected readonly delivery: Delivery;
  protected readonly clock: Clock;

  protected constructor(
    readonly channel: string,
    protected readonly settings: ChannelSettings,
    secrets: readonly string[],
    protected readonly deps: ChannelDeps,
  ) {
    this.clock = deps.clock ?? systemClock;
    this.delivery = new Delivery({ channel, policy: settings.policy, secrets, log: deps.log, fetch: deps.fetch });
  }

  accepts(event: NotificationEvent): boolean {
    if (!this.settings.events.has(event.type)) return false;
    if (!this.settings.includeDryRun && isDryRunEvent(event, this.deps.serviceDryRun)) return false;
    return this.wants(event);
  }

  async send(event: NotificationEvent): Promise<void> {
    if (!this.accepts(event)) return;
    const message = describeEvent(event, { receiverUrl: this.deps.receiverUrl, serviceDryRun: this.deps.serviceDryRun });
    await this.delivery.send(this.orderKey(event, message), this.request(event, message), {
      event: event.type,
      ...(message.rollbackId ? { rollbackId: message.rollbackId } : {}),
    });
  }

  /** A one-line, secret-free description for the startup log. */
  describe(): string {
    const events = NOTIFICATION_TYPES.every((t) => this.settings.events.has(t)) ? 'all events' : [...this.settings.events].join(', ');
    const extra = this.details();
    return `${this.channel} (${events}${this.settings.includeDryRun ? '' : '; not for dry runs'}${extra ? `; ${extra}` : ''})`;
  }

  /** Channel-specific filtering beyond the event type. */
  protected wants(_event: NotificationEvent): boolean {
    return true;
  }

  /** Deliveries with the same key are sent in order; default: per workload. */
  protected orderKey(_event: NotificationEvent, message: NotificationMessage): string {
    return message.target ? targetKey(message.target) : '-';
  }

  /** Secret-free extra words for describe(). */
  protected details(): string {
    return '';
  }

  protected abstract request(event: NotificationEvent, message: NotificationMessage): HttpRequestSpec;
}
