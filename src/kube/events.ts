/**
 * Kubernetes Events on the rolled-back object, so `kubectl describe` tells the story:
 * Normal RollbackStarted / RollbackSucceeded, Warning RollbackFailed / RollbackEscalated.
 * Best effort: an event that cannot be written never fails a rollback.
 */
import type { Inspection } from '../execution/strategies/strategy.js';
import type { KubeClient } from './client.js';
import { paths } from './paths.js';

export type EventReason = 'RollbackStarted' | 'RollbackResumed' | 'RollbackSucceeded' | 'RollbackFailed' | 'RollbackEscalated' | 'GitOpsPaused' | 'GitOpsResumed';

export async function recordEvent(
  kube: KubeClient,
  object: Inspection['object'],
  reason: EventReason,
  message: string,
  now: number,
): Promise<void> {
  const time = new Date(now).toISOString();
  await kube.send({
    method: 'POST',
    path: paths.events(object.namespace),
    body: {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: `${object.name}.`, namespace: object.namespace },
      involvedObject: { apiVersion: object.apiVersion, kind: object.kind, namespace: object.namespace, name: object.name, uid: object.uid },
      reason,
      message: message.slice(0, 1024),
      type: reason === 'RollbackFailed' || reason === 'RollbackEscalated' ? 'Warning' : 'Normal',
      source: { component: 'rollback-receiver' },
      reportingComponent: 'rollback-receiver',
      firstTimestamp: time,
      lastTimestamp: time,
      count: 1,
    },
  });
}
