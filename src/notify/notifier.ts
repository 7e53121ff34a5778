/**
 * Notifications: one interface, one file per channel. A failing channel never blocks
 * or fails a decision or a rollback; every attempt is counted.
 */
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.js';
import type { Target } from '../model.js';
import type { DecisionRecord, RollbackRecord } from '../store/records.js';

export type NotificationEvent =
  | { type: 'rollback_started'; rollback: RollbackRecord; decision?: DecisionRecord }
  | { type: 'escalated'; target: Target; reason: string; detail: string; decision?: DecisionRecord }
  | { type: 'brake_tripped'; detail: string; decision: DecisionRecord }
  | { type: 'notify_only'; decision: DecisionRecord };

export interface Notifier {
  readonly channel: string;
  send(event: NotificationEvent): Promise<void>;
}

/** Fans an event out to every channel, in the background. */
export class Notifications {
  private readonly inflight = new Set<Promise<void>>();

  constructor(
    private readonly channels: readonly Notifier[],
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  emit(event: NotificationEvent): void {
    for (const channel of this.channels) {
      const p = channel
        .send(event)
        .then(() => this.metrics.notifications.inc({ channel: channel.channel, result: 'success' }))
        .catch((err: unknown) => {
          this.metrics.notifications.inc({ channel: channel.channel, result: 'failed' });
          this.log.warn({ channel: channel.channel, event: event.type, err: (err as Error).message }, 'notification failed');
        })
        .finally(() => this.inflight.delete(p));
      this.inflight.add(p);
    }
  }

  /** Waits for notifications already under way (graceful shutdown). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
  }
}
