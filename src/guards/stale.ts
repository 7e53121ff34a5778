import { iso, type Guard } from './guard.js';

/** 11. Someone already deployed or rolled back after the alert started: the alert is about the past. */
export const staleGuard: Guard = {
  name: 'stale',
  check({ alert, target, strategy, cluster }) {
    if (!cluster) return undefined;
    const { revisionAt } = cluster.facts(target!, strategy!);
    if (revisionAt === undefined || revisionAt <= alert.startsAtMs) return undefined;
    return {
      decision: 'stale',
      reason: `the current revision of ${target!.namespace}/${target!.name} dates from ${iso(revisionAt)}, after the alert started at ${iso(alert.startsAtMs)}`,
    };
  },
};
