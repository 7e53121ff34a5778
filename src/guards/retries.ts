import { seconds, type Guard } from './guard.js';

/** 9. After maximumRetries attempts within retryWindow the target needs a human: escalate. */
export const retriesGuard: Guard = {
  name: 'retries_exhausted',
  check({ target, state, now, policy }) {
    const since = now - policy.retryWindowMs;
    const attempts = state.attemptsSince(target!, since);
    if (attempts < policy.maximumRetries) return undefined;
    // Escalate once per exhaustion: again only after a newer attempt was made.
    const escalated = state.lastEscalation(target!, 'retries_exhausted');
    const last = state.lastRollbackAt(target!);
    const alreadyEscalated = escalated !== undefined && last !== undefined && escalated.at >= last;
    return {
      decision: 'retries_exhausted',
      reason: `${attempts} rollback attempts on ${target!.namespace}/${target!.name} within ${seconds(policy.retryWindowMs)} (maximumRetries ${policy.maximumRetries}); escalated to operators`,
      escalate: alreadyEscalated ? undefined : 'retries_exhausted',
    };
  },
};
