/** The guards of SPEC §1, in the order they apply; the first verdict wins. */
import { actAfterGuard } from './act-after.js';
import { brakeGuard } from './brake.js';
import { cooldownGuard } from './cooldown.js';
import { disabledGuard } from './disabled.js';
import { duplicateGuard } from './duplicate.js';
import { frozenGuard } from './frozen.js';
import type { Guard, GuardInput, Verdict } from './guard.js';
import { inProgressGuard } from './in-progress.js';
import { noMatchGuard } from './no-match.js';
import { notAllowedGuard } from './not-allowed.js';
import { resolvedGuard } from './resolved.js';
import { retriesGuard } from './retries.js';
import { staleGuard } from './stale.js';
import { validationGuard } from './validation.js';

export const GUARDS: readonly Guard[] = [
  resolvedGuard,
  duplicateGuard,
  noMatchGuard,
  disabledGuard,
  notAllowedGuard,
  frozenGuard,
  inProgressGuard,
  cooldownGuard,
  retriesGuard,
  brakeGuard,
  staleGuard,
  validationGuard,
  actAfterGuard,
];

/**
 * The guards an operator's `--automatic` rollback (the seed's automation script) still
 * meets: the same freeze, one-at-a-time, cooldown, retry and brake rules as alerts.
 */
const SCRIPTED_GUARDS: readonly Guard[] = [frozenGuard, inProgressGuard, cooldownGuard, retriesGuard, brakeGuard];

export function scriptedRollbackVerdict(input: Omit<GuardInput, 'alert' | 'intent' | 'cluster' | 'dryRun'>): Verdict | undefined {
  const intent = { trigger: { name: 'operator', matchers: [], actAfterMs: 0, automatic: true } } as unknown as GuardInput['intent'];
  for (const guard of SCRIPTED_GUARDS) {
    const verdict = guard.check({ ...input, intent, alert: undefined as never, cluster: null, dryRun: false });
    if (verdict) return verdict;
  }
  return undefined;
}
