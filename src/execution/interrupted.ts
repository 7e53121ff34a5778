/** A rollback stopped at a safe point by shutdown: it stays `running` on record and resumes at the next start. */
export class InterruptedError extends Error {
  constructor() {
    super('stopped at a safe point by shutdown; resumed at the next start');
  }
}
