/** Which targets are cooling down now, from the in-memory index (for the API and the gauge). */
import type { Config } from '../config/load.js';
import type { StateIndex } from '../store/state-index.js';

export interface CooldownView {
  namespace: string;
  name: string;
  lastRollbackAt: string;
  endsAt: string;
  remainingSeconds: number;
  attemptsInRetryWindow: number;
  retriesExhausted: boolean;
}

export function activeCooldowns(state: StateIndex, policy: Config['rollback'], now: number): CooldownView[] {
  // Per-trigger cooldowns can be longer than the global one; the view uses the global period.
  const out: CooldownView[] = [];
  for (const [key, at] of state.recentTargets(now - Math.max(policy.cooldownMs, policy.retryWindowMs))) {
    const [namespace = '', name = ''] = key.split('/');
    const target = { namespace, name };
    const attempts = state.attemptsSince(target, now - policy.retryWindowMs);
    const ends = at + policy.cooldownMs;
    const exhausted = attempts >= policy.maximumRetries;
    if (ends <= now && !exhausted) continue;
    out.push({
      namespace,
      name,
      lastRollbackAt: new Date(at).toISOString(),
      endsAt: new Date(ends).toISOString(),
      remainingSeconds: Math.max(0, Math.ceil((ends - now) / 1000)),
      attemptsInRetryWindow: attempts,
      retriesExhausted: exhausted,
    });
  }
  return out;
}
