/** Polling helpers for tests against the envtest cluster (no fixed sleeps as assertions). */

export interface WaitOptions {
  /** Poll interval in ms. Default 100. */
  intervalMs?: number;
  /** Shown in the timeout error. */
  description?: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function describe(v: unknown): string {
  if (v instanceof Error) return v.message;
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 2000 ? `${s.slice(0, 2000)}...` : s;
  } catch {
    return String(v);
  }
}

/**
 * Polls `fn` until it returns a truthy value (returned) or `timeoutMs` passes (throws,
 * quoting the last value or error). A throw from `fn` counts as "not yet".
 */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  timeoutMs = 30_000,
  opts: WaitOptions = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = undefined;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `waitFor${opts.description ? ` (${opts.description})` : ''} timed out after ${timeoutMs} ms; last: ${describe(last)}`,
      );
    }
    await sleep(opts.intervalMs ?? 100);
  }
}

/**
 * Asserts that `fn` keeps returning truthy for `durationMs` (like gomega's Consistently):
 * throws as soon as it returns falsy or throws.
 */
export async function holdsFor<T>(
  fn: () => T | Promise<T>,
  durationMs: number,
  opts: WaitOptions = {},
): Promise<void> {
  const end = Date.now() + durationMs;
  for (;;) {
    let v: unknown;
    try {
      v = await fn();
    } catch (e) {
      v = e;
    }
    if (!v || v instanceof Error) {
      throw new Error(`holdsFor${opts.description ? ` (${opts.description})` : ''} failed: ${describe(v)}`);
    }
    if (Date.now() >= end) return;
    await sleep(opts.intervalMs ?? 200);
  }
}
