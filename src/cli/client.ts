/** A small HTTP client for the commands that talk to a running receiver. */
import { EXIT, exitCodeForStatus } from './exit-codes.js';
import { CliError } from './fail.js';

export async function callReceiver(url: string, init: RequestInit = {}): Promise<unknown> {
  const token = process.env.ROLLBACK_OPERATOR_TOKEN;
  const headers = new Headers(init.headers);
  if (token) headers.set('Authorization', `Bearer ${token}`);
  let res: Response;
  try {
    res = await fetch(url, { ...init, headers, signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
    throw new CliError(`cannot reach ${url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`, EXIT.unavailable);
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text for the message
  }
  if (!res.ok) {
    const detail = typeof body === 'object' && body !== null ? JSON.stringify(body, null, 2) : text;
    throw new CliError(`${init.method ?? 'GET'} ${url} answered ${res.status}: ${detail}`, exitCodeForStatus(res.status));
  }
  return body;
}

/** POSTs a JSON body to a path of the receiver. */
export function postToReceiver(base: string, path: string, body: unknown): Promise<unknown> {
  return callReceiver(new URL(path, base).toString(), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
}
