import type { Guard } from './guard.js';

/** 12. Pre-rollback validation: a previous version exists, the workload is not paused, … */
export const validationGuard: Guard = {
  name: 'refused',
  check({ target, strategy, cluster }) {
    if (!cluster) return undefined;
    const { validationProblem } = cluster.facts(target!, strategy!);
    return validationProblem ? { decision: 'refused', reason: validationProblem } : undefined;
  },
};
