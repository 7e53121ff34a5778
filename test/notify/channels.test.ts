/** Each channel's payload, as its service receives it, through the real fan-out and a local stub server. */
import { buildNotifiers } from '../../src/notify/build.js';
import { Notifications, type NotificationEvent } from '../../src/notify/notifier.js';
import type { HttpChannel } from '../../src/notify/channel.js';
import { ManualClock } from '../../src/clock.js';
import {
  StubServer,
  T0,
  decisionFixture,
  escalation,
  notificationCounts,
  notificationsConfig,
  startedRollback,
  testLogger,
  testMetrics,
} from './support.js';

const stub = new StubServer();
beforeAll(() => stub.start());
afterAll(() => stub.stop());
beforeEach(() => stub.reset());

const SLACK_PATH = '/services/T000SLACK/B000HOOK/s3cr3tSlackWebhookPath';
const ROUTING_KEY = 'R0UT1NGKEYabcdef0123456789abcdef';
const STATUS_TOKEN = 'status-api-key-7f3a9c';

function setup(yaml: string, opts: { serviceDryRun?: boolean; env?: Record<string, string> } = {}) {
  const { log, logs } = testLogger();
  const metrics = testMetrics();
  const env = { SLACK_WEBHOOK_URL: stub.url(SLACK_PATH), PAGERDUTY_ROUTING_KEY: ROUTING_KEY, STATUS_API_KEY: STATUS_TOKEN, ...opts.env };
  const channels = buildNotifiers(notificationsConfig(yaml), env, { log, clock: new ManualClock(T0), serviceDryRun: opts.serviceDryRun ?? false });
  const notifications = new Notifications(channels, metrics, log);
  const emit = async (...events: NotificationEvent[]) => {
    for (const e of events) notifications.emit(e);
    await notifications.drain();
  };
  return { channels, notifications, metrics, logs, emit };
}

const FAST = `retry: { attempts: 3, minBackoff: 0.005, maxBackoff: 0.02 }\ntimeout: 2s\n`;

describe('Slack incoming webhook', () => {
  it('posts text plus header/section/context blocks with links, and the channel', async () => {
    const { emit, metrics } = setup(`${FAST}receiverUrl: https://rr.example.com\nslack:\n  channel: "#alerts-critical"\n`);
    const { event, rollback } = startedRollback();
    await emit(event);
    expect(stub.requests).toHaveLength(1);
    const req = stub.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe(SLACK_PATH);
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['user-agent']).toMatch(/^rollback-receiver\//);
    const body = req.body as { channel: string; text: string; blocks: { type: string; text?: { type: string; text: string }; fields?: { text: string }[]; elements?: { text: string }[] }[] };
    expect(body.channel).toBe('#alerts-critical');
    expect(body.text).toBe('🔴 Rollback started: prod/api (deployment-undo, automatic)');
    expect(body.blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'context']);
    expect(body.blocks[0]!.text).toEqual({ type: 'plain_text', text: '🔴 Rollback started: prod/api (deployment-undo, automatic)', emoji: true });
    expect(body.blocks[1]!.text!.type).toBe('mrkdwn');
    expect(body.blocks[1]!.text!.text).toContain('Alert HighErrorRate [critical] firing since');
    expect(body.blocks[1]!.text!.text).toContain('error rate above 10%');
    expect(body.blocks[2]!.fields).toContainEqual({ type: 'mrkdwn', text: '*Target*\nprod/api' });
    const links = body.blocks[3]!.elements![0]!.text;
    expect(links).toContain(`<https://rr.example.com/api/v1/rollbacks/${rollback.id}/report|Incident report>`);
    expect(links).toContain('<http://alertmanager:9093/|Alertmanager>');
    expect(links).toContain('<http://prometheus:9090/graph?g0.expr=job%3Aerror_rate%3Aratio5m+%3E+0.1|Alert source>');
    expect(await notificationCounts(metrics)).toEqual({ 'slack/success': 1 });
  });

  it('escapes Slack control characters from alert text', async () => {
    const { emit } = setup(`${FAST}slack: {}\n`);
    const { event } = startedRollback({ annotations: { summary: 'p95 > 5s & <rising>' } });
    await emit(event);
    const body = stub.requests[0]!.body as { blocks: { text?: { text: string } }[] };
    expect(body.blocks[1]!.text!.text).toContain('p95 &gt; 5s &amp; &lt;rising&gt;');
    expect(body.blocks[1]!.text!.text).not.toContain('<rising>');
  });

  it('gets every event by default, dry runs included (shadow mode is evaluated in chat)', async () => {
    const { emit } = setup(`${FAST}slack: {}\n`, { serviceDryRun: true });
    const { event, rollback, decision } = startedRollback({}, { dryRun: true, status: 'dry_run' });
    await emit(event, { type: 'brake_tripped', detail: 'brake', decision }, { type: 'rollback_succeeded', rollback, detail: 'ok' });
    expect(stub.requests).toHaveLength(3);
    expect((stub.requests[0]!.body as { text: string }).text).toBe('🧪 [dry run] Rollback planned: prod/api (deployment-undo, automatic)');
  });

  it('honours an events subscription, and does not count what it skips', async () => {
    const { emit, metrics } = setup(`${FAST}slack: { events: [escalated] }\n`);
    const { event } = startedRollback();
    await emit(event, escalation({ namespace: 'prod', name: 'api' }, 'verification_failed', 'rollout timed out'));
    expect(stub.requests).toHaveLength(1);
    expect((stub.requests[0]!.body as { text: string }).text).toContain('Escalated: prod/api');
    expect(await notificationCounts(metrics)).toEqual({ 'slack/success': 1 });
  });
});

