/** The guards of SPEC §1, in the order they apply; the first verdict wins. */
import { actAfterGuard } from './act-after.js';
import { brakeGuard } from './brake.js';
import { cooldownGuard } from './cooldown.js';
import { disabledGuard } from './disabled.js';
import { duplicateGuard } from './duplicate.js';
import { frozenGuard } from './frozen.js';
import type { Guard } from './guard.js';
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
