import type { Guard } from './guard.js';

/**
 * 12a. An Argo CD or Flux object manages the target, and the receiver may not read or pause
 * it: refused before anything is written, since GitOps would undo the rollback.
 */
export const gitopsGuard: Guard = {
  name: 'gitops',
  check({ target, strategy, cluster }) {
    if (!cluster || !target || !strategy) return undefined;
    const problem = cluster.facts(target, strategy).gitops?.problem;
    return problem ? { decision: 'refused', reason: `GitOps pause not possible: ${problem}` } : undefined;
  },
};