describe('PagerDuty Events API v2', () => {
  const PD = (extra = '') => `${FAST}receiverUrl: https://rr.example.com\npagerduty:\n  url: ${stub.url('/v2/enqueue')}\n${extra}`;

  it('triggers on an error_rate rollback start with the v2 fields, and resolves the same dedup_key on recovery', async () => {
    const { emit, metrics } = setup(PD());
    const { event, rollback, decision } = startedRollback();
    await emit(event, { type: 'recovered', rollback, detail: 'monitoring window ended clean after 30m', decision });
    expect(stub.requests).toHaveLength(2);
    const [trigger, resolve] = stub.requests.map((r) => r.body as Record<string, unknown>);
    expect(stub.requests[0]!.path).toBe('/v2/enqueue');
    expect(trigger).toEqual({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: `rollback-receiver/${rollback.id}`,
      payload: {
        summary: 'Rollback started: prod/api (deployment-undo, automatic): Reason: error_rate: HighErrorRate (error rate above 10%)',
        source: 'prod/api',
        severity: 'error',
        timestamp: '2026-11-27T07:00:00.000Z',
        component: 'api',
        group: 'prod',
        class: 'error_rate',
        custom_details: expect.objectContaining({
          event: 'rollback_started',
          target: 'prod/api',
          strategy: 'deployment-undo',
          trigger: 'error_rate',
          rollback: rollback.id,
          alert_labels: expect.objectContaining({ alertname: 'HighErrorRate', namespace: 'prod' }),
          decision_reason: decision.reason,
        }),
      },
      links: [
        { href: `https://rr.example.com/api/v1/rollbacks/${rollback.id}/report`, text: 'Incident report' },
        { href: 'http://alertmanager:9093/', text: 'Alertmanager' },
        { href: 'http://prometheus:9090/graph?g0.expr=job%3Aerror_rate%3Aratio5m+%3E+0.1', text: 'Alert source' },
      ],
      client: 'rollback-receiver',
      client_url: `https://rr.example.com/api/v1/rollbacks/${rollback.id}/report`,
    });
    expect(resolve).toEqual({ routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: `rollback-receiver/${rollback.id}` });
    expect(await notificationCounts(metrics)).toEqual({ 'pagerduty/success': 2 });
  });

  it('pages on error_rate starts and every escalation, not on other starts nor on successes (defaults)', async () => {
    const { emit, metrics } = setup(PD());
    const health = startedRollback({ labels: { rollback_trigger: 'health_check', alertname: 'HealthCheckFailing' } });
    const cpu = startedRollback({ labels: { rollback_trigger: 'cpu', alertname: 'HighCPU' } });
    const manual = { type: 'rollback_started' as const, rollback: { ...health.rollback, id: 'manual-1', trigger: null, kind: 'manual' as const } };
    await emit(
      health.event,
      cpu.event,
      manual,
      { type: 'rollback_succeeded', rollback: health.rollback, detail: 'rollout complete' },
      { type: 'brake_tripped', detail: 'brake', decision: health.decision },
      escalation({ namespace: 'prod', name: 'api' }, 'retries_exhausted', '5 rollback attempts within 1h'),
      escalation({ namespace: 'prod', name: 'web' }, 'verification_failed', 'rollout timed out', { rollback: cpu.rollback }),
    );
    // Different incidents are delivered concurrently: compare in a stable order.
    const bodies = stub.requests
      .map((r) => r.body as { event_action: string; dedup_key: string; payload: { severity: string; summary: string } })
      .sort((a, b) => (a.dedup_key.endsWith('prod/api') ? -1 : b.dedup_key.endsWith('prod/api') ? 1 : 0));
    expect(bodies.map((b) => [b.event_action, b.dedup_key])).toEqual([
      ['trigger', 'rollback-receiver/prod/api'],
      ['trigger', `rollback-receiver/${cpu.rollback.id}`],
    ]);
    expect(bodies[0]!.payload.severity).toBe('critical');
    expect(bodies[0]!.payload.summary).toBe('Escalated: prod/api needs an operator (rollback attempts exhausted): 5 rollback attempts within 1h');
    expect(await notificationCounts(metrics)).toEqual({ 'pagerduty/success': 2 });
  });

  it('never pages for dry runs unless asked', async () => {
    const dry = startedRollback({}, { dryRun: true, status: 'dry_run' });
    await setup(PD()).emit(dry.event);
    expect(stub.requests).toHaveLength(0);
    await setup(PD('  includeDryRun: true\n')).emit(dry.event);
    expect(stub.requests).toHaveLength(1);
    expect((stub.requests[0]!.body as { payload: { severity: string } }).payload.severity).toBe('info');
  });

  it('takes startedBy, severity overrides and a source', async () => {
    const { emit } = setup(PD('  startedBy: [health_check]\n  severity: { rollback_started: critical }\n  source: k8s-prod-eu1\n'));
    const health = startedRollback({ labels: { rollback_trigger: 'health_check' } });
    await emit(startedRollback().event, health.event);
    expect(stub.requests).toHaveLength(1);
    expect(stub.requests[0]!.body).toMatchObject({ dedup_key: `rollback-receiver/${health.rollback.id}`, payload: { severity: 'critical', source: 'k8s-prod-eu1', class: 'health_check' } });
  });

  it('keeps summary within 1024 characters', async () => {
    const { emit } = setup(PD());
    await emit(startedRollback({ annotations: { summary: 'x'.repeat(5000) } }).event);
    const summary = (stub.requests[0]!.body as { payload: { summary: string } }).payload.summary;
    expect(summary.length).toBe(1024);
    expect(summary.endsWith('…')).toBe(true);
  });
});

