/**
 * Hostile HTTP requests for every route the receiver declares (src/http/openapi.ts
 * ROUTES): arbitrary and mutated JSON, raw text (truncated, duplicate keys, deep nesting),
 * huge strings and bodies over the limit, unicode in labels (astral, lone surrogates, NUL,
 * right-to-left), prototype keys, malformed percent-encoding in paths and queries, wrong
 * content types and credentials. Each request says which statuses a correct receiver may
 * answer; a generator that cannot know leaves that open and only the general properties
 * (check.ts) apply. Shared by the test suite and scripts/fuzz.
 */
import fc from 'fast-check';
import { ROUTES, expandOptionalSegments, type RouteDoc } from '../../../src/http/openapi.js';

export const WEBHOOK_TOKEN = 'hostile-webhook-token-5c1e';
export const OPERATOR_TOKEN = 'hostile-operator-token-9b7d';
/** server.bodyLimit of the receivers under test (the default, 1 MiB). */
export const BODY_LIMIT = 1024 * 1024;

export interface HostileRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  /** Which generator made it, for reports. */
  kind: string;
  /** Statuses a correct receiver may answer; undefined: any below 500. */
  expect?: number[];
  /** A valid Alertmanager payload, properly sent: 200 (400 only when its text holds a lone surrogate). */
  mustAccept?: boolean;
}

// ---- strings ----------------------------------------------------------------------------------

const SPECIAL = [
  '',
  '\u0000',
  'a\u0000b',
  '\u202Eevil\u202C',
  '\u200F',
  '\uFEFF',
  '\u{1F525}',
  '\u{10FFFF}',
  'ק\u05B8',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '%',
  '%ZZ',
  '%E0%A4',
  '../..',
  '\\',
  '"',
  '\n\r\t',
  '<script>alert(1)</script>',
  'error_rate',
  'prod',
  'api',
];
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));

/** Text a hostile sender might put anywhere that is still valid Unicode: any code point, special words. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
  { weight: 3, arbitrary: fc.constantFrom(...SPECIAL) },
  { weight: 2, arbitrary: fc.array(fc.constantFrom(...SPECIAL), { minLength: 1, maxLength: 4 }).map((a) => a.join('')) },
);

/** hostileString, and now and then one with a lone surrogate (which no valid text has). */
export const anyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 4 }), loneSurrogate, fc.string({ maxLength: 4 })).map((p) => p.join('')) },
);

/** Any JSON value, its strings hostile. */
export const hostileJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(-0, 1e308, -1e308, 2 ** 53 + 1)),
    anyString,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.array(fc.tuple(anyString, tie('value')), { maxLength: 4 }).map((entries) => Object.fromEntries(entries)),
  ),
})).value;

/** `%XX` for every byte that is not unreserved (a lone surrogate is sent as the UTF-8 of U+FFFD, as any client would). */
export function percentEncode(text: string): string {
  let out = '';
  for (const byte of new TextEncoder().encode(text)) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const MALFORMED_PERCENT = ['%', '%%', '%Z', '%ZZ', '%E0%A4', '%E0%A4%A', '%FF', '%C0%AF', '%ED%A0%80', '%00', '%2F', '%2e%2e', '%u0041'];

/** One path segment or query value as sent on the wire: well encoded, malformed percent-encoding, or both. */
export const urlPart: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: anyString.map(percentEncode) },
  { weight: 2, arbitrary: fc.constantFrom(...MALFORMED_PERCENT) },
  { weight: 2, arbitrary: fc.tuple(hostileString.map(percentEncode), fc.constantFrom(...MALFORMED_PERCENT), fc.stringMatching(/^[a-z0-9]{0,6}$/)).map((p) => p.join('')) },
  { weight: 1, arbitrary: fc.constantFrom('prod', 'api', 'rb-1', '1', 'x'.repeat(2000)) },
);

// ---- the Alertmanager payload -------------------------------------------------------------------

const TRIGGER_LABELS = { alertname: 'HighErrorRate', rollback_trigger: 'error_rate', namespace: 'prod', deployment: 'api' };

/** Labels as entries, made into an object with own keys only (so `__proto__` is a label, as JSON.parse makes it). */
const labelSet = fc
  .tuple(fc.boolean(), fc.array(fc.tuple(hostileString, hostileString), { maxLength: 5 }))
  .map(([matching, entries]) => Object.fromEntries([...(matching ? Object.entries(TRIGGER_LABELS) : []), ...entries]) as Record<string, string>);

