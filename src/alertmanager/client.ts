/**
 * Alertmanager's API v2, the three calls the receiver makes: list silences, create one,
 * expire one. Credentials as for Prometheus (src/net/endpoint.ts); errors never carry them.
 */
import { endpoint, redact, type EndpointOptions } from '../net/endpoint.js';
import type { Silence, SilenceMatcher } from './silence.js';

export class AlertmanagerError extends Error {
  override readonly name = 'AlertmanagerError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** A silence to create (`POST /api/v2/silences`). */
export interface PostableSilence {
  matchers: SilenceMatcher[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function parseSilence(v: unknown): Silence | undefined {
  if (!isRecord(v) || typeof v.id !== 'string' || !Array.isArray(v.matchers)) return undefined;
  const matchers: SilenceMatcher[] = [];
  for (const m of v.matchers as unknown[]) {
    if (!isRecord(m) || typeof m.name !== 'string' || typeof m.value !== 'string') return undefined;
    matchers.push({ name: m.name, value: m.value, isRegex: m.isRegex === true, isEqual: m.isEqual !== false });
  }
  const state = isRecord(v.status) ? str(v.status.state) : '';
  return { id: v.id, matchers, startsAt: str(v.startsAt), endsAt: str(v.endsAt), createdBy: str(v.createdBy), comment: str(v.comment), state };
}

export class AlertmanagerClient {
  /** The base URL without credentials (safe to log). */
  readonly url: string;
  readonly #authorization: string | undefined;
  readonly #secrets: string[];

  constructor(
    opts: EndpointOptions,
    private readonly timeoutMs: number,
  ) {
    const parsed = endpoint(opts, 'Alertmanager');
    this.url = parsed.url;
    this.#authorization = parsed.authorization;
    this.#secrets = parsed.secrets;
  }

  /** Every silence Alertmanager knows (active, pending and recently expired). */
  async silences(): Promise<Silence[]> {
    const body = await this.call('GET', '/api/v2/silences');
    if (!Array.isArray(body)) throw new AlertmanagerError(`Alertmanager at ${this.url} sent a malformed silence list`);
    return body.map(parseSilence).filter((s): s is Silence => s !== undefined);
  }

  /** Creates a silence and returns its id. */
  async createSilence(silence: PostableSilence): Promise<string> {
    const body = await this.call('POST', '/api/v2/silences', silence);
    if (!isRecord(body) || typeof body.silenceID !== 'string') throw new AlertmanagerError(`Alertmanager at ${this.url} did not return a silence id`);
    return body.silenceID;
  }

  /** Expires a silence; one already expired or gone is fine. */
  async expireSilence(id: string): Promise<void> {
    try {
      await this.call('DELETE', `/api/v2/silence/${encodeURIComponent(id)}`);
    } catch (err) {
      if (err instanceof AlertmanagerError && err.status === 404) return;
      throw err;
    }
  }

  private async call(method: string, path: string, payload?: unknown): Promise<unknown> {
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'rollback-receiver' };
    if (payload !== undefined) headers['Content-Type'] = 'application/json';
    if (this.#authorization) headers.Authorization = this.#authorization;
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers,
        body: payload === undefined ? undefined : JSON.stringify(payload),
        signal: AbortSignal.timeout(this.timeoutMs),
        redirect: 'manual',
      });
      text = await res.text();
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      const why = e.name === 'TimeoutError' ? `no answer within ${this.timeoutMs} ms` : (e.cause?.code ?? e.message);
      throw new AlertmanagerError(redact(`Alertmanager at ${this.url} is unreachable: ${why}`, this.#secrets));
    }
    if (!res.ok) {
      const snippet = redact(text.trim().replace(/\s+/g, ' ').slice(0, 200), this.#secrets);
      throw new AlertmanagerError(`Alertmanager at ${this.url} answered ${method} ${path} with HTTP ${res.status}${snippet ? `: ${snippet}` : ''}`, res.status);
    }
    if (text.trim() === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new AlertmanagerError(`Alertmanager at ${this.url} sent a response that is not JSON`);
    }
  }
}