describe('generic JSON webhook', () => {
  it('posts the event type, the message and the event data without Kubernetes request bodies or secret-like keys', async () => {
    const { emit, metrics } = setup(
      `${FAST}webhook:\n  url: ${stub.url('/hooks/rollbacks')}\n  headers:\n    X-Api-Key: { env: HOOK_KEY }\n    X-Team: sre\n`,
      { env: { HOOK_KEY: 'hook-key-123456' } },
    );
    const { event, rollback } = startedRollback();
    rollback.steps.push({
      at: T0,
      name: 'read-release',
      detail: 'read helm release',
      request: { method: 'GET', path: '/api/v1/namespaces/prod/secrets/sh.helm.release.v1.api.v3', body: { data: { release: 'H4sIAAAA...' } } },
    });
    await emit(event);
    const req = stub.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/hooks/rollbacks');
    expect(req.headers['x-api-key']).toBe('hook-key-123456');
    expect(req.headers['x-team']).toBe('sre');
    const body = req.body as Record<string, unknown> & { event: { rollback: { steps: { request: Record<string, unknown> }[] }; decision: { alert: { labels: Record<string, string> } } } };
    expect(body).toMatchObject({
      version: '1',
      source: 'rollback-receiver',
      type: 'rollback_started',
      at: '2026-11-27T07:00:00.000Z',
      dryRun: false,
      message: { title: 'Rollback started: prod/api (deployment-undo, automatic)', severity: 'error', rollbackId: rollback.id, target: { namespace: 'prod', name: 'api' } },
    });
    expect(body.event.rollback.steps[0]!.request).toEqual({ method: 'GET', path: '/api/v1/namespaces/prod/secrets/sh.helm.release.v1.api.v3' });
    expect(body.event.decision.alert.labels.alertname).toBe('HighErrorRate');
    expect(JSON.stringify(body)).not.toContain('H4sIAAAA');
    expect(await notificationCounts(metrics)).toEqual({ 'webhook/success': 1 });
  });

  it('can PUT, and gets every event by default', async () => {
    const { emit } = setup(`${FAST}webhook: { url: "${stub.url('/x')}", method: PUT }\n`);
    const d = decisionFixture({ decision: 'disabled', reason: 'notify only' });
    await emit({ type: 'notify_only', decision: d }, { type: 'brake_tripped', detail: 'brake', decision: d });
    expect(stub.requests.map((r) => [r.method, (r.body as { type: string }).type])).toEqual([
      ['PUT', 'notify_only'],
      ['PUT', 'brake_tripped'],
    ]);
  });
});

