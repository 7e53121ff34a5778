import type { Guard } from './guard.js';

/** 7. One rollback per target at a time. */
export const inProgressGuard: Guard = {
  name: 'in_progress',
  check({ target, state }) {
    if (!state.isRunning(target!)) return undefined;
    return { decision: 'in_progress', reason: `a rollback of ${target!.namespace}/${target!.name} is running now` };
  },
};
