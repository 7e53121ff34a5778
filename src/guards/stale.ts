import { iso, type Guard } from './guard.js';

/** 11. Someone already deployed or rolled back after the evidence began: the alert is about the past. */
export const staleGuard: Guard = {
  name: 'stale',
  check({ evidenceSince, target, strategy, cluster }) {
    if (!cluster || evidenceSince === undefined) return undefined;
    const { revisionAt, changedBy } = cluster.facts(target!, strategy!);
    if (revisionAt === undefined || revisionAt <= evidenceSince) return undefined;
    return {
      decision: 'stale',
      reason: `the current revision of ${target!.namespace}/${target!.name} dates from ${iso(revisionAt)}${changedBy ? ` (by ${changedBy})` : ''}, after the evidence began at ${iso(evidenceSince)}`,
    };
  },
};
