import { iso, seconds, type Guard } from './guard.js';

/**
 * 12 (deploy correlation). A trigger with `maxRevisionAge` acts only on an alert about a
 * recent deploy: the current revision must have gone out less than that long before the
 * alert started. An older revision is not what broke, so rolling it back would undo an
 * unrelated change; without a known deploy time the receiver refuses rather than guess.
 */
export const revisionAgeGuard: Guard = {
  name: 'revision_age',
  check({ intent, evidenceSince, target, strategy, cluster }) {
    const limit = intent?.trigger.maxRevisionAgeMs;
    if (limit === undefined || !cluster || evidenceSince === undefined) return undefined;
    const { revisionAt, changedBy } = cluster.facts(target!, strategy!);
    const what = `the current revision of ${target!.namespace}/${target!.name}`;
    if (revisionAt === undefined) {
      return { decision: 'refused', notify: true, reason: `trigger ${intent!.trigger.name} has maxRevisionAge ${seconds(limit)}, but when ${what} went out is unknown` };
    }
    const age = evidenceSince - revisionAt;
    if (age < limit) return undefined;
    return {
      decision: 'refused',
      notify: true,
      reason: `${what} went out at ${iso(revisionAt)}${changedBy ? ` (by ${changedBy})` : ''}, ${seconds(age)} before the alert started at ${iso(evidenceSince)}: older than maxRevisionAge ${seconds(limit)} of trigger ${intent!.trigger.name}, so the alert is not about a recent deploy`,
    };
  },
};
