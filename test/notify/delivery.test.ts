/** Retries, backoff, Retry-After, giving up, ordering, isolation, and secrets kept out of logs. */
import { createServer } from 'node:net';
import { buildNotifiers } from '../../src/notify/build.js';
import { Delivery, parseRetryAfter, scrub, secretVariants } from '../../src/notify/http.js';
import { Notifications, type NotificationEvent, type Notifier } from '../../src/notify/notifier.js';
import { StubServer, escalation, notificationCounts, notificationsConfig, startedRollback, testLogger, testMetrics, until } from './support.js';

const stub = new StubServer();
beforeAll(() => stub.start());
afterAll(() => stub.stop());
beforeEach(() => stub.reset());

const SLACK_PATH = '/services/T000SLACK/B000HOOK/s3cr3tSlackWebhookPath';
const ROUTING_KEY = 'R0UT1NGKEYabcdef0123456789abcdef';
const STATUS_TOKEN = 'status-api-key-7f3a9c';
const HOOK_KEY = 'webhook-header-key-55aa';

function setup(yaml: string, env: Record<string, string> = {}) {
  const { log, logs } = testLogger();
  const metrics = testMetrics();
  const channels = buildNotifiers(
    notificationsConfig(yaml),
    { SLACK_WEBHOOK_URL: stub.url(SLACK_PATH), PAGERDUTY_ROUTING_KEY: ROUTING_KEY, STATUS_API_KEY: STATUS_TOKEN, HOOK_KEY, ...env },
    { log },
  );
  const notifications = new Notifications(channels, metrics, log);
  const emit = async (...events: NotificationEvent[]) => {
    for (const e of events) notifications.emit(e);
    await notifications.drain();
  };
  return { channels, notifications, metrics, logs, emit };
}

