/**
 * Prometheus HTTP API client for the post-rollback monitoring window (SPEC §1.5, §4
 * `monitoring.enhanced`), plus the default PromQL templates for the seed's metrics.
 *
 * - Queries are POSTed form-encoded to /api/v1/query and /api/v1/query_range, so long
 *   queries never hit URL length limits (Prometheus, Thanos and Mimir accept POST).
 * - Sample values are numbers; Prometheus's "NaN", "+Inf", "-Inf" become NaN / ±Infinity.
 * - Every failure is a {@link PrometheusError} with a `kind` the caller can act on. Its
 *   message never contains the configured credentials: they are kept in private fields,
 *   stripped from the URL, and redacted from any text that might echo them.
 */
import type { MONITORED_METRICS } from '../metrics.js';
import { endpoint, redact, type EndpointOptions } from '../net/endpoint.js';

// ------------------------------------------------------------------ types

export type MonitoredMetric = (typeof MONITORED_METRICS)[number];

export interface PrometheusClientOptions extends EndpointOptions {
  /** Per request, connection to end of body. Default 10 000 ms. */
  timeoutMs?: number;
  /** Default 'rollback-receiver'. */
  userAgent?: string;
}

export interface QueryOptions {
  /** Aborts the request (kind 'timeout' if it is the timeout, else the caller's reason is rethrown). */
  signal?: AbortSignal;
}

/** One element of an instant query result. A scalar result is one Sample with empty `metric`. */
export interface Sample {
  metric: Record<string, string>;
  /** Evaluation time, milliseconds since the epoch. */
  timestampMs: number;
  value: number;
}

export interface Point {
  /** Milliseconds since the epoch. */
  timestampMs: number;
  value: number;
}

/** One series of a range query result. */
export interface Series {
  metric: Record<string, string>;
  values: Point[];
}

/** Time as a Date or milliseconds since the epoch. */
export type TimeInput = Date | number;

export type PrometheusErrorKind = 'unreachable' | 'http' | 'query' | 'timeout';

export interface PrometheusErrorDetails {
  /** HTTP status, when Prometheus (or a proxy) answered. */
  status?: number;
  /** Prometheus's `errorType` (bad_data, execution, timeout, ...), when it sent one. */
  errorType?: string;
  /** Prometheus's `error` text, verbatim (redacted), when it sent one. */
  prometheusMessage?: string;
  /** The query, when the failure is about one. */
  query?: string;
  /** Network error code (ECONNREFUSED, ENOTFOUND, ...), for 'unreachable'. */
  code?: string;
}

export class PrometheusError extends Error {
  override readonly name = 'PrometheusError';
  readonly status?: number;
  readonly errorType?: string;
  readonly prometheusMessage?: string;
  readonly query?: string;
  readonly code?: string;

  constructor(
    readonly kind: PrometheusErrorKind,
    message: string,
    details: PrometheusErrorDetails = {},
  ) {
    super(message);
    if (details.status !== undefined) this.status = details.status;
    if (details.errorType !== undefined) this.errorType = details.errorType;
    if (details.prometheusMessage !== undefined) this.prometheusMessage = details.prometheusMessage;
    if (details.query !== undefined) this.query = details.query;
    if (details.code !== undefined) this.code = details.code;
  }
}

// ------------------------------------------------------------ value parsing

/** Parses a Prometheus sample value: decimal / exponent numbers, "NaN", "+Inf", "-Inf". */
export function parseSampleValue(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return Number.NaN;
  switch (v) {
    case 'NaN':
      return Number.NaN;
    case '+Inf':
    case 'Inf':
      return Number.POSITIVE_INFINITY;
    case '-Inf':
      return Number.NEGATIVE_INFINITY;
    default: {
      const trimmed = v.trim();
      return trimmed === '' ? Number.NaN : Number(trimmed);
    }
  }
}

function toMs(t: unknown): number {
  const n = typeof t === 'number' ? t : Number(t);
  return Math.round(n * 1000);
}

function formatTime(t: TimeInput): string {
  const ms = t instanceof Date ? t.getTime() : t;
  if (!Number.isFinite(ms)) throw new RangeError(`invalid time ${String(t)}`);
  return (ms / 1000).toFixed(3);
}

// ------------------------------------------------------------------ client

const DEFAULT_TIMEOUT_MS = 10_000;
const SNIPPET = 300;

interface ApiEnvelope {
  status?: unknown;
  data?: { resultType?: unknown; result?: unknown };
  errorType?: unknown;
  error?: unknown;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function labels(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isRecord(v)) for (const [k, val] of Object.entries(v)) out[k] = String(val);
  return out;
}

function pair(v: unknown): Point | undefined {
  if (!Array.isArray(v) || v.length < 2) return undefined;
  return { timestampMs: toMs(v[0]), value: parseSampleValue(v[1]) };
}

