import { iso, seconds, type Guard } from './guard.js';

/** 8. A target rolled back recently is left alone for cooldownPeriod. */
export const cooldownGuard: Guard = {
  name: 'cooldown',
  check({ target, intent, state, now, policy }) {
    const last = state.lastRollbackAt(target!);
    const period = intent!.trigger.cooldownMs ?? policy.cooldownMs;
    if (last === undefined || now - last >= period) return undefined;
    return {
      decision: 'cooldown',
      reason: `${target!.namespace}/${target!.name} was rolled back at ${iso(last)}; cooldown of ${seconds(period)} ends at ${iso(last + period)}`,
    };
  },
};
