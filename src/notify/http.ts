/**
 * Delivery for the HTTP channels: one request, retried with exponential backoff (p-retry)
 * on network errors, timeouts, 408, 429 and 5xx, honouring Retry-After (capped at the
 * maximum backoff); other answers fail at once. Deliveries of one ordering key run one
 * after another, so a `resolve` never overtakes its `trigger`.
 *
 * Secrets (webhook URLs, keys, tokens) never reach a log line or an error message: the
 * URL is never rendered, fetch's own errors are replaced by their code, and response
 * snippets are scrubbed of every secret the channel holds.
 */
import pRetry, { AbortError } from 'p-retry';
import type { Logger } from 'pino';
import { VERSION } from '../version.js';

export interface DeliveryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  minBackoffMs: number;
  maxBackoffMs: number;
  /** Per attempt. */
  timeoutMs: number;
}

export interface HttpRequestSpec {
  method: 'POST' | 'PUT' | 'PATCH';
  url: string;
  headers?: Record<string, string>;
  body: unknown;
}

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** The final failure of one delivery; its message is safe to log. */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly attempts: number,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

/** One failed attempt that may be retried. */
class AttemptError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'AttemptError';
  }
}

const SNIPPET = 200;

/** Replaces every secret (and a URL secret's path, which servers like to echo) in `text`. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    out = out.split(secret).join('[redacted]');
  }
  return out;
}

/** The strings to scrub for a secret: itself, and for a URL its path+query and decoded forms. */
export function secretVariants(secret: string): string[] {
  const out = new Set([secret]);
  try {
    const url = new URL(secret);
    const tail = `${url.pathname}${url.search}`;
    if (tail.length > 1) out.add(tail);
    out.add(url.toString());
  } catch {
    // not a URL
  }
  try {
    out.add(decodeURIComponent(secret));
    out.add(encodeURIComponent(secret));
  } catch {
    // not decodable
  }
  return [...out].sort((a, b) => b.length - a.length);
}

/** Retry-After: delta-seconds or an HTTP date; undefined when absent or unparseable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** A safe description of what fetch threw (its message may carry the URL). */
function describeFetchError(err: unknown, timeoutMs: number): { message: string; retry: boolean } {
  const e = err as { name?: string; message?: string; cause?: { code?: string; name?: string } };
  if (e?.name === 'TimeoutError') return { message: `timed out after ${timeoutMs} ms`, retry: true };
  if (e?.name === 'AbortError') return { message: 'request aborted', retry: true };
  if (e?.name === 'TypeError' && (e.message === 'fetch failed' || e.message === 'terminated')) {
    const code = e.cause?.code ?? e.cause?.name;
    return { message: `network error${code ? ` (${code})` : ''}`, retry: true };
  }
  return { message: `request could not be sent (${e?.name ?? 'error'}: invalid URL or header)`, retry: false };
}

// Timers stay referenced: a graceful shutdown awaits Notifications.drain(), which must not be cut short by an idle loop.
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface DeliveryResult {
  status: number;
  attempts: number;
}

export interface DeliveryOptions {
  channel: string;
  policy: DeliveryPolicy;
  /** Every secret value the channel holds; scrubbed from anything logged or thrown. */
  secrets: readonly string[];
  log: Logger;
  fetch?: FetchLike;
}

/** One channel's outbox: ordered per key, retried per request. */
export class Delivery {
  private readonly tails = new Map<string, Promise<unknown>>();
  private readonly secrets: string[];
  private readonly fetch: FetchLike;

  constructor(private readonly opts: DeliveryOptions) {
    this.secrets = [...new Set(opts.secrets.flatMap(secretVariants))].sort((a, b) => b.length - a.length);
    this.fetch = opts.fetch ?? ((input, init) => fetch(input, init));
  }

  /** Sends after every earlier delivery with the same key has settled. */
  send(key: string, request: HttpRequestSpec, context: Record<string, unknown> = {}): Promise<DeliveryResult> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const run = previous.then(
      () => this.deliver(request, context),
      () => this.deliver(request, context),
    );
    const tail = run.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return run;
  }

  private safe(text: string): string {
    return scrub(text, this.secrets);
  }

  private async attempt(request: HttpRequestSpec): Promise<number> {
    const { timeoutMs } = this.opts.policy;
    let res: Response;
    try {
      res = await this.fetch(request.url, {
        method: request.method,
        headers: { 'content-type': 'application/json', 'user-agent': `rollback-receiver/${VERSION}`, ...request.headers },
        body: JSON.stringify(request.body),
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const { message, retry } = describeFetchError(err, timeoutMs);
      throw retry ? new AttemptError(message) : new AbortError(new AttemptError(message));
    }
    let body = '';
    try {
      body = await res.text();
    } catch {
      // the status is what matters
    }
    if (res.ok) return res.status;
    const snippet = body.trim() ? `: ${this.safe(body.trim().replace(/\s+/g, ' ')).slice(0, SNIPPET)}` : '';
    const status = res.status;
    if (status >= 300 && status < 400) {
      throw new AbortError(new AttemptError(`HTTP ${status} redirect, not followed (check the URL)`, status));
    }
    if (status === 408 || status === 429 || status >= 500) {
      throw new AttemptError(`HTTP ${status}${snippet}`, status, parseRetryAfter(res.headers.get('retry-after')));
    }
    throw new AbortError(new AttemptError(`HTTP ${status} (not retried)${snippet}`, status));
  }

  private async deliver(request: HttpRequestSpec, context: Record<string, unknown>): Promise<DeliveryResult> {
    const { channel, policy, log } = this.opts;
    let attempts = 0;
    try {
      const status = await pRetry(
        (n) => {
          attempts = n;
          return this.attempt(request);
        },
        {
          retries: Math.max(0, policy.attempts - 1),
          factor: 2,
          minTimeout: policy.minBackoffMs,
          maxTimeout: policy.maxBackoffMs,
          randomize: false,
          onFailedAttempt: async ({ error, attemptNumber, retriesLeft, retriesConsumed }) => {
            if (retriesLeft <= 0) return;
            // p-retry waits this long next; Retry-After may ask for more (capped at the maximum backoff).
            const backoff = Math.min(policy.minBackoffMs * 2 ** retriesConsumed, policy.maxBackoffMs);
            const asked = error instanceof AttemptError ? error.retryAfterMs : undefined;
            const wait = asked === undefined ? backoff : Math.max(backoff, Math.min(asked, policy.maxBackoffMs));
            log.info(
              { channel, ...context, attempt: attemptNumber, retryInMs: wait, err: this.safe(error.message) },
              'notification attempt failed; retrying',
            );
            if (wait > backoff) await sleep(wait - backoff);
          },
        },
      );
      log.debug({ channel, ...context, status, attempts }, 'notification delivered');
      return { status, attempts };
    } catch (err) {
      const e = err as Partial<AttemptError>;
      const message = this.safe(e.message ?? String(err));
      throw new DeliveryError(`${channel}: ${attempts > 1 ? `gave up after ${attempts} attempts: ` : ''}${message}`, attempts, e.status);
    }
  }
}