export class PrometheusClient {
  /** The base URL without credentials (safe to log). */
  readonly url: string;
  readonly timeoutMs: number;
  readonly #authorization: string | undefined;
  readonly #secrets: string[];
  readonly #userAgent: string;

  constructor(opts: PrometheusClientOptions) {
    const parsed = endpoint(opts, 'Prometheus');
    this.url = parsed.url;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!(this.timeoutMs > 0)) throw new RangeError('Prometheus timeoutMs must be positive');
    this.#userAgent = opts.userAgent ?? 'rollback-receiver';
    this.#authorization = parsed.authorization;
    this.#secrets = parsed.secrets;
  }

  /** Evaluates `query` at `time` (default: now at the server). */
  async instant(query: string, time?: TimeInput, opts: QueryOptions = {}): Promise<Sample[]> {
    const params: Record<string, string> = { query };
    if (time !== undefined) params.time = formatTime(time);
    const data = await this.post('/api/v1/query', params, query, opts);
    const { resultType, result } = data;
    switch (resultType) {
      case 'vector': {
        if (!Array.isArray(result)) throw this.malformed(query, 'vector result is not an array');
        const out: Sample[] = [];
        for (const item of result as unknown[]) {
          if (!isRecord(item)) continue;
          const p = pair(item.value);
          // Native-histogram samples carry `histogram` instead of `value`: not a number, skipped.
          if (p) out.push({ metric: labels(item.metric), timestampMs: p.timestampMs, value: p.value });
        }
        return out;
      }
      case 'scalar': {
        const p = pair(result);
        if (!p) throw this.malformed(query, 'scalar result is not a [time, value] pair');
        return [{ metric: {}, timestampMs: p.timestampMs, value: p.value }];
      }
      case 'matrix':
        throw new PrometheusError(
          'query',
          'Prometheus query returned a range vector; an instant query needs an instant vector or scalar expression',
          { query },
        );
      default:
        throw new PrometheusError('query', `Prometheus query returned unsupported result type ${String(resultType)}`, {
          query,
        });
    }
  }

  /** Evaluates `query` from `start` to `end` every `stepSeconds`. */
  async range(
    query: string,
    start: TimeInput,
    end: TimeInput,
    stepSeconds: number,
    opts: QueryOptions = {},
  ): Promise<Series[]> {
    if (!(stepSeconds > 0) || !Number.isFinite(stepSeconds)) throw new RangeError('stepSeconds must be positive');
    const params = { query, start: formatTime(start), end: formatTime(end), step: String(stepSeconds) };
    const data = await this.post('/api/v1/query_range', params, query, opts);
    if (data.resultType !== 'matrix' || !Array.isArray(data.result)) {
      throw this.malformed(query, `range query returned ${String(data.resultType)} instead of a matrix`);
    }
    const out: Series[] = [];
    for (const item of data.result as unknown[]) {
      if (!isRecord(item)) continue;
      const values: Point[] = [];
      if (Array.isArray(item.values)) {
        for (const v of item.values as unknown[]) {
          const p = pair(v);
          if (p) values.push(p);
        }
      }
      out.push({ metric: labels(item.metric), values });
    }
    return out;
  }

  /** Replaces every configured secret in `text` (for messages built from foreign text). */
  redact(text: string): string {
    return redact(text, this.#secrets);
  }

  private malformed(query: string, what: string): PrometheusError {
    return new PrometheusError('http', `Prometheus at ${this.url} sent a malformed response: ${what}`, { query });
  }

  private async post(
    path: string,
    params: Record<string, string>,
    query: string,
    opts: QueryOptions,
  ): Promise<{ resultType: unknown; result: unknown }> {
    const endpoint = `${this.url}${path}`;
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout;
    const headers: Record<string, string> = {
      Accept: 'application/json',
      'Content-Type': 'application/x-www-form-urlencoded',
      'User-Agent': this.#userAgent,
    };
    if (this.#authorization) headers.Authorization = this.#authorization;

    let status: number;
    let statusText: string;
    let text: string;
    try {
      const res = await fetch(endpoint, {
        method: 'POST',
        headers,
        body: new URLSearchParams(params).toString(),
        signal,
        redirect: 'manual',
      });
      status = res.status;
      statusText = res.statusText;
      text = await res.text();
    } catch (e) {
      throw this.transportError(e, query, timeout, opts.signal);
    }

    let body: ApiEnvelope | undefined;
    try {
      const parsed: unknown = JSON.parse(text);
      if (isRecord(parsed)) body = parsed as ApiEnvelope;
    } catch {
      body = undefined;
    }

    if (body && body.status === 'error') {
      const errorType = typeof body.errorType === 'string' ? body.errorType : 'unknown';
      const prometheusMessage = this.redact(typeof body.error === 'string' ? body.error : '');
      const details = { status, errorType, prometheusMessage, query };
      if (errorType === 'timeout') {
        throw new PrometheusError('timeout', `Prometheus query timed out: ${prometheusMessage}`, details);
      }
      if (status === 400 || status === 422 || errorType === 'bad_data' || errorType === 'execution') {
        throw new PrometheusError('query', `Prometheus rejected the query (${errorType}): ${prometheusMessage}`, details);
      }
      throw new PrometheusError(
        'http',
        `Prometheus at ${this.url} answered HTTP ${status} (${errorType}): ${prometheusMessage}`,
        details,
      );
    }
    if (status < 200 || status >= 300) {
      const snippet = this.redact(text.trim().replace(/\s+/g, ' ').slice(0, SNIPPET));
      throw new PrometheusError(
        'http',
        `Prometheus at ${this.url} answered HTTP ${status}${statusText ? ` ${statusText}` : ''}${snippet ? `: ${snippet}` : ''}`,
        { status, query },
      );
    }
    if (!body || body.status !== 'success' || !isRecord(body.data)) {
      const snippet = this.redact(text.trim().replace(/\s+/g, ' ').slice(0, 120));
      throw new PrometheusError(
        'http',
        `Prometheus at ${this.url} sent a response that is not a Prometheus API answer (HTTP ${status}): ${snippet}`,
        { status, query },
      );
    }
    return { resultType: body.data.resultType, result: body.data.result };
  }

  private transportError(
    e: unknown,
    query: string,
    timeout: AbortSignal,
    callerSignal: AbortSignal | undefined,
  ): unknown {
    if (timeout.aborted) {
      return new PrometheusError('timeout', `Prometheus at ${this.url} did not answer within ${this.timeoutMs} ms`, {
        query,
      });
    }
    if (callerSignal?.aborted) {
      const reason: unknown = callerSignal.reason;
      return reason instanceof Error ? reason : new Error('aborted');
    }
    // undici: TypeError('fetch failed') with `cause` { code: 'ECONNREFUSED', message: ... }.
    const cause = (e as { cause?: unknown } | null)?.cause;
    const code =
      (isRecord(cause) && typeof cause.code === 'string' ? cause.code : undefined) ??
      (isRecord(e) && typeof e.code === 'string' ? e.code : undefined);
    const detail = cause instanceof Error ? cause.message : e instanceof Error ? e.message : String(e);
    return new PrometheusError('unreachable', this.redact(`Prometheus at ${this.url} is unreachable: ${detail}`), {
      query,
      ...(code ? { code } : {}),
    });
  }
}

// --------------------------------------------------------------- templates

/** Default range for rate() in the default queries (several scrape intervals). */
export const DEFAULT_RATE_WINDOW = '5m';

const CONTAINERS = 'container!="",container!="POD"';
/**
 * The pods of Deployment {deployment}: `<deployment>-<pod-template-hash>-<suffix>` (or
 * `<deployment>-<hash+suffix>` when Kubernetes truncates a long name). Unlike
 * `{deployment}-.*` it does not also match Deployment `{deployment}-worker`'s pods.
 */
const PODS = 'pod=~"{deployment}-[a-z0-9]+(-[a-z0-9]+)?"';

/**
 * Default PromQL for the seed's metrics. Placeholders: `{namespace}`, `{deployment}` (the
 * Deployment serving the target; {@link renderQuery} fills it with `{name}` when not
 * given), `{window}` (rate range, e.g. "5m").
 *
 * - error_rate: share of 5xx responses, 0..1 (seed threshold 0.05). NaN when there was no
 *   traffic in the window (0/0); no sample at all when the series do not exist.
 * - response_time: p95 latency in milliseconds (seed threshold 3000).
 * - cpu_usage / memory_usage: usage as a ratio of the limit (1 = at the limit) of the
 *   worst container of the Deployment's pods: cAdvisor usage over kube-state-metrics v2
 *   limits; containers without a limit are left out.
 *
 * The application metrics are expected to carry `namespace` and `deployment` labels (e.g.
 * from relabelling); override the templates in the config when yours differ.
 */
export const DEFAULT_QUERIES: Readonly<Record<MonitoredMetric, string>> = Object.freeze({
  error_rate:
    'sum(rate(http_requests_total{namespace="{namespace}",deployment="{deployment}",code=~"5.."}[{window}]))' +
    ' / sum(rate(http_requests_total{namespace="{namespace}",deployment="{deployment}"}[{window}]))',
  response_time:
    '1000 * histogram_quantile(0.95, sum by (le) (' +
    'rate(http_request_duration_seconds_bucket{namespace="{namespace}",deployment="{deployment}"}[{window}])))',
  cpu_usage:
    'max(' +
    `sum by (pod, container) (rate(container_cpu_usage_seconds_total{namespace="{namespace}",${PODS},${CONTAINERS}}[{window}]))` +
    ' / on (pod, container) ' +
    `max by (pod, container) (kube_pod_container_resource_limits{namespace="{namespace}",${PODS},resource="cpu"} > 0)` +
    ')',
  memory_usage:
    'max(' +
    `max by (pod, container) (container_memory_working_set_bytes{namespace="{namespace}",${PODS},${CONTAINERS}})` +
    ' / on (pod, container) ' +
    `max by (pod, container) (kube_pod_container_resource_limits{namespace="{namespace}",${PODS},resource="memory"} > 0)` +
    ')',
});

/** Escapes a value for the inside of a PromQL string literal quoted with `quote`. */
export function escapePromqlString(value: string, quote: '"' | "'" = '"'): string {
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return out;
}

/** Escapes RE2 metacharacters (Go's regexp.QuoteMeta), for values put inside `=~` / `!~` matchers. */
export function escapePromqlRegex(value: string): string {
  return value.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

const PLACEHOLDER = /^\{([A-Za-z_][A-Za-z0-9_]*)\}/;
/** Values allowed outside string literals: durations (5m), numbers (0.95), identifiers. */
const BARE_VALUE = /^[A-Za-z0-9_:.]+$/;

/**
 * Fills `{placeholder}`s in a PromQL template. Inside a string literal the value is escaped
 * for that literal ("..." / '...'), and first regex-escaped when the literal is the right
 * side of `=~` or `!~` (so `pod=~"{name}-.*"` matches the name literally). Outside string
 * literals (e.g. `[{window}]`) only plain tokens are accepted. `{deployment}` defaults to
 * `{name}`. Throws on a placeholder
 * without a value or a value that cannot be placed safely. PromQL never has `{identifier}`
 * outside a string (selectors contain matchers), so the syntax does not clash.
 */
export function renderQuery(template: string, vars: Readonly<Record<string, string | number>>): string {
  const has = (k: string) => Object.prototype.hasOwnProperty.call(vars, k);
  const value = (name: string): string => {
    const v = has(name) ? vars[name] : name === 'deployment' && has('name') ? vars.name : undefined;
    if (v === undefined) {
      throw new Error(`query template uses {${name}}, which has no value (known: ${Object.keys(vars).join(', ')})`);
    }
    return String(v);
  };
  let out = '';
  let quote: '"' | "'" | '`' | undefined;
  let regex = false;
  for (let i = 0; i < template.length; ) {
    const ch = template[i] ?? '';
    if (quote === undefined) {
      if (ch === '"' || ch === "'" || ch === '`') {
        quote = ch;
        regex = /[=!]~\s*$/.test(template.slice(0, i));
        out += ch;
        i++;
      } else if (ch === '#') {
        // Comment to end of line: copied verbatim.
        const nl = template.indexOf('\n', i);
        const end = nl < 0 ? template.length : nl;
        out += template.slice(i, end);
        i = end;
      } else {
        const m = ch === '{' ? PLACEHOLDER.exec(template.slice(i)) : null;
        if (m) {
          const name = m[1] ?? '';
          const v = value(name);
          if (!BARE_VALUE.test(v)) {
            throw new Error(`value ${JSON.stringify(v)} for {${name}} cannot be used outside a string literal`);
          }
          out += v;
          i += m[0].length;
        } else {
          out += ch;
          i++;
        }
      }
      continue;
    }
    // Inside a string literal.
    if (ch === '\\' && quote !== '`') {
      out += template.slice(i, i + 2);
      i += 2;
    } else if (ch === quote) {
      quote = undefined;
      out += ch;
      i++;
    } else {
      const m = ch === '{' ? PLACEHOLDER.exec(template.slice(i)) : null;
      if (m) {
        const name = m[1] ?? '';
        let v = value(name);
        if (regex) v = escapePromqlRegex(v);
        if (quote === '`') {
          if (v.includes('`')) throw new Error(`value for {${name}} contains a backquote, which a raw string cannot hold`);
        } else {
          v = escapePromqlString(v, quote);
        }
        out += v;
        i += m[0].length;
      } else {
        out += ch;
        i++;
      }
    }
  }
  if (quote !== undefined) throw new Error(`query template has an unterminated ${quote} string`);
  return out;
}

/** The default query of `metric` for a target, rendered. */
export function defaultQuery(
  metric: MonitoredMetric,
  target: { namespace: string; name: string; deployment?: string },
  window: string = DEFAULT_RATE_WINDOW,
): string {
  const { namespace, name, deployment = name } = target;
  return renderQuery(DEFAULT_QUERIES[metric], { namespace, name, deployment, window });
}
