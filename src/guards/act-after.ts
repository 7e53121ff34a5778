import { iso, seconds, type Guard } from './guard.js';

/** 13. Performance triggers wait actAfter (seed: "2 minutes before action") from first sight. */
export const actAfterGuard: Guard = {
  name: 'pending',
  check({ intent, now, redecide }) {
    const delay = intent!.trigger.actAfterMs;
    if (redecide || delay <= 0) return undefined;
    return {
      decision: 'pending',
      reason: `trigger ${intent!.trigger.name} acts after ${seconds(delay)}: decided again at ${iso(now + delay)} unless resolved first`,
    };
  },
};
