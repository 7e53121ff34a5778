/** Which targets are cooling down now, from the in-memory index (for the API and the gauge). */
import type { Config } from '../config/load.js';
import type { StateIndex } from '../store/state-index.js';

export interface CooldownView {
  namespace: string;
  name: string;
  lastRollbackAt: string;
  /** When the last rollback ended (verification included): the cooldown counts from here. */
  lastRollbackEndedAt: string | null;
  endsAt: string;
  remainingSeconds: number;
  attemptsInRetryWindow: number;
  retriesExhausted: boolean;
}

export function activeCooldowns(state: StateIndex, policy: Config['rollback'], now: number): CooldownView[] {
  // Per-trigger cooldowns can be longer than the global one; the view uses the global period.
  const out: CooldownView[] = [];
  // A rollback may have started before the horizon and ended within the cooldown: look back by the execution timeout too.
  for (const [key, at] of state.recentTargets(now - Math.max(policy.cooldownMs + policy.executionTimeoutMs, policy.retryWindowMs))) {
    const [namespace = '', name = ''] = key.split('/');
    const target = { namespace, name };
    const attempts = state.attemptsSince(target, now - policy.retryWindowMs);
    const ended = state.lastRollbackEnd(target);
    // Still running: its cooldown has not begun (the in_progress guard holds the target).
    const ends = ended === undefined ? now + policy.cooldownMs : ended + policy.cooldownMs;
    const exhausted = attempts >= policy.maximumRetries;
    if (ends <= now && !exhausted) continue;
    out.push({
      namespace,
      name,
      lastRollbackAt: new Date(at).toISOString(),
      lastRollbackEndedAt: ended === undefined ? null : new Date(ended).toISOString(),
      endsAt: new Date(ends).toISOString(),
      remainingSeconds: Math.max(0, Math.ceil((ends - now) / 1000)),
      attemptsInRetryWindow: attempts,
      retriesExhausted: exhausted,
    });
  }
  return out;
}