const retry = (attempts: number, min = 0.005, max = 0.02) => `retry: { attempts: ${attempts}, minBackoff: ${min}, maxBackoff: ${max} }\ntimeout: 2s\n`;

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('delivery', () => {
  it('retries 5xx with backoff, then succeeds: counted once, as a success', async () => {
    const { emit, metrics, logs } = setup(`${retry(4)}slack: {}\n`);
    stub.fail(2, 503);
    await emit(startedRollback().event);
    expect(stub.requests).toHaveLength(3);
    expect(new Set(stub.requests.map((r) => JSON.stringify(r.body))).size).toBe(1);
    expect(await notificationCounts(metrics)).toEqual({ 'slack/success': 1 });
    const retries = logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'notification attempt failed; retrying');
    expect(retries.map((l) => [l.channel, l.attempt, l.err])).toEqual([
      ['slack', 1, 'HTTP 503: upstream error 503'],
      ['slack', 2, 'HTTP 503: upstream error 503'],
    ]);
  });

  it('backs off exponentially between attempts', async () => {
    const { emit } = setup(`${retry(4, 0.04, 1)}slack: {}\n`);
    stub.fail(3, 500);
    await emit(startedRollback().event);
    const gaps = stub.requests.slice(1).map((r, i) => r.at - stub.requests[i]!.at);
    expect(gaps).toHaveLength(3);
    expect(gaps[0]).toBeGreaterThanOrEqual(35);
    expect(gaps[1]).toBeGreaterThanOrEqual(75);
    expect(gaps[2]).toBeGreaterThanOrEqual(155);
  });

  it('gives up after the configured attempts: counted as failed, logged without the URL', async () => {
    const { emit, metrics, logs } = setup(`${retry(3)}slack: {}\n`);
    stub.fail(5, 500);
    await emit(startedRollback().event);
    expect(stub.requests).toHaveLength(3);
    expect(await notificationCounts(metrics)).toEqual({ 'slack/failed': 1 });
    const failed = logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'notification failed');
    expect(failed).toMatchObject({ level: 'warn', channel: 'slack', event: 'rollback_started', err: 'slack: gave up after 3 attempts: HTTP 500: upstream error 500' });
    expect(logs.text()).not.toContain(SLACK_PATH);
  });

  it('retries 429, honouring Retry-After', async () => {
    const { emit, metrics } = setup(`${retry(3, 0.001, 5)}slack: {}\n`);
    stub.respond({ status: 429, headers: { 'retry-after': '0.3' }, body: 'rate_limited' });
    await emit(startedRollback().event);
    expect(stub.requests).toHaveLength(2);
    expect(stub.requests[1]!.at - stub.requests[0]!.at).toBeGreaterThanOrEqual(280);
    expect(await notificationCounts(metrics)).toEqual({ 'slack/success': 1 });
  });

  it('caps Retry-After at the maximum backoff', async () => {
    const { emit } = setup(`${retry(2, 0.001, 0.05)}pagerduty: { url: "${stub.url('/v2/enqueue')}" }\n`);
    stub.respond({ status: 429, headers: { 'retry-after': '3600' } });
    const started = Date.now();
    await emit(startedRollback().event);
    expect(stub.requests).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('does not retry other 4xx (a bad key stays bad), and says so', async () => {
    const { emit, metrics, logs } = setup(`${retry(4)}pagerduty: { url: "${stub.url('/v2/enqueue')}" }\n`);
    stub.respond({ status: 400, body: JSON.stringify({ status: 'invalid event', message: 'Event object is invalid', errors: [`Invalid routing key ${ROUTING_KEY}`] }) });
    await emit(startedRollback().event);
    expect(stub.requests).toHaveLength(1);
    expect(await notificationCounts(metrics)).toEqual({ 'pagerduty/failed': 1 });
    expect(logs.text()).toContain('pagerduty: HTTP 400 (not retried)');
    expect(logs.text()).toContain('Invalid routing key [redacted]');
    expect(logs.text()).not.toContain(ROUTING_KEY);
  });

  it('does not follow redirects (they would drop or leak the Authorization header)', async () => {
    const { emit, metrics, logs } = setup(`${retry(3)}statuspage: { url: "${stub.url('/incidents')}" }\n`);
    stub.respond({ status: 302, headers: { location: 'http://elsewhere.example.com/' } });
    await emit(startedRollback().event);
    expect(stub.requests).toHaveLength(1);
    expect(await notificationCounts(metrics)).toEqual({ 'statuspage/failed': 1 });
    expect(logs.text()).toContain('HTTP 302 redirect, not followed');
  });

  it('times out a hanging attempt and retries it', async () => {
    const { emit, metrics, logs } = setup(`retry: { attempts: 2, minBackoff: 0.001, maxBackoff: 0.01 }\ntimeout: 0.1\nslack: {}\n`);
    stub.respond({ status: 200, body: 'ok', delayMs: 1000 });
    await emit(startedRollback().event);
    expect(stub.requests).toHaveLength(2);
    expect(await notificationCounts(metrics)).toEqual({ 'slack/success': 1 });
    expect(logs.text()).toContain('timed out after 100 ms');
  });

  it('retries network errors and reports their code only', async () => {
    const port = await closedPort();
    const secretUrl = `http://127.0.0.1:${port}${SLACK_PATH}`;
    const { emit, metrics, logs } = setup(`${retry(2)}slack: {}\n`, { SLACK_WEBHOOK_URL: secretUrl });
    await emit(startedRollback().event);
    expect(await notificationCounts(metrics)).toEqual({ 'slack/failed': 1 });
    expect(logs.text()).toContain('slack: gave up after 2 attempts: network error (ECONNREFUSED)');
    expect(logs.text()).not.toContain(SLACK_PATH);
  });

  it('delivers one incident in order: a resolve never overtakes its trigger', async () => {
    const { emit } = setup(`${retry(4, 0.03, 0.1)}pagerduty: { url: "${stub.url('/v2/enqueue')}" }\n`);
    const { event, rollback } = startedRollback();
    stub.fail(2, 502);
    await emit(event, { type: 'recovered', rollback, detail: 'clean' });
    expect(stub.requests.map((r) => (r.body as { event_action: string }).event_action)).toEqual(['trigger', 'trigger', 'trigger', 'resolve']);
  });

  it('a failing channel neither blocks nor fails the others, and emit() returns at once', async () => {
    const broken = await new StubServer().start();
    try {
      broken.fail(3, 500);
      const { notifications, metrics } = setup(`${retry(3, 0.2, 0.2)}slack: {}\nwebhook: { url: "${stub.url('/hook')}" }\n`, {
        SLACK_WEBHOOK_URL: broken.url(SLACK_PATH),
      });
      notifications.emit(startedRollback().event);
      // emit() returned before any channel was even asked: delivery runs in the background.
      expect(stub.on('/hook')).toHaveLength(0);
      expect(broken.requests).toHaveLength(0);
      await until(() => stub.on('/hook').length === 1);
      // The webhook is through while Slack is still backing off.
      await new Promise((r) => setTimeout(r, 20));
      expect(await notificationCounts(metrics)).toEqual({ 'webhook/success': 1 });
      expect(broken.requests.length).toBeLessThan(3);
      await notifications.drain();
      expect(broken.requests).toHaveLength(3);
      expect(await notificationCounts(metrics)).toEqual({ 'webhook/success': 1, 'slack/failed': 1 });
    } finally {
      await broken.stop();
    }
  });

  it('a channel that throws, even synchronously, only fails itself', async () => {
    const { log, logs } = testLogger();
    const metrics = testMetrics();
    const sent: string[] = [];
    const broken: Notifier = {
      channel: 'broken',
      send: () => {
        throw new Error('kaboom');
      },
    };
    const fine: Notifier = { channel: 'fine', send: async (e) => void sent.push(e.type) };
    const n = new Notifications([broken, fine], metrics, log);
    expect(() => n.emit(startedRollback().event)).not.toThrow();
    await n.drain();
    expect(sent).toEqual(['rollback_started']);
    expect(await notificationCounts(metrics)).toEqual({ 'broken/failed': 1, 'fine/success': 1 });
    expect(logs.text()).toContain('kaboom');
  });

  it('drain(timeout) stops waiting for deliveries still retrying', async () => {
    const { notifications, logs } = setup(`retry: { attempts: 2, minBackoff: 0.5, maxBackoff: 0.5 }\nslack: {}\n`);
    stub.fail(2, 500);
    notifications.emit(startedRollback().event);
    await stub.waitFor(1);
    await notifications.drain(50);
    // drain gave up before the retry (0.5 s of backoff later) was even sent.
    expect(stub.requests).toHaveLength(1);
    expect(logs.text()).toContain('notifications still being delivered were abandoned');
    await notifications.drain(); // let the abandoned one finish before the stub stops
  });
});