const rfc3339 = fc.constantFrom(
  '2026-11-27T06:58:00Z',
  '2026-11-27T06:58:00.123456789Z',
  '2026-11-27T08:58:00+02:00',
  '2026-11-27t06:58:00.5z',
  '1970-01-01T00:00:00Z',
  '9999-12-31T23:59:59.999999999Z',
);

const alertArb = fc.record(
  {
    status: fc.constantFrom('firing', 'resolved'),
    labels: labelSet,
    annotations: fc.oneof(labelSet, fc.constant(null)),
    startsAt: rfc3339,
    endsAt: fc.oneof(rfc3339, fc.constantFrom('0001-01-01T00:00:00Z', '2026-12-31T23:59:60Z'), hostileString),
    generatorURL: hostileString,
    fingerprint: fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
  },
  { requiredKeys: ['status', 'labels', 'startsAt'] },
);

/** A structurally valid version 4 payload: the receiver must accept it (unless its text is not Unicode). */
export const validPayload = fc.record(
  {
    version: fc.constant('4'),
    groupKey: hostileString,
    truncatedAlerts: fc.nat({ max: 1000 }),
    status: fc.constantFrom('firing', 'resolved'),
    receiver: hostileString,
    groupLabels: labelSet,
    commonLabels: labelSet,
    commonAnnotations: labelSet,
    externalURL: hostileString,
    alerts: fc.array(alertArb, { maxLength: 5 }),
    extraField: hostileJson,
  },
  { requiredKeys: ['version', 'status', 'receiver', 'alerts'] },
);

