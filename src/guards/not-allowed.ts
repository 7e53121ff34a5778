import type { Guard } from './guard.js';

/** 5. Only allowed namespaces, valid names, known strategies and opted-in workloads. */
export const notAllowedGuard: Guard = {
  name: 'not_allowed',
  check({ target, strategy, targetProblem, cluster, policy }) {
    if (targetProblem) return { decision: 'not_allowed', reason: targetProblem };
    // Without the opt-in requirement an unreadable workload is left to validation (refused).
    if (!cluster || !policy.requireOptIn) return undefined;
    const facts = cluster.facts(target!, strategy!);
    if (facts.unreadable) return { decision: 'not_allowed', reason: `cannot check the opt-in annotation: ${facts.unreadable}` };
    if (facts.optedIn) return undefined;
    return {
      decision: 'not_allowed',
      reason: `${facts.optInObject} lacks the opt-in annotation rollback-receiver.io/enabled: "true"`,
    };
  },
};