describe('secrets never reach a log line', () => {
  it('not even when every service fails and echoes the whole request back', async () => {
    const { emit, logs, metrics } = setup(
      `${retry(2)}receiverUrl: https://rr.example.com\nslack: {}\npagerduty: { url: "${stub.url('/v2/enqueue')}", includeDryRun: true }\n` +
        `webhook: { url: "${stub.url('/hook')}", headers: { X-Api-Key: { env: HOOK_KEY }, Authorization: { value: "Bearer inline-webhook-token-99" } } }\n` +
        `statuspage: { url: "${stub.url('/incidents')}" }\n`,
    );
    stub.echoFailures = true;
    const { event, rollback } = startedRollback();
    await emit(event, escalation(rollback, 'verification_failed', 'rollout timed out', { rollback }), { type: 'recovered', rollback, detail: 'clean' });
    const counts = await notificationCounts(metrics);
    expect(counts).toEqual({ 'slack/failed': 3, 'pagerduty/failed': 3, 'webhook/failed': 3, 'statuspage/failed': 3 });
    const text = logs.text();
    expect(text).toContain('[redacted]'); // the echoes were there, and were scrubbed
    for (const secret of [SLACK_PATH, 's3cr3tSlackWebhookPath', ROUTING_KEY, STATUS_TOKEN, HOOK_KEY, 'inline-webhook-token-99']) {
      expect(text).not.toContain(secret);
    }
  });
});

describe('helpers', () => {
  it('parses Retry-After seconds and HTTP dates', () => {
    const now = Date.parse('2026-11-27T07:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Fri, 27 Nov 2026 07:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Fri, 27 Nov 2026 06:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('scrubs a URL secret, its path and its encoded forms', () => {
    const secret = 'https://hooks.slack.com/services/T1/B2/abcDEF123';
    const variants = secretVariants(secret);
    expect(scrub(`POST ${secret} failed; path /services/T1/B2/abcDEF123 ${encodeURIComponent(secret)}`, variants)).toBe(
      'POST [redacted] failed; path [redacted] [redacted]',
    );
  });

  it('works with an injected fetch', async () => {
    const { log } = testLogger();
    const calls: string[] = [];
    const d = new Delivery({
      channel: 'x',
      policy: { attempts: 2, minBackoffMs: 1, maxBackoffMs: 1, timeoutMs: 1000 },
      secrets: [],
      log,
      fetch: async (url) => {
        calls.push(url);
        return new Response(calls.length === 1 ? 'busy' : 'ok', { status: calls.length === 1 ? 503 : 200 });
      },
    });
    await expect(d.send('k', { method: 'POST', url: 'http://example.invalid/x', body: {} })).resolves.toEqual({ status: 200, attempts: 2 });
  });
});
