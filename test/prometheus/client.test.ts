/**
 * PrometheusClient's wire behaviour against a loopback recording server (what it sends,
 * how it reads every answer shape, how it fails, that credentials never leak), and
 * renderQuery's escaping. The same client against a real Prometheus: prometheus.test.ts.
 */
import net from 'node:net';
import { inspect } from 'node:util';
import fc from 'fast-check';
import {
  DEFAULT_QUERIES,
  PrometheusClient,
  PrometheusError,
  defaultQuery,
  escapePromqlRegex,
  escapePromqlString,
  parseSampleValue,
  renderQuery,
} from '../../src/monitoring/prometheus.js';
import { startRecordingServer, type RecordingServer } from './recording-server.js';

const TOKEN = 'tok-9f8e7d6c5b4a-SECRET';
const USER = 'monitor';
const PASSWORD = 'pa55:w"ord-SECRET';
const BASIC = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');

async function failure(p: Promise<unknown>): Promise<PrometheusError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof PrometheusError) return e;
    throw e;
  }
  throw new Error('expected a PrometheusError, got success');
}

function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const vector = (result: unknown[]) => ({ status: 'success', data: { resultType: 'vector', result } });

let server: RecordingServer;
beforeAll(async () => {
  server = await startRecordingServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.requests.length = 0;
  server.reply({ body: vector([]) });
});

