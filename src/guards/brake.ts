import { iso, seconds, type Guard } from './guard.js';

/**
 * 10. The global brake: brake.max rollbacks across all targets within brake.window trips
 * it once; it then holds for a whole window, whatever the count does meanwhile.
 */
export const brakeGuard: Guard = {
  name: 'rate_limited',
  check({ state, now, policy }) {
    const { max, windowMs } = policy.brake;
    const tripped = state.brakeTrippedAt();
    if (tripped !== undefined && now < tripped + windowMs) {
      return { decision: 'rate_limited', reason: `global brake tripped at ${iso(tripped)}; holds until ${iso(tripped + windowMs)}` };
    }
    const recent = state.rollbacksSince(now - windowMs);
    if (recent < max) return undefined;
    return {
      decision: 'rate_limited',
      reason: `global brake tripped: ${recent} automatic rollbacks within ${seconds(windowMs)} (brake.max ${max}); holds until ${iso(now + windowMs)}`,
      tripBrake: true,
    };
  },
};
