import { dedupKey } from '../model.js';
import { iso, type Guard } from './guard.js';

/** 2. Alertmanager re-sends every group_interval/repeat_interval: decide each alert once. */
export const duplicateGuard: Guard = {
  name: 'duplicate',
  check({ alert, state, redecide }) {
    if (redecide) return undefined;
    const seen = state.decided(dedupKey(alert!));
    if (!seen) return undefined;
    return {
      decision: 'duplicate',
      reason: `already decided at ${iso(seen.at)} as ${seen.decision} (decision ${seen.id}); Alertmanager re-sent it`,
    };
  },
};
