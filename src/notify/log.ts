/** The always-on channel: every notification as a structured log line operators can ship. */
import type { Logger } from 'pino';
import type { NotificationEvent, Notifier } from './notifier.js';

export class LogNotifier implements Notifier {
  readonly channel = 'log';
  constructor(private readonly log: Logger) {}

  async send(event: NotificationEvent): Promise<void> {
    const level = ['escalated', 'brake_tripped', 'rollback_failed', 'window_breached'].includes(event.type) ? 'warn' : 'info';
    this.log[level]({ notification: event.type, ...summary(event) }, `notification: ${event.type}`);
  }
}

function summary(event: NotificationEvent): Record<string, unknown> {
  switch (event.type) {
    case 'rollback_started':
      return { rollbackId: event.rollback.id, target: `${event.rollback.namespace}/${event.rollback.name}`, dryRun: event.rollback.dryRun };
    case 'rollback_succeeded':
    case 'rollback_failed':
    case 'recovered':
      return { rollbackId: event.rollback.id, target: `${event.rollback.namespace}/${event.rollback.name}`, detail: event.detail };
    case 'window_breached':
      return { rollbackId: event.rollback.id, metric: event.metric, value: event.value, threshold: event.threshold };
    case 'escalated':
      return { target: `${event.target.namespace}/${event.target.name}`, reason: event.reason, detail: event.detail };
    case 'brake_tripped':
      return { detail: event.detail };
    case 'notify_only':
      return { trigger: event.decision.trigger, target: `${event.decision.namespace}/${event.decision.name}`, reason: event.decision.reason };
    case 'gitops_resumed':
      return { pause: event.pause.id, rollbackId: event.pause.rollbackId, target: `${event.pause.target.namespace}/${event.pause.target.name}`, detail: event.detail };
  }
}
