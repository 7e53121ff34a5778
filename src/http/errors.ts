/**
 * What an error thrown while handling a request answers: the client's own mistakes are
 * 4xx (malformed percent-encoding in a path is a 400, not a crash), an unavailable store
 * or cluster is 503 (retry later), and anything else is a bug: 500, logged, and the
 * process keeps serving.
 */
import type { NextFunction, Request, Response } from 'express';
import { StoreUnavailableError } from '../dispatch/dispatcher.js';
import { ClusterUnavailableError } from '../execution/executor.js';

export interface ErrorAnswer {
  status: number;
  message: string;
  /** A bug: log it with its stack. */
  internal: boolean;
}

export function answerFor(err: unknown): ErrorAnswer {
  if (err instanceof StoreUnavailableError || err instanceof ClusterUnavailableError) return { status: 503, message: err.message, internal: false };
  const status = (err as { status?: unknown } | null)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const message = err instanceof URIError || /URI/.test((err as Error).message) ? 'malformed percent-encoding in the request path' : (err as Error).message;
    return { status, message, internal: false };
  }
  return { status: 500, message: 'internal error', internal: true };
}

/**
 * The app's last error handler. The answer is JSON even when the failing route had
 * already chosen another type (the status page sets text/html before it renders).
 */
export function answerError(err: Error, req: Request, res: Response, _next: NextFunction): void {
  const answer = answerFor(err);
  if (answer.internal) req.log.error({ err: err.message, stack: err.stack }, 'unhandled error');
  if (res.headersSent) return;
  if (answer.status === 503) res.setHeader('Retry-After', '5');
  res.status(answer.status).type('application/json').json({ error: answer.message });
}
