/**
 * The last line of defence (SPEC safety invariant 5): an unhandled rejection or an
 * uncaught exception is a bug, but one failure must not take the receiver down in the
 * middle of an incident. It is logged, counted (`rollback_internal_errors_total`, which
 * the shipped rules alert on) and the process keeps serving.
 */
import type { Logger } from 'pino';
import type { Metrics } from './metrics.js';

/** Installs the handlers; returns a function that removes them. */
export function guardProcess(log: Logger, metrics: Metrics): () => void {
  const report = (kind: string) => (err: unknown) => {
    metrics.internalErrors.inc();
    const e = err instanceof Error ? err : new Error(String(err));
    log.error({ err: e.message, stack: e.stack }, `${kind} (a bug): logged and counted; the receiver keeps serving`);
  };
  const onRejection = report('unhandled promise rejection');
  const onException = report('uncaught exception');
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}
