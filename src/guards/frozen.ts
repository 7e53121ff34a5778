import { iso, type Guard } from './guard.js';

/** 6. The operators' freeze switch pauses every automatic rollback. */
export const frozenGuard: Guard = {
  name: 'frozen',
  check({ state }) {
    const freeze = state.freeze();
    if (!freeze) return undefined;
    return { decision: 'frozen', reason: `automatic rollbacks frozen since ${iso(freeze.since)}${freeze.reason ? `: ${freeze.reason}` : ''}` };
  },
};
