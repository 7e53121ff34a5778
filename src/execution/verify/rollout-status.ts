/**
 * `kubectl rollout status` for a Deployment, as a pure function: done, still waiting
 * (with kubectl's message), or failed (progress deadline exceeded).
 */
import type { V1Deployment } from '@kubernetes/client-node';

export type RolloutStatus = { state: 'done' | 'waiting' | 'failed'; message: string };

export function rolloutStatus(d: V1Deployment): RolloutStatus {
  const name = d.metadata?.name ?? '?';
  const status = d.status ?? {};
  if ((d.metadata?.generation ?? 0) > (status.observedGeneration ?? 0)) {
    return { state: 'waiting', message: 'waiting for deployment spec update to be observed' };
  }
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return { state: 'failed', message: `deployment "${name}" exceeded its progress deadline` };
  }
  const want = d.spec?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  const replicas = status.replicas ?? 0;
  const available = status.availableReplicas ?? 0;
  if (updated < want) return { state: 'waiting', message: `${updated} out of ${want} new replicas have been updated` };
  if (replicas > updated) return { state: 'waiting', message: `${replicas - updated} old replicas are pending termination` };
  if (available < updated) return { state: 'waiting', message: `${available} of ${updated} updated replicas are available` };
  return { state: 'done', message: `deployment "${name}" successfully rolled out` };
}
