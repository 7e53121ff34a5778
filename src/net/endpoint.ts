/**
 * An HTTP API the receiver calls with credentials (Prometheus, Alertmanager): the base URL
 * with any credentials taken out of it (safe to log), the Authorization header, and the
 * secrets to redact from any foreign text that might echo them.
 */
export interface BasicAuth {
  username: string;
  password: string;
}

export interface EndpointOptions {
  /** Base URL; a path prefix is kept, credentials in it (`http://user:pass@host`) become basic auth. */
  url: string;
  /** Sent as `Authorization: Bearer <token>`. Takes precedence over basic auth. */
  bearerToken?: string;
  basicAuth?: BasicAuth;
}

export interface Endpoint {
  /** The base URL without credentials, query or trailing slash. */
  url: string;
  authorization: string | undefined;
  /** Longest first, so that a secret containing another is redacted whole. */
  secrets: string[];
}

function headerSafe(s: string, what: string): void {
  // Control characters would make fetch throw with the header value in its message.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(s)) throw new TypeError(`${what} contains control characters`);
}

/** Parses the options of an endpoint; `service` names it in errors ("Prometheus", "Alertmanager"). */
export function endpoint(opts: EndpointOptions, service: string): Endpoint {
  let parsed: URL;
  try {
    parsed = new URL(opts.url);
  } catch {
    throw new TypeError(`${service} URL is not a valid URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError(`${service} URL must be http or https, got ${parsed.protocol}`);
  }
  let basic = opts.basicAuth;
  if (parsed.username || parsed.password) {
    try {
      basic ??= { username: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) };
    } catch {
      throw new TypeError(`${service} URL has badly percent-encoded credentials`);
    }
    parsed.username = '';
    parsed.password = '';
  }
  parsed.search = '';
  parsed.hash = '';
  const secrets: string[] = [];
  let authorization: string | undefined;
  if (opts.bearerToken !== undefined && opts.bearerToken !== '') {
    headerSafe(opts.bearerToken, `${service} bearer token`);
    authorization = `Bearer ${opts.bearerToken}`;
    secrets.push(opts.bearerToken);
  } else if (basic) {
    headerSafe(basic.username, `${service} basic auth user name`);
    headerSafe(basic.password, `${service} basic auth password`);
    const encoded = Buffer.from(`${basic.username}:${basic.password}`, 'utf8').toString('base64');
    authorization = `Basic ${encoded}`;
    if (basic.password !== '') secrets.push(basic.password, encodeURIComponent(basic.password));
    secrets.push(encoded);
  }
  return { url: parsed.href.replace(/\/+$/, ''), authorization, secrets: [...new Set(secrets)].sort((a, b) => b.length - a.length) };
}

/** Replaces every secret of the endpoint in `text` (for messages built from foreign text). */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join('[REDACTED]');
  return out;
}
