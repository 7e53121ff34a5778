/**
 * Notifications: one interface, one file per channel. A failing channel never blocks
 * or fails a decision or a rollback; every attempt is counted.
 */
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.js';
import type { Target } from '../model.js';
import type { DecisionRecord, GitOpsPauseRecord, RollbackRecord } from '../store/records.js';

/**
 * What channels are told. `decision` is the alert's decision when an alert caused it
 * (it carries the alert, its annotations, generatorURL and Alertmanager's externalURL);
 * `rollback` is the rollback record (its id links to the incident report).
 */
export type NotificationEvent =
  | { type: 'rollback_started'; rollback: RollbackRecord; decision?: DecisionRecord }
  | { type: 'rollback_succeeded'; rollback: RollbackRecord; detail: string; decision?: DecisionRecord }
  | { type: 'rollback_failed'; rollback: RollbackRecord; detail: string; decision?: DecisionRecord }
  | { type: 'escalated'; target: Target; reason: string; detail: string; rollback?: RollbackRecord; decision?: DecisionRecord }
  | { type: 'window_breached'; rollback: RollbackRecord; metric: string; value: number; threshold: number; decision?: DecisionRecord }
  | { type: 'recovered'; rollback: RollbackRecord; detail: string; decision?: DecisionRecord }
  | { type: 'brake_tripped'; detail: string; decision: DecisionRecord }
  | { type: 'notify_only'; decision: DecisionRecord }
  /** A GitOps reconciliation a rollback paused is running again (operator, or its source moved on). */
  | { type: 'gitops_resumed'; pause: GitOpsPauseRecord; detail: string; rollback?: RollbackRecord; decision?: DecisionRecord };

export type NotificationType = NotificationEvent['type'];
export const NOTIFICATION_TYPES: readonly NotificationType[] = [
  'rollback_started',
  'rollback_succeeded',
  'rollback_failed',
  'escalated',
  'window_breached',
  'recovered',
  'brake_tripped',
  'notify_only',
  'gitops_resumed',
];

export interface Notifier {
  readonly channel: string;
  send(event: NotificationEvent): Promise<void>;
}

/**
 * A channel that subscribes to some events only. The fan-out does not hand it (nor count)
 * the others, so `rollback_notifications_total` counts real deliveries only.
 */
export interface SubscribingNotifier extends Notifier {
  accepts(event: NotificationEvent): boolean;
}

function accepts(channel: Notifier, event: NotificationEvent): boolean {
  const subscribing = channel as Partial<SubscribingNotifier>;
  return typeof subscribing.accepts === 'function' ? subscribing.accepts(event) : true;
}

/** Fans an event out to every channel, in the background. */
export class Notifications {
  private readonly inflight = new Set<Promise<void>>();

  constructor(
    private readonly channels: readonly Notifier[],
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    // Start every channel's series at 0, so increase() sees its very first failure.
    for (const c of channels) for (const result of ['success', 'failed']) metrics.notifications.inc({ channel: c.channel, result }, 0);
  }

  emit(event: NotificationEvent): void {
    for (const channel of this.channels) {
      let wanted: boolean;
      try {
        wanted = accepts(channel, event);
      } catch {
        wanted = true; // a broken filter must not lose a notification
      }
      if (!wanted) continue;
      // A channel that throws synchronously still only fails itself.
      const p = new Promise<void>((resolve) => resolve(channel.send(event)))
        .then(() => this.metrics.notifications.inc({ channel: channel.channel, result: 'success' }))
        .catch((err: unknown) => {
          this.metrics.notifications.inc({ channel: channel.channel, result: 'failed' });
          this.log.warn({ channel: channel.channel, event: event.type, err: (err as Error).message }, 'notification failed');
        })
        .finally(() => this.inflight.delete(p));
      this.inflight.add(p);
    }
  }

  /**
   * Waits for notifications already under way (graceful shutdown). Deliveries retry with
   * backoff, so a shutdown can bound the wait: after `timeoutMs` it stops waiting and logs
   * how many were still under way (they are abandoned with the process).
   */
  async drain(timeoutMs?: number): Promise<void> {
    const all = Promise.allSettled([...this.inflight]).then(() => true);
    if (timeoutMs === undefined) {
      await all;
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const done = await Promise.race([all, timeout]);
    clearTimeout(timer);
    if (!done) this.log.warn({ pending: this.inflight.size }, 'shutdown: notifications still being delivered were abandoned');
  }
}
