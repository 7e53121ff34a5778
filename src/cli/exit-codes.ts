/**
 * The exit codes of every `rollback-receiver` command, which scripts rely on; docs/cli.md
 * is generated from this table.
 */
export const EXIT = {
  ok: 0,
  unhealthy: 1,
  usage: 2,
  unavailable: 3,
  refused: 4,
  unauthorized: 5,
  internal: 70,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_MEANINGS: Record<keyof typeof EXIT, string> = {
  ok: 'Success. `monitor-deployment`: the window ended recovered.',
  unhealthy: '`monitor-deployment`: the window ended breached, escalated or stopped — the workload is not healthy.',
  usage:
    'Bad input, nothing was done: an unknown command or flag, a bad flag value, an unreadable or invalid file (config, payload), or the receiver answered 400/404/413/415 naming the problem.',
  unavailable: 'The receiver could not be reached (connection refused, DNS, timeout), answered 5xx (store down, no cluster), or `serve` could not listen. Retrying later may help.',
  refused: 'The receiver declined the request as things stand (409: a rollback of the target is running, a guard holds an automatic request, dry-run mode; 422: pre-rollback validation failed). Nothing was changed.',
  unauthorized: 'The receiver answered 401 or 403: the operator token is missing or wrong (`ROLLBACK_OPERATOR_TOKEN`), or none is configured on the receiver.',
  internal: 'An unexpected error: a bug. The message carries the stack; please report it.',
};

/** The exit code for a receiver's HTTP error answer. */
export function exitCodeForStatus(status: number): ExitCode {
  if (status === 401 || status === 403) return EXIT.unauthorized;
  if (status === 409 || status === 422) return EXIT.refused;
  if (status >= 500) return EXIT.unavailable;
  return EXIT.usage;
}