/** Replaces, removes or adds one value somewhere in a JSON value. */
function mutate(value: unknown, path: number[], replacement: unknown, remove: boolean): unknown {
  if (value === null || typeof value !== 'object' || path.length === 0) return replacement;
  const [step, ...rest] = path;
  if (Array.isArray(value)) {
    if (value.length === 0) return [replacement];
    const i = step! % value.length;
    const copy = [...value];
    if (remove && rest.length === 0) copy.splice(i, 1);
    else copy[i] = mutate(copy[i], rest, replacement, remove);
    return copy;
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return Object.fromEntries([['mutated', replacement]]);
  const i = step! % entries.length;
  if (remove && rest.length === 0) entries.splice(i, 1);
  else entries[i] = [entries[i]![0], mutate(entries[i]![1], rest, replacement, remove)];
  return Object.fromEntries(entries);
}

const mutatedPayload = fc
  .tuple(validPayload, fc.array(fc.nat(), { minLength: 1, maxLength: 5 }), hostileJson, fc.boolean())
  .map(([p, path, replacement, remove]) => mutate(p, path, replacement, remove));

// ---- raw JSON text ------------------------------------------------------------------------------

/** `[[[…]]]` or `{"a":{"a":…}}` this deep, optionally unterminated. */
export function nested(depth: number, shape: 'array' | 'object', closed = true): string {
  const [open, close] = shape === 'array' ? ['[', ']'] : ['{"a":', '}'];
  return open.repeat(depth) + '0' + (closed ? close.repeat(depth) : '');
}

const depth = fc.oneof(fc.integer({ min: 1, max: 200 }), fc.constantFrom(1000, 10_000));

/** Raw body text a JSON.stringify could not produce. */
function rawTexts(valid: fc.Arbitrary<unknown>): fc.Arbitrary<{ text: string; kind: string; expect?: number[] }> {
  return fc.oneof(
    fc.tuple(valid, fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true })).map(([v, at]) => {
      const full = JSON.stringify(v);
      const text = full.slice(0, Math.floor(full.length * at));
      // Every proper prefix of an object's text is malformed JSON; an empty body is no body.
      return { text, kind: 'truncated', expect: text === '' ? undefined : [400] };
    }),
    fc.tuple(valid, anyString, hostileJson).map(([v, key, dup]) => {
      // The first occurrence is shadowed by the real one after it (JSON.parse keeps the last).
      const text = JSON.stringify(v).replace(/\{/, `{${JSON.stringify(key)}:${JSON.stringify(dup) ?? 'null'},`);
      return { text, kind: 'duplicate key' };
    }),
    fc.tuple(valid, anyString).map(([v, dup]) => {
      // A label given twice: the later one counts.
      const text = JSON.stringify(v).replace(/"labels":\{/g, `"labels":{"deployment":${JSON.stringify(dup)},`);
      return { text, kind: 'duplicate label' };
    }),
    fc.tuple(depth, fc.constantFrom('array' as const, 'object' as const), fc.boolean()).map(([d, shape, closed]) => ({ text: nested(d, shape, closed), kind: `nested ${d}`, expect: [400] })),
    fc.tuple(valid, depth).map(([v, d]) => {
      const text = JSON.stringify(v);
      // A label value must be a string: nesting there is always refused.
      return text.includes('"labels":{')
        ? { text: text.replace(/"labels":\{/, `"labels":{"deep":${nested(d, 'array')},`), kind: `nested ${d} in labels`, expect: [400] }
        : { text: text.replace(/^\{/, `{"deep":${nested(d, 'array')},`), kind: `nested ${d} in an extra field` };
    }),
    fc.constantFrom('', ' ', 'null', 'true', '0', '"4"', '[]', '{', '}', '{"version":"4"', '\u0000', '\uFEFF{}', '{"version":"4",}', "{'version':'4'}", 'NaN', '1e999999').map((text) => ({ text, kind: 'odd text' })),
  );
}

// ---- requests per route -------------------------------------------------------------------------

/** Mostly the value a real client sends, sometimes any string. */
const usually = (value: string) => fc.oneof({ weight: 4, arbitrary: fc.constant(value) }, { weight: 1, arbitrary: hostileString });

const BODY_SEEDS: Record<string, fc.Arbitrary<unknown>> = {
  '/webhook': validPayload,
  '/api/v1/simulate': validPayload,
  '/api/v1/rollbacks': fc.oneof(
    fc.record({ namespace: usually('prod'), name: usually('api'), reason: usually('bad release'), dryRun: fc.boolean() }),
    fc.record(
      {
        namespace: usually('prod'),
        name: usually('api'),
        reason: hostileString,
        dryRun: fc.boolean(),
        environment: hostileString,
        emergency: fc.boolean(),
        automatic: fc.boolean(),
        toRevision: fc.integer(),
        rollbackTag: hostileString,
        detectedAt: rfc3339,
      },
      { requiredKeys: ['reason'] },
    ),
  ),
  '/api/v1/windows': fc.record(
    { namespace: usually('prod'), name: usually('api'), environment: hostileString, duration: fc.oneof(fc.constantFrom('5m', '99999999999999d', '1e309s', '10y', '0s', 3600), fc.double(), hostileString) },
    { requiredKeys: ['namespace', 'name'] },
  ),
  '/api/v1/freeze': fc.record({ reason: hostileString }, { requiredKeys: [] }),
  '/api/v1/gitops/pauses/:id/resume': fc.record({ reason: hostileString }, { requiredKeys: [] }),
};

const JSON_TYPES = ['application/json', 'application/json; charset=utf-8', 'Application/JSON'];
const WRONG_TYPES = ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'text/html', 'application/jsonx', 'json', '', '\u00e9/\u00e9'];

function auth(route: RouteDoc): fc.Arbitrary<{ headers: Record<string, string>; denied: boolean }> {
  const token = route.access === 'webhook' ? WEBHOOK_TOKEN : OPERATOR_TOKEN;
  const right = fc.constantFrom({ authorization: `Bearer ${token}` }, { authorization: `Basic ${Buffer.from(`any:${token}`).toString('base64')}` });
  const wrong = fc.oneof(
    fc.constant({}),
    fc.constantFrom('Bearer', 'Bearer ', 'Basic %%%', 'Basic Og==', 'Digest x', `Bearer ${token}x`, `bearer  ${token.slice(1)}`).map((authorization) => ({ authorization })),
    hostileString.filter((s) => /^[\x20-\x7e]*$/.test(s)).map((s) => ({ authorization: s })),
  );
  if (route.access === 'none') return fc.oneof(right, wrong).map((headers) => ({ headers, denied: false }));
  return fc.oneof({ weight: 9, arbitrary: right.map((headers) => ({ headers, denied: false })) }, { weight: 1, arbitrary: wrong.map((headers) => ({ headers, denied: true })) });
}

interface RouteShape {
  route: RouteDoc;
  path: string;
}

const SHAPES: RouteShape[] = ROUTES.flatMap((route) => expandOptionalSegments(route.path).map((path) => ({ route, path })));

function pathFor(shape: RouteShape): fc.Arbitrary<{ path: string; malformed: boolean }> {
  const params = shape.path.match(/:[A-Za-z_]+/g) ?? [];
  return fc.array(urlPart, { minLength: params.length, maxLength: params.length }).map((parts) => {
    let i = 0;
    const path = shape.path.replace(/:[A-Za-z_]+/g, () => parts[i++]!);
    // An empty part leaves the route unmatched (404) before any part is decoded.
    return { path, malformed: parts.some(isMalformed) && parts.every((p) => p !== '') };
  });
}

/** Whether a percent-encoded part cannot be decoded (express answers 400 for such a path parameter). */
export function isMalformed(part: string): boolean {
  try {
    decodeURIComponent(part);
    return false;
  } catch {
    return true;
  }
}

const queryString: fc.Arbitrary<string> = fc
  .array(
    fc.tuple(
      fc.oneof(fc.constantFrom('limit', 'namespace', 'name', 'decision', 'trigger', 'since', 'status', '__proto__', 'constructor', 'a[__proto__][b]', 'limit[]', 'x'), urlPart),
      fc.oneof(fc.constantFrom('1', '1000', '1001', '0', '-1', '1e400', 'NaN', 'prod', 'api', 'executed', '2026-11-27T07:00:00Z', ''), urlPart),
    ),
    { maxLength: 4 },
  )
  .map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}` : ''));

interface BodyChoice {
  body?: string | Buffer;
  contentType?: string;
  kind: string;
  /** Statuses this body alone allows once the request is past auth and routing. */
  expect?: number[];
  /** The body is a payload the receiver must accept (webhook and simulate). */
  valid?: boolean;
}

function bodyFor(shape: RouteShape): fc.Arbitrary<BodyChoice> {
  const seed = BODY_SEEDS[shape.route.path];
  if (!seed || !shape.route.body) {
    return fc.oneof({ weight: 4, arbitrary: fc.constant({ kind: 'no body' }) }, { weight: 1, arbitrary: hostileJson.map((v) => ({ body: JSON.stringify(v), contentType: 'application/json', kind: 'unexpected body' })) });
  }
  const isPayload = shape.route.path === '/webhook' || shape.route.path === '/api/v1/simulate';
  const jsonType = fc.constantFrom(...JSON_TYPES);
  const choices: fc.Arbitrary<BodyChoice>[] = [
    fc.tuple(seed, jsonType).map(([v, contentType]) => ({ body: JSON.stringify(v), contentType, kind: 'seed', valid: isPayload })),
    fc.tuple(fc.tuple(seed, fc.array(fc.nat(), { minLength: 1, maxLength: 5 }), hostileJson, fc.boolean()).map(([v, p, r, rm]) => mutate(v, p, r, rm)), jsonType).map(([v, contentType]) => ({ body: JSON.stringify(v), contentType, kind: 'mutated' })),
    hostileJson.map((v) => ({ body: JSON.stringify(v), contentType: 'application/json', kind: 'arbitrary json' })),
    rawTexts(seed).map(({ text, kind, expect }) => ({ body: text, contentType: 'application/json', kind, expect })),
    fc.tuple(seed, fc.constantFrom(...WRONG_TYPES)).map(([v, contentType]) => ({ body: JSON.stringify(v), contentType, kind: 'wrong content type', expect: [415] })),
    fc.constantFrom('gzip', 'deflate', 'br', 'zstd', 'identity, gzip').map((encoding) => ({ body: '{"version":"4"}', contentType: `application/json\u0000${encoding}`, kind: 'bogus encoding' })),
  ];
  if (isPayload) choices.push(mutatedPayload.map((v) => ({ body: JSON.stringify(v), contentType: 'application/json', kind: 'mutated payload' })));
  // Megabyte bodies are a few percent of the cases: each costs what a hundred small ones do.
  const huge: fc.Arbitrary<BodyChoice>[] = [
    fc.tuple(seed, fc.constantFrom(200_000, 700_000, 1_000_000)).map(([v, size]) => ({
      // A payload's receiver may be any string: one of a megabyte still fits the limit (one alert: it is stored with each).
      body: JSON.stringify(isPayload ? { ...(v as { alerts: unknown[] }), alerts: (v as { alerts: unknown[] }).alerts.slice(0, 1), receiver: '\u{1F525}'.repeat(size / 4) } : mutate(v, [0], 'x'.repeat(size), false)),
      contentType: 'application/json',
      kind: `huge string ${size}`,
      valid: isPayload,
    })),
    fc.constantFrom(BODY_LIMIT + 1, 3 * BODY_LIMIT).map((size) => ({ body: `{"reason":"${'y'.repeat(size)}"}`, contentType: 'application/json', kind: `over the limit ${size}`, expect: [413] })),
  ];
  return fc.oneof(...choices.map((arbitrary) => ({ weight: 8, arbitrary })), ...huge.map((arbitrary) => ({ weight: 1, arbitrary })));
}

/** A hostile request to any declared route, for a receiver with both tokens set (WEBHOOK_TOKEN, OPERATOR_TOKEN). */
export function hostileRequest(): fc.Arbitrary<HostileRequest> {
  // Alertmanager's door gets the most; every other route its share.
  const shapes = fc.oneof(...SHAPES.map((shape) => ({ weight: shape.route.path === '/webhook' ? 8 : shape.route.body ? 2 : 1, arbitrary: fc.constant(shape) })));
  return shapes.chain((shape) =>
    fc
      .record({
        path: pathFor(shape),
        query: fc.oneof({ weight: 3, arbitrary: fc.constant('') }, { weight: 1, arbitrary: queryString }),
        auth: auth(shape.route),
        body: bodyFor(shape),
        method: fc.oneof({ weight: 12, arbitrary: fc.constant(shape.route.method.toUpperCase()) }, { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH') }),
      })
      .map(({ path, query, auth: a, body, method }) => {
        const headers: Record<string, string> = { ...a.headers };
        const [contentType, encoding] = (body.contentType ?? '').split('\u0000');
        if (body.contentType !== undefined) headers['content-type'] = contentType!;
        if (encoding) headers['content-encoding'] = encoding;
        const ownMethod = method === shape.route.method.toUpperCase();
        // What the body alone decides holds for the route's own method, a decodable path and passing credentials.
        const reachesHandler = ownMethod && !path.malformed && !a.denied;
        return {
          method,
          path: path.path + query,
          headers,
          body: body.body,
          kind: `${method} ${shape.route.path}: ${body.kind}${a.denied ? ', wrong credentials' : ''}${path.malformed ? ', malformed path' : ''}`,
          expect: ownMethod && path.malformed ? [400] : reachesHandler && !query ? body.expect : undefined,
          mustAccept: reachesHandler && !query && body.valid,
        };
      }),
  );
}

/** Webhook bodies the receiver must accept and record whole (unless their text is not Unicode). */
export function validWebhookRequest(): fc.Arbitrary<HostileRequest> {
  return validPayload.map((p) => ({
    method: 'POST',
    path: '/webhook',
    headers: { authorization: `Bearer ${WEBHOOK_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(p),
    kind: 'valid payload',
    mustAccept: true,
  }));
}