describe('PrometheusClient requests', () => {
  it('POSTs the query form-encoded to /api/v1/query, keeping a path prefix', async () => {
    const client = new PrometheusClient({ url: `${server.url}/prom/`, timeoutMs: 2000 });
    const query = 'sum(rate(http_requests_total{code=~"5.."}[5m])) / 2 + x{a="é&=?"}';
    await client.instant(query, new Date(1_700_000_000_123));
    const [req] = server.requests;
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe('/prom/api/v1/query');
    expect(req?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(req?.headers.accept).toBe('application/json');
    expect(req?.headers.authorization).toBeUndefined();
    const form = new URLSearchParams(req?.body);
    expect(form.get('query')).toBe(query);
    expect(form.get('time')).toBe('1700000000.123');
  });

  it('omits time when not given and accepts milliseconds', async () => {
    const client = new PrometheusClient({ url: server.url });
    await client.instant('up');
    await client.instant('up', 1_700_000_000_000);
    expect(new URLSearchParams(server.requests[0]?.body).has('time')).toBe(false);
    expect(new URLSearchParams(server.requests[1]?.body).get('time')).toBe('1700000000.000');
  });

  it('POSTs range queries to /api/v1/query_range with start, end and step', async () => {
    server.reply({
      body: {
        status: 'success',
        data: {
          resultType: 'matrix',
          result: [
            {
              metric: { job: 'a' },
              values: [
                [1700000000, '1'],
                [1700000015.5, 'NaN'],
                [1700000031, '+Inf'],
              ],
            },
            { metric: {}, values: [] },
          ],
        },
      },
    });
    const client = new PrometheusClient({ url: server.url });
    const series = await client.range('up', 1_700_000_000_000, new Date(1_700_000_060_000), 15);
    const form = new URLSearchParams(server.requests[0]?.body);
    expect(server.requests[0]?.url).toBe('/api/v1/query_range');
    expect(Object.fromEntries(form)).toEqual({
      query: 'up',
      start: '1700000000.000',
      end: '1700000060.000',
      step: '15',
    });
    expect(series).toEqual([
      {
        metric: { job: 'a' },
        values: [
          { timestampMs: 1_700_000_000_000, value: 1 },
          { timestampMs: 1_700_000_015_500, value: Number.NaN },
          { timestampMs: 1_700_000_031_000, value: Number.POSITIVE_INFINITY },
        ],
      },
      { metric: {}, values: [] },
    ]);
    await expect(client.range('up', 0, 1, 0)).rejects.toThrow(RangeError);
  });

  it('sends a bearer token', async () => {
    const client = new PrometheusClient({ url: server.url, bearerToken: TOKEN });
    await client.instant('up');
    server.reply({ body: { status: 'success', data: { resultType: 'matrix', result: [] } } });
    await client.range('up', 0, 1000, 1);
    expect(server.requests.map((r) => r.headers.authorization)).toEqual([`Bearer ${TOKEN}`, `Bearer ${TOKEN}`]);
  });

  it('sends basic auth, also when given in the URL (and strips it from the URL)', async () => {
    await new PrometheusClient({ url: server.url, basicAuth: { username: USER, password: PASSWORD } }).instant('up');
    const withUserInfo = server.url.replace('http://', `http://${USER}:${encodeURIComponent(PASSWORD)}@`);
    const fromUrl = new PrometheusClient({ url: withUserInfo });
    await fromUrl.instant('up');
    expect(server.requests.map((r) => r.headers.authorization)).toEqual([`Basic ${BASIC}`, `Basic ${BASIC}`]);
    expect(fromUrl.url).toBe(server.url);
  });

  it('prefers the bearer token when both are configured', async () => {
    const client = new PrometheusClient({
      url: server.url,
      bearerToken: TOKEN,
      basicAuth: { username: USER, password: PASSWORD },
    });
    await client.instant('up');
    expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('rejects bad URLs and header-breaking credentials without echoing them', () => {
    expect(() => new PrometheusClient({ url: 'not a url' })).toThrow('not a valid URL');
    expect(() => new PrometheusClient({ url: 'ftp://x' })).toThrow('http or https');
    expect(() => new PrometheusClient({ url: 'http://u:%E0%A4%A@h' })).toThrow('percent-encoded');
    let err: unknown;
    try {
      new PrometheusClient({ url: server.url, bearerToken: `${TOKEN}\r\nX-Evil: 1` });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TypeError);
    expect(String(err)).not.toContain(TOKEN);
  });
});

describe('PrometheusClient results', () => {
  it('parses vectors, with NaN and infinities as numbers', async () => {
    server.reply({
      body: vector([
        { metric: { __name__: 'a', pod: 'p1' }, value: [1700000000.5, '0.25'] },
        { metric: { pod: 'p2' }, value: [1700000000.5, 'NaN'] },
        { metric: { pod: 'p3' }, value: [1700000000.5, '+Inf'] },
        { metric: { pod: 'p4' }, value: [1700000000.5, '-Inf'] },
        { metric: { pod: 'p5' }, value: [1700000000.5, '1.5e-05'] },
        { metric: { pod: 'native' }, histogram: [1700000000.5, { count: '1', sum: '1' }] },
      ]),
    });
    const samples = await new PrometheusClient({ url: server.url }).instant('x');
    expect(samples).toEqual([
      { metric: { __name__: 'a', pod: 'p1' }, timestampMs: 1_700_000_000_500, value: 0.25 },
      { metric: { pod: 'p2' }, timestampMs: 1_700_000_000_500, value: Number.NaN },
      { metric: { pod: 'p3' }, timestampMs: 1_700_000_000_500, value: Number.POSITIVE_INFINITY },
      { metric: { pod: 'p4' }, timestampMs: 1_700_000_000_500, value: Number.NEGATIVE_INFINITY },
      { metric: { pod: 'p5' }, timestampMs: 1_700_000_000_500, value: 1.5e-5 },
    ]);
  });

  it('returns a scalar as one sample without labels', async () => {
    server.reply({ body: { status: 'success', data: { resultType: 'scalar', result: [1700000000, '-Inf'] } } });
    expect(await new PrometheusClient({ url: server.url }).instant('-1/0')).toEqual([
      { metric: {}, timestampMs: 1_700_000_000_000, value: Number.NEGATIVE_INFINITY },
    ]);
  });

  it('returns [] for an empty vector', async () => {
    expect(await new PrometheusClient({ url: server.url }).instant('nothing')).toEqual([]);
  });

  it('refuses a range vector or string from an instant query as a query error', async () => {
    const client = new PrometheusClient({ url: server.url });
    server.reply({ body: { status: 'success', data: { resultType: 'matrix', result: [] } } });
    expect((await failure(client.instant('up[5m]'))).kind).toBe('query');
    server.reply({ body: { status: 'success', data: { resultType: 'string', result: [1, 'x'] } } });
    expect((await failure(client.instant('"x"'))).kind).toBe('query');
  });

  it('parses every sample value form Prometheus writes', () => {
    expect(parseSampleValue('NaN')).toBeNaN();
    expect(parseSampleValue('+Inf')).toBe(Number.POSITIVE_INFINITY);
    expect(parseSampleValue('-Inf')).toBe(Number.NEGATIVE_INFINITY);
    expect(parseSampleValue('-0.5')).toBe(-0.5);
    expect(parseSampleValue('1e+300')).toBe(1e300);
    expect(parseSampleValue('')).toBeNaN();
    expect(parseSampleValue(null)).toBeNaN();
  });
});

describe('PrometheusClient errors', () => {
  it('reports a rejected query (400 bad_data, 422 execution) as kind query with Prometheus message', async () => {
    const client = new PrometheusClient({ url: server.url });
    server.reply({
      status: 400,
      body: { status: 'error', errorType: 'bad_data', error: '1:16: parse error: unclosed left parenthesis' },
    });
    const bad = await failure(client.instant('sum(rate(x[5m])'));
    expect(bad).toMatchObject({
      kind: 'query',
      status: 400,
      errorType: 'bad_data',
      prometheusMessage: '1:16: parse error: unclosed left parenthesis',
      query: 'sum(rate(x[5m])',
    });
    expect(bad.message).toContain('unclosed left parenthesis');
    server.reply({ status: 422, body: { status: 'error', errorType: 'execution', error: 'many-to-many matching' } });
    expect(await failure(client.range('a + b', 0, 1000, 1))).toMatchObject({ kind: 'query', errorType: 'execution' });
  });

  it("reports Prometheus's own query timeout as kind timeout", async () => {
    server.reply({
      status: 503,
      body: { status: 'error', errorType: 'timeout', error: 'query timed out in expression evaluation' },
    });
    const err = await failure(new PrometheusClient({ url: server.url }).instant('up'));
    expect(err).toMatchObject({ kind: 'timeout', status: 503, errorType: 'timeout' });
  });

  it('reports other HTTP answers as kind http with the status', async () => {
    const client = new PrometheusClient({ url: server.url });
    server.reply({ status: 502, body: '<html>Bad Gateway</html>' });
    const gw = await failure(client.instant('up'));
    expect(gw).toMatchObject({ kind: 'http', status: 502 });
    expect(gw.message).toContain('Bad Gateway');
    server.reply({ status: 401, body: 'Unauthorized' });
    expect(await failure(client.instant('up'))).toMatchObject({ kind: 'http', status: 401 });
    server.reply({ status: 200, body: '<html>Grafana login</html>' });
    expect(await failure(client.instant('up'))).toMatchObject({ kind: 'http', status: 200 });
    server.reply({ status: 302, headers: { location: 'http://elsewhere/' }, body: '' });
    expect(await failure(client.instant('up'))).toMatchObject({ kind: 'http', status: 302 });
  });

  it('reports a refused connection as kind unreachable', async () => {
    const port = await closedPort();
    const err = await failure(new PrometheusClient({ url: `http://127.0.0.1:${port}` }).instant('up'));
    expect(err.kind).toBe('unreachable');
    expect(err.code).toBe('ECONNREFUSED');
    expect(err.message).toContain(`http://127.0.0.1:${port}`);
  });

  it('reports an unanswered request as kind timeout after timeoutMs', async () => {
    server.reply({ hang: true });
    const t0 = Date.now();
    const err = await failure(new PrometheusClient({ url: server.url, timeoutMs: 300 }).instant('up'));
    expect(err.kind).toBe('timeout');
    expect(err.message).toContain('300 ms');
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it("rethrows the caller's abort reason, not a PrometheusError", async () => {
    server.reply({ hang: true });
    const ac = new AbortController();
    const p = new PrometheusClient({ url: server.url, timeoutMs: 5000 }).instant('up', undefined, { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('window cancelled')), 50);
    await expect(p).rejects.toThrow('window cancelled');
  });
});

describe('credentials never appear in errors', () => {
  // A hostile or chatty proxy echoing the request headers back in its error page.
  const echo = (status: number, json: boolean) => (req: { headers: Record<string, unknown> }) => {
    const auth = String(req.headers.authorization);
    return json
      ? { status, body: { status: 'error', errorType: 'bad_data', error: `bad header ${auth}` } }
      : { status, body: `denied for ${auth} (${Buffer.from(auth.replace(/^Basic /, ''), 'base64').toString()})` };
  };

  const clients = () => [
    new PrometheusClient({ url: server.url, bearerToken: TOKEN }),
    new PrometheusClient({ url: server.url, basicAuth: { username: USER, password: PASSWORD } }),
    new PrometheusClient({ url: server.url.replace('http://', `http://${USER}:${encodeURIComponent(PASSWORD)}@`) }),
  ];

  function assertClean(text: string): void {
    for (const secret of [TOKEN, PASSWORD, encodeURIComponent(PASSWORD), BASIC]) expect(text).not.toContain(secret);
  }

  it.each([
    [400, true],
    [500, true],
    [403, false],
    [200, false],
  ])('HTTP %i echoing the Authorization header (json %s)', async (status, json) => {
    server.reply(echo(status, json));
    for (const client of clients()) {
      const err = await failure(client.instant('up'));
      expect(err.message).toContain('[REDACTED]');
      assertClean(err.message);
      assertClean(JSON.stringify(err));
      assertClean(inspect(err, { depth: 5 }));
      assertClean(String(err.stack));
    }
  });

  it('unreachable and timeout messages, and the client object itself', async () => {
    const port = await closedPort();
    const down = [
      new PrometheusClient({ url: `http://127.0.0.1:${port}`, bearerToken: TOKEN }),
      new PrometheusClient({ url: `http://${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}` }),
    ];
    for (const client of down) {
      const err = await failure(client.instant('up'));
      expect(err.kind).toBe('unreachable');
      assertClean(inspect(err, { depth: 5 }));
      assertClean(inspect(client, { depth: 5, showHidden: true }));
      assertClean(JSON.stringify(client));
    }
    server.reply({ hang: true });
    for (const client of clients()) {
      const c = new PrometheusClient({ url: client.url, bearerToken: TOKEN, timeoutMs: 100 });
      assertClean(inspect(await failure(c.instant('up')), { depth: 5 }));
    }
  });
});

describe('renderQuery', () => {
  const vars = { namespace: 'shop', name: 'checkout', window: '5m' };

  it('renders every default query for a plain target', () => {
    expect(renderQuery(DEFAULT_QUERIES.error_rate, vars)).toBe(
      'sum(rate(http_requests_total{namespace="shop",deployment="checkout",code=~"5.."}[5m]))' +
        ' / sum(rate(http_requests_total{namespace="shop",deployment="checkout"}[5m]))',
    );
    expect(renderQuery(DEFAULT_QUERIES.cpu_usage, vars)).toContain('pod=~"checkout-[a-z0-9]+(-[a-z0-9]+)?"');
    for (const metric of ['error_rate', 'response_time', 'cpu_usage', 'memory_usage'] as const) {
      const q = defaultQuery(metric, { namespace: 'shop', name: 'checkout' });
      expect(q).not.toMatch(/\{(namespace|name|deployment|window)\}/);
      if (metric !== 'memory_usage') expect(q).toContain('[5m]');
    }
  });

  it('uses {deployment} when given, else {name}', () => {
    expect(renderQuery('x{d="{deployment}"}', { name: 'web' })).toBe('x{d="web"}');
    expect(renderQuery('x{d="{deployment}"}', { name: 'web', deployment: 'web-green' })).toBe('x{d="web-green"}');
    expect(defaultQuery('error_rate', { namespace: 'n', name: 'web', deployment: 'web-green' }, '1m')).toContain(
      'deployment="web-green"',
    );
  });

  it('escapes backslashes and double quotes in string literals', () => {
    expect(renderQuery('x{a="{v}"}', { v: 'a"b\\c' })).toBe('x{a="a\\"b\\\\c"}');
    expect(renderQuery('x{a="{v}"}', { v: 'line1\nline2\ttab\u0001' })).toBe('x{a="line1\\nline2\\ttab\\u0001"}');
    expect(renderQuery("x{a='{v}'}", { v: `it's "q" \\` })).toBe("x{a='it\\'s \"q\" \\\\'}");
  });

  it('regex-escapes values inside =~ and !~ matchers, then string-escapes them', () => {
    expect(renderQuery('x{pod=~"{v}-.*"}', { v: 'a.b(c)+"\\' })).toBe('x{pod=~"a\\\\.b\\\\(c\\\\)\\\\+\\"\\\\\\\\-.*"}');
    expect(renderQuery('x{pod!~ "{v}"}', { v: 'a|b' })).toBe('x{pod!~ "a\\\\|b"}');
    expect(renderQuery('x{pod=~`{v}`}', { v: 'a.b' })).toBe('x{pod=~`a\\.b`}');
    expect(() => renderQuery('x{pod=~`{v}`}', { v: 'a`b' })).toThrow('backquote');
  });

  it('keeps escapes already in the template and leaves comments alone', () => {
    expect(renderQuery('x{a="\\"{v}\\""} # {not_a_var}', { v: 'q"' })).toBe('x{a="\\"q\\"\\""} # {not_a_var}');
  });

  it('accepts only plain tokens outside string literals', () => {
    expect(renderQuery('rate(x[{window}]) > {limit}', { window: '1h30m', limit: 0.95 })).toBe('rate(x[1h30m]) > 0.95');
    expect(() => renderQuery('rate(x[{window}])', { window: '5m]) or vector(1' })).toThrow(
      'cannot be used outside a string literal',
    );
  });

  it('throws on a placeholder without a value, naming it', () => {
    expect(() => renderQuery('x{a="{nope}"}', vars)).toThrow('{nope}');
    expect(() => renderQuery('x{a="{namespace}', vars)).toThrow('unterminated');
  });

  it('does not touch PromQL braces (selectors, regex repetition)', () => {
    const q = 'sum by (le) (x{code=~"5.{2}",a="b"}) + y{}';
    expect(renderQuery(q, {})).toBe(q);
  });

  it('escaping round-trips for any value (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (v) => {
        // A PromQL double-quoted string uses Go escapes; for what we emit JSON reads the same.
        expect(JSON.parse(`"${escapePromqlString(v)}"`)).toBe(v);
        expect(new RegExp(`^${escapePromqlRegex(v)}$`, 'u').test(v)).toBe(true);
      }),
    );
  });
});
