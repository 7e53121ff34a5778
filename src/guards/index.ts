/** The guards of SPEC §1, in the order they apply (the first verdict wins), and which of them each kind of request meets. */
import type { RollbackKind } from '../model.js';
import { actAfterGuard } from './act-after.js';
import { brakeGuard } from './brake.js';
import { cooldownGuard } from './cooldown.js';
import { destinationGuard } from './destination.js';
import { disabledGuard } from './disabled.js';
import { duplicateGuard } from './duplicate.js';
import { frozenGuard } from './frozen.js';
import { gitopsGuard } from './gitops.js';
import type { Guard } from './guard.js';
import { inProgressGuard } from './in-progress.js';
import { noMatchGuard } from './no-match.js';
import { notAllowedGuard } from './not-allowed.js';
import { resolvedGuard } from './resolved.js';
import { retriesGuard } from './retries.js';
import { revisionAgeGuard } from './revision-age.js';
import { silencedGuard } from './silenced.js';
import { staleGuard } from './stale.js';

/** Every guard, for alerts. */
export const ALERT_GUARDS: readonly Guard[] = [
  resolvedGuard,
  duplicateGuard,
  noMatchGuard,
  disabledGuard,
  notAllowedGuard,
  frozenGuard,
  silencedGuard,
  inProgressGuard,
  cooldownGuard,
  retriesGuard,
  brakeGuard,
  staleGuard,
  revisionAgeGuard,
  gitopsGuard,
  destinationGuard,
  actAfterGuard,
];

/**
 * Operator requests by kind. `automatic` (the seed's `--automatic` script) meets the same
 * opt-in, freeze, one-writer, cooldown, retry, brake, stale and destination rules as
 * alerts; `manual` has its pre-rollback validation and destination checked; `emergency`
 * skips validation but still never runs beside another rollback of the same objects. All
 * are refused when a GitOps object that would undo them cannot be paused.
 */
export const OPERATOR_GUARDS: Readonly<Record<RollbackKind, readonly Guard[]>> = {
  automatic: [notAllowedGuard, frozenGuard, inProgressGuard, cooldownGuard, retriesGuard, brakeGuard, staleGuard, gitopsGuard, destinationGuard],
  manual: [inProgressGuard, gitopsGuard, destinationGuard],
  emergency: [inProgressGuard, gitopsGuard, destinationGuard],
};
