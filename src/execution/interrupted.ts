/** A rollback stopped at a safe point by shutdown: it stays `running` on record and resumes at the next start. */
export class InterruptedError extends Error {
  constructor() {
    super('stopped at a safe point by shutdown; resumed at the next start');
  }
}

/** Another replica took the rollback over (its Leases expired here): this one stops acting on it. */
export class OwnershipLostError extends Error {
  constructor() {
    super('its Leases were taken over by another replica; this replica stopped acting on it');
  }
}