describe('status page (the seed PATCH)', () => {
  it('PATCHes {status, message} with the bearer token on started, escalated and recovered only', async () => {
    const { emit, metrics } = setup(`${FAST}statuspage:\n  url: ${stub.url('/incidents')}\n`);
    const { event, rollback } = startedRollback();
    await emit(
      event,
      { type: 'rollback_succeeded', rollback, detail: 'ok' },
      escalation({ namespace: 'prod', name: 'api' }, 'monitoring_breach', 'error_rate 0.2'),
      { type: 'recovered', rollback, detail: 'clean' },
    );
    expect(stub.requests.map((r) => [r.method, r.path, r.headers.authorization])).toEqual([
      ['PATCH', '/incidents', `Bearer ${STATUS_TOKEN}`],
      ['PATCH', '/incidents', `Bearer ${STATUS_TOKEN}`],
      ['PATCH', '/incidents', `Bearer ${STATUS_TOKEN}`],
    ]);
    expect(stub.requests.map((r) => r.body)).toEqual([
      { status: 'investigating', message: 'Emergency maintenance in progress: rolling back a recent change to api' },
      { status: 'investigating', message: 'We are investigating a problem with api' },
      { status: 'resolved', message: 'api has recovered' },
    ]);
    expect(await notificationCounts(metrics)).toEqual({ 'statuspage/success': 3 });
  });

  it('takes status and message templates per event, and stays quiet for dry runs', async () => {
    const { emit } = setup(
      `${FAST}statuspage:\n  url: ${stub.url('/incidents')}\n  events: [rollback_started, rollback_succeeded]\n  status: { rollback_started: identified }\n  messages: { rollback_started: "{title} [{trigger}]" }\n`,
    );
    const { event, rollback } = startedRollback();
    await emit(startedRollback({}, { dryRun: true, status: 'dry_run' }).event, event, { type: 'rollback_succeeded', rollback, detail: 'ok' });
    expect(stub.requests.map((r) => r.body)).toEqual([
      { status: 'identified', message: 'Rollback started: prod/api (deployment-undo, automatic) [error_rate]' },
      { status: 'monitoring', message: 'A recent change to api has been rolled back; we are monitoring the service' },
    ]);
  });
});

describe('all channels together', () => {
  it('describe themselves without secrets for the startup log', () => {
    const { channels } = setup(`${FAST}slack: { channel: "#ops" }\npagerduty: {}\nwebhook: { url: "${stub.url('/w')}" }\nstatuspage: { url: "${stub.url('/incidents')}" }\n`);
    const lines = channels.map((c: HttpChannel) => c.describe());
    expect(lines).toEqual([
      'slack (all events; channel #ops)',
      'pagerduty (rollback_started, escalated, window_breached, recovered; not for dry runs; pages on starts by error_rate)',
      'webhook (all events)',
      'statuspage (rollback_started, escalated, recovered; not for dry runs)',
    ]);
    for (const line of lines) {
      expect(line).not.toContain(SLACK_PATH);
      expect(line).not.toContain(ROUTING_KEY);
      expect(line).not.toContain(STATUS_TOKEN);
    }
  });
});
