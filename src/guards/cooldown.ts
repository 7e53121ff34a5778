import { iso, seconds, type Guard } from './guard.js';

/** 8. A target is left alone for cooldownPeriod after its last rollback ended (verification included). */
export const cooldownGuard: Guard = {
  name: 'cooldown',
  check({ target, intent, state, now, policy }) {
    const ended = state.lastRollbackEnd(target!);
    const period = intent?.trigger.cooldownMs ?? policy.cooldownMs;
    if (ended === undefined || now - ended >= period) return undefined;
    return {
      decision: 'cooldown',
      reason: `the last rollback of ${target!.namespace}/${target!.name} ended at ${iso(ended)}; cooldown of ${seconds(period)} ends at ${iso(ended + period)}`,
    };
  },
};