/** The heaviest cases, sent every run: 10,000 levels of nesting, megabytes, bodies over the limit, cut-off JSON. */
export function heavyRequests(): HostileRequest[] {
  const out: HostileRequest[] = [];
  const json = { 'content-type': 'application/json' };
  for (const shape of SHAPES.filter((s) => s.route.body)) {
    const headers = { ...json, authorization: `Bearer ${shape.route.access === 'webhook' ? WEBHOOK_TOKEN : OPERATOR_TOKEN}` };
    const at = (kind: string, body: string, expect: number[]) => out.push({ method: shape.route.method.toUpperCase(), path: shape.path, headers, body, kind: `${shape.path}: ${kind}`, expect });
    at('10,000 nested arrays', nested(10_000, 'array'), [400]);
    at('10,000 nested objects', nested(10_000, 'object'), [400]);
    at('10,000 unterminated arrays', nested(10_000, 'array', false), [400]);
    at('nesting up to the body limit', nested(Math.floor((BODY_LIMIT - 1) / 2), 'array'), [400]);
    at('5 MB string', JSON.stringify({ reason: 'z'.repeat(5 * BODY_LIMIT) }), [413]);
    at('one byte over the limit', JSON.stringify({ reason: 'z'.repeat(BODY_LIMIT - 12) }) + ' ', [413]);
    at('cut off mid-string', '{"version":"4","receiver":"r\\u00', [400]);
    at('only whitespace', ' \n\t ', shape.route.bodyOptional ? [200, 400] : [400]);
  }
  return out;
}
