import { iso, type Guard } from './guard.js';

/** 7. One writer per target: no rollback while another holds any of the objects it would change. */
export const inProgressGuard: Guard = {
  name: 'in_progress',
  check({ target, objects, state }) {
    const running = state.runningOn(objects!);
    if (!running) return undefined;
    const same = running.target.namespace === target!.namespace && running.target.name === target!.name;
    return {
      decision: 'in_progress',
      reason: same
        ? `rollback ${running.id} of ${target!.namespace}/${target!.name} is running (since ${iso(running.startedAt)})`
        : `rollback ${running.id} of ${running.target.namespace}/${running.target.name} is running (since ${iso(running.startedAt)}) and changes the same objects as ${target!.namespace}/${target!.name}`,
    };
  },
};
