/** POST /webhook end to end: every status code of SPEC §3, real payloads, durability of what a 200 promises. */
import request from 'supertest';
import { labelsFingerprint } from '../../src/intake/fingerprint.js';
import { alert, payload } from '../support/alerts.js';
import {
  basic,
  bearer,
  decideVia,
  failInsertsFor,
  fixture,
  postWebhook,
  recordedDecisions,
  scrape,
  serviceFactory,
  valueOf,
  type AlertJson,
  type WebhookDecision,
} from './helpers.js';

const start = serviceFactory();

const RESPONSE_KEYS = ['fingerprint', 'startsAt', 'trigger', 'namespace', 'name', 'strategy', 'decision', 'reason'];
const WEBHOOK_TOKEN = 'wh-7f3c9a1e-secret-webhook-token';
const OPERATOR_TOKEN = 'op-5d2b8e44-secret-operator-token';

/** A payload whose serialised size is exactly `bytes`, padded through one annotation. */
function payloadOfSize(bytes: number): string {
  const a = alert({ annotations: { summary: 'big', description: '' } });
  const base = JSON.stringify(payload([a]));
  const pad = bytes - base.length;
  if (pad < 0) throw new Error('payload base already larger than requested size');
  (a.annotations as Record<string, string>).description = 'x'.repeat(pad);
  const text = JSON.stringify(payload([a]));
  expect(Buffer.byteLength(text)).toBe(bytes);
  return text;
}

/** n firing alerts; every 10th (index 3) matches no trigger, every 10th (index 7) is resolved; the rest hit prod/api. */
function bulkAlerts(n: number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => {
    if (i % 10 === 3) return alert({ labels: { alertname: 'DiskFilling', rollback_trigger: 'not-a-trigger' } });
    if (i % 10 === 7) return alert({ status: 'resolved' });
    return alert();
  });
}

function expectedBulkDecision(i: number): string {
  if (i % 10 === 3) return 'no_match';
  if (i % 10 === 7) return 'resolved';
  return i === 0 ? 'dry_run' : 'cooldown';
}

describe('POST /webhook: 200', () => {
  it('answers one entry per alert, in payload order, with exactly the SPEC §3 fields', async () => {
    const { service } = start();
    const alerts = [
      alert({ labels: { deployment: 'api' } }),
      alert({ labels: { alertname: 'Watchdog', rollback_trigger: 'nope' } }),
      alert({ labels: { deployment: 'api' } }),
      alert({ labels: { deployment: 'web', rollback_strategy: 'helm' } }),
    ];
    const res = await postWebhook(service.app, payload(alerts));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const decisions = (res.body as { decisions: WebhookDecision[] }).decisions;
    expect(decisions.map((d) => d.fingerprint)).toEqual(alerts.map((a) => a.fingerprint));
    expect(decisions.map((d) => d.decision)).toEqual(['dry_run', 'no_match', 'cooldown', 'dry_run']);

    const [first, noMatch, cooling, helm] = decisions as [WebhookDecision, WebhookDecision, WebhookDecision, WebhookDecision];
    // Key order is part of the contract, rollbackId only where a rollback was recorded.
    expect(Object.keys(first)).toEqual([...RESPONSE_KEYS, 'rollbackId']);
    expect(Object.keys(noMatch)).toEqual(RESPONSE_KEYS);
    expect(Object.keys(cooling)).toEqual(RESPONSE_KEYS);
    expect(first).toEqual({
      fingerprint: alerts[0]!.fingerprint,
      startsAt: '2026-11-27T06:58:00.123456789Z',
      trigger: 'error_rate',
      namespace: 'prod',
      name: 'api',
      strategy: 'deployment-undo',
      decision: 'dry_run',
      reason: expect.stringContaining('dry-run: would roll back prod/api with deployment-undo (trigger error_rate)'),
      rollbackId: expect.any(String),
    });
    expect(first.reason).toContain('no cluster configured');
    expect(noMatch).toEqual({
      fingerprint: alerts[1]!.fingerprint,
      startsAt: '2026-11-27T06:58:00.123456789Z',
      trigger: null,
      namespace: null,
      name: null,
      strategy: null,
      decision: 'no_match',
      reason: "no trigger matches alert Watchdog's labels",
    });
    expect(cooling.reason).toMatch(/^the last rollback of prod\/api ended at .*; cooldown of 300s ends at 2026-11-27T07:05:00.000Z$/);
    expect(helm).toMatchObject({ name: 'web', strategy: 'helm', decision: 'dry_run' });
    expect(helm.rollbackId).not.toBe(first.rollbackId);

    // The rollback id points at a recorded dry-run rollback.
    const rb = await request(service.app).get(`/api/v1/rollbacks/${first.rollbackId}`);
    expect(rb.status).toBe(200);
    expect(rb.body).toMatchObject({ id: first.rollbackId, namespace: 'prod', name: 'api', strategy: 'deployment-undo', kind: 'automatic', status: 'dry_run' });
  });

  it('records every decision before answering, and a re-send is a duplicate', async () => {
    const { service } = start();
    const body = payload([alert(), alert({ labels: { deployment: 'web' } })]);
    const first = await decideVia(service.app, body);
    const recorded = await recordedDecisions(service.app);
    expect(recorded.map((d) => d.fingerprint).sort()).toEqual(first.map((d) => d.fingerprint).sort());

    const again = await decideVia(service.app, body);
    expect(again.map((d) => d.decision)).toEqual(['duplicate', 'duplicate']);
    expect(again[0]!.reason).toMatch(/^already decided at 2026-11-27T07:00:00.000Z as dry_run \(decision \S+\); Alertmanager re-sent it$/);
    expect(again.every((d) => d.rollbackId === undefined)).toBe(true);
  });

  it('accepts a 1,000-alert payload and answers 1,000 decisions in payload order', async () => {
    const { service } = start();
    const alerts = bulkAlerts(1000);
    const decisions = await decideVia(service.app, payload(alerts));
    expect(decisions).toHaveLength(1000);
    decisions.forEach((d, i) => {
      expect(d.fingerprint).toBe(alerts[i]!.fingerprint);
      expect(d.decision).toBe(expectedBulkDecision(i));
    });
    expect(await recordedDecisions(service.app)).toHaveLength(1000);
  });

  it('accepts application/json with a charset parameter', async () => {
    const { service } = start();
    const res = await request(service.app)
      .post('/webhook')
      .set('Content-Type', 'application/json; charset=utf-8')
      .send(JSON.stringify(payload([alert()])));
    expect(res.status).toBe(200);
  });
});

describe('POST /webhook: Alertmanager payloads as sent', () => {
  it('a firing group: one dry run per target', async () => {
    const { service } = start();
    const body = fixture('firing-group');
    const decisions = await decideVia(service.app, body);
    expect(decisions).toEqual([
      expect.objectContaining({ fingerprint: body.alerts[0]!.fingerprint, startsAt: '2026-11-27T06:58:12.482339127Z', namespace: 'prod', name: 'checkout', decision: 'dry_run' }),
      expect.objectContaining({ fingerprint: body.alerts[1]!.fingerprint, startsAt: '2026-11-27T06:59:42.01Z', namespace: 'prod', name: 'payments', decision: 'dry_run' }),
    ]);
  });

  it('fixture fingerprints are what Alertmanager computes from the labels', () => {
    for (const name of ['firing-group', 'resolved-group', 'mixed-group', 'truncated-group', 'edge-cases']) {
      for (const a of fixture(name).alerts) expect(a.fingerprint).toBe(labelsFingerprint(a.labels));
    }
  });

  it('a resolved group after its firing group: resolved, nothing else happens', async () => {
    const { service } = start();
    await decideVia(service.app, fixture('firing-group'));
    const decisions = await decideVia(service.app, fixture('resolved-group'));
    expect(decisions.map((d) => [d.name, d.decision])).toEqual([
      ['checkout', 'resolved'],
      ['payments', 'resolved'],
    ]);
    expect(decisions[0]!.reason).toBe('alert resolved; nothing to do');
    expect(decisions.every((d) => d.rollbackId === undefined)).toBe(true);
  });

  it('a mixed group: the firing alert is decided, the resolved one is resolved', async () => {
    const { service } = start();
    const decisions = await decideVia(service.app, fixture('mixed-group'));
    expect(decisions.map((d) => [d.name, d.trigger, d.decision])).toEqual([
      ['frontend', 'response_time', 'pending'],
      ['cart', 'response_time', 'resolved'],
    ]);
    expect(decisions[0]!.reason).toContain('acts after 120s');
  });

  it('truncatedAlerts > 0: decides the alerts it got', async () => {
    const { service } = start();
    const decisions = await decideVia(service.app, fixture('truncated-group'));
    expect(decisions.map((d) => [d.namespace, d.name, d.strategy, d.decision])).toEqual([
      ['staging', 'web', 'deployment-undo', 'dry_run'],
      ['staging', 'search', 'blue-green', 'dry_run'],
    ]);
  });

  it('odd receiver names, real groupKeys, empty URLs and annotations, +02:00 offsets, nine fractional digits, unknown fields', async () => {
    const { service } = start();
    const body = fixture('edge-cases');
    expect(body.receiver).toBe('rollback\\.receiver|team-(a)');
    const decisions = await decideVia(service.app, body);
    expect(decisions).toEqual([
      {
        fingerprint: body.alerts[0]!.fingerprint,
        startsAt: '2026-11-27T08:58:00.123456789+02:00',
        trigger: 'error_rate',
        namespace: 'prod',
        name: 'orders',
        strategy: 'deployment-undo',
        decision: 'dry_run',
        reason: expect.stringContaining('would roll back prod/orders'),
        rollbackId: expect.any(String),
      },
      {
        fingerprint: body.alerts[1]!.fingerprint,
        startsAt: '2026-11-27T06:00:00.999999999Z',
        trigger: null,
        namespace: null,
        name: null,
        strategy: null,
        decision: 'no_match',
        reason: "no trigger matches alert Watchdog's labels",
      },
    ]);
    // The original time text is the dedup identity: the re-send is recognised.
    expect((await decideVia(service.app, body)).map((d) => d.decision)).toEqual(['duplicate', 'duplicate']);
  });

  it('null annotations, generatorURL and externalURL are accepted too', async () => {
    const { service } = start();
    const a = { ...alert(), annotations: null, generatorURL: null };
    const decisions = await decideVia(service.app, payload([a], { externalURL: null, commonAnnotations: null }));
    expect(decisions[0]!.decision).toBe('dry_run');
  });
});

describe('POST /webhook: 400', () => {
  async function problemsFor(body: unknown): Promise<string[]> {
    const { service } = start();
    const res = await postWebhook(service.app, body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid Alertmanager webhook payload' });
    return (res.body as { problems: string[] }).problems;
  }

  it('malformed JSON', async () => {
    const { service } = start();
    const res = await request(service.app).post('/webhook').set('Content-Type', 'application/json').send('{"version": "4", "alerts": [');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'malformed JSON' });
    expect((res.body as { problems: string[] }).problems).toHaveLength(1);
  });

  it('a version other than "4"', async () => {
    for (const version of ['3', 4, undefined]) {
      const problems = await problemsFor(payload([alert()], { version }));
      expect(problems).toEqual([expect.stringMatching(/^version: /)]);
    }
  });

  it('non-string label values, naming the label', async () => {
    const a = alert();
    (a.labels as Record<string, unknown>).replicas = 3;
    const problems = await problemsFor(payload([alert(), a]));
    expect(problems).toEqual(['alerts[1].labels.replicas: label values must be strings']);
  });

  it('missing fields, each problem naming its field path', async () => {
    const noAlerts = payload([]);
    delete noAlerts.alerts;
    expect(await problemsFor(noAlerts)).toEqual([expect.stringMatching(/^alerts: /)]);

    const noStatus = payload([alert()]);
    delete noStatus.status;
    expect(await problemsFor(noStatus)).toEqual([expect.stringMatching(/^status: /)]);

    const broken = [alert(), alert(), alert()];
    delete broken[0]!.labels;
    delete broken[1]!.startsAt;
    delete broken[2]!.status;
    const problems = await problemsFor(payload(broken));
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^alerts\[0\]\.labels: /);
    expect(problems[1]).toMatch(/^alerts\[1\]\.startsAt: /);
    expect(problems[2]).toMatch(/^alerts\[2\]\.status: /);
  });

  it('times that are not RFC 3339 or have more than nine fractional digits', async () => {
    const problems = await problemsFor(
      payload([alert({ startsAt: 'yesterday' }), alert({ startsAt: '2026-11-27T06:58:00.1234567890Z' }), alert({ startsAt: '2026-11-27 06:58:00Z' })]),
    );
    expect(problems).toEqual([
      expect.stringMatching(/^alerts\[0\]\.startsAt: must be an RFC 3339 time/),
      expect.stringMatching(/^alerts\[1\]\.startsAt: must be an RFC 3339 time/),
      expect.stringMatching(/^alerts\[2\]\.startsAt: must be an RFC 3339 time/),
    ]);
  });

  it('JSON that is not an object', async () => {
    const problems = await problemsFor([payload([alert()])]);
    expect(problems.length).toBeGreaterThan(0);
  });

  it('a payload with one bad alert records none of its alerts', async () => {
    const { service } = start();
    const bad = alert();
    delete bad.startsAt;
    expect((await postWebhook(service.app, payload([alert(), bad]))).status).toBe(400);
    expect(await recordedDecisions(service.app)).toEqual([]);
  });
});

describe('POST /webhook: 401 and credentials', () => {
  function secured() {
    return start({ credentials: { webhookToken: WEBHOOK_TOKEN, operatorToken: OPERATOR_TOKEN } });
  }

  it('401 without credentials, with a wrong bearer token, a wrong basic password or the operator token', async () => {
    const { service } = secured();
    const body = payload([alert()]);
    for (const authorization of [undefined, bearer('wrong'), basic('alertmanager', 'wrong'), bearer(OPERATOR_TOKEN), `Token ${WEBHOOK_TOKEN}`, basic(WEBHOOK_TOKEN, 'x')]) {
      const res = await postWebhook(service.app, body, authorization);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="rollback-receiver"');
      expect(res.body).toEqual({ error: expect.stringContaining('missing or wrong webhook credentials') });
    }
    expect(await recordedDecisions(service.app, {}, bearer(OPERATOR_TOKEN))).toEqual([]);
  });

  it('checks credentials before reading the body', async () => {
    const { service } = secured();
    const res = await request(service.app).post('/webhook').set('Content-Type', 'application/json').send('{not json');
    expect(res.status).toBe(401);
  });

  it('200 with the bearer token (Alertmanager http_config.authorization)', async () => {
    const { service } = secured();
    const decisions = await decideVia(service.app, payload([alert()]), bearer(WEBHOOK_TOKEN));
    expect(decisions[0]!.decision).toBe('dry_run');
    const lower = await postWebhook(service.app, payload([alert({ labels: { deployment: 'web' } })]), `bearer ${WEBHOOK_TOKEN}`);
    expect(lower.status).toBe(200);
  });

  it('200 with basic auth: any user name, the token as password', async () => {
    const { service } = secured();
    for (const user of ['alertmanager', 'someone-else', '']) {
      const res = await postWebhook(service.app, payload([alert()]), basic(user, WEBHOOK_TOKEN));
      expect(res.status).toBe(200);
    }
  });

  it('never writes a token to the logs, whatever the outcome', async () => {
    const { service, logs } = secured();
    await postWebhook(service.app, payload([alert()]), bearer(WEBHOOK_TOKEN)).expect(200);
    await postWebhook(service.app, payload([alert()]), basic('alertmanager', WEBHOOK_TOKEN)).expect(200);
    await postWebhook(service.app, payload([alert()]), bearer(`${WEBHOOK_TOKEN}-typo`)).expect(401);
    await postWebhook(service.app, payload([alert()]), bearer(OPERATOR_TOKEN)).expect(401);
    await request(service.app).get('/api/v1/decisions').set('Authorization', bearer(OPERATOR_TOKEN)).expect(200);
    await request(service.app).get('/api/v1/decisions').set('Authorization', basic('me', WEBHOOK_TOKEN)).expect(401);
    await request(service.app).put('/api/v1/freeze').set('Authorization', basic('me', OPERATOR_TOKEN)).expect(200);

    const text = logs.text();
    // The capture works: the requests were logged, with their outcomes.
    expect(text).toMatch(/"url":"\/webhook"/);
    expect(text).toMatch(/"statusCode":401/);
    for (const token of [WEBHOOK_TOKEN, OPERATOR_TOKEN]) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(Buffer.from(token).toString('base64'));
      expect(text).not.toContain(basic('alertmanager', token).slice('Basic '.length));
      expect(text).not.toContain(basic('me', token).slice('Basic '.length));
    }
  });
});

describe('POST /webhook: 413', () => {
  it('the default limit is 1 MiB', async () => {
    const { service } = start();
    const ok = await request(service.app).post('/webhook').set('Content-Type', 'application/json').send(payloadOfSize(1024 * 1024));
    expect(ok.status).toBe(200);
    const tooBig = await request(service.app).post('/webhook').set('Content-Type', 'application/json').send(payloadOfSize(1024 * 1024 + 1));
    expect(tooBig.status).toBe(413);
    expect(tooBig.body).toEqual({ error: 'body larger than the limit of 1048576 bytes (server.bodyLimit)' });
  });

  it('honours server.bodyLimit', async () => {
    const { service } = start({ yaml: 'server:\n  bodyLimit: 2kb\n' });
    const ok = await request(service.app).post('/webhook').set('Content-Type', 'application/json').send(payloadOfSize(1900));
    expect(ok.status).toBe(200);
    const tooBig = await request(service.app).post('/webhook').set('Content-Type', 'application/json').send(payloadOfSize(2100));
    expect(tooBig.status).toBe(413);
    expect((tooBig.body as { error: string }).error).toContain('2000 bytes');
    expect(await recordedDecisions(service.app)).toHaveLength(1);
  });
});

describe('POST /webhook: 415', () => {
  it('text/plain', async () => {
    const { service } = start();
    const res = await request(service.app).post('/webhook').set('Content-Type', 'text/plain').send(JSON.stringify(payload([alert()])));
    expect(res.status).toBe(415);
    expect(res.body).toEqual({ error: 'expected Content-Type application/json, got text/plain' });
  });

  it('no content type at all', async () => {
    const { service } = start();
    const res = await request(service.app).post('/webhook').send(Buffer.from(JSON.stringify(payload([alert()]))));
    expect(res.status).toBe(415);
    expect(res.body).toEqual({ error: 'expected Content-Type application/json, got none' });
    expect(await recordedDecisions(service.app)).toEqual([]);
  });
});

describe('POST /webhook: 503 when the store cannot commit', () => {
  it('answers 503 with Retry-After and records nothing of the payload; the re-send is decided afresh', async () => {
    const { service } = start();
    // Something recorded before, so "nothing recorded" is not just an empty table.
    const before = await decideVia(service.app, payload([alert({ labels: { deployment: 'unrelated' } })]));
    expect(before[0]!.decision).toBe('dry_run');

    const alerts = bulkAlerts(1000);
    const body = payload(alerts);
    const undo = failInsertsFor(service.store.path, (alerts[499] as unknown as AlertJson).fingerprint);
    try {
      const res = await postWebhook(service.app, body);
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect((res.body as { error: string }).error).toContain('injected');
    } finally {
      undo();
    }

    const recorded = await recordedDecisions(service.app);
    expect(recorded.map((d) => d.name)).toEqual(['unrelated']);
    const cooldowns = await request(service.app).get('/api/v1/cooldowns');
    expect((cooldowns.body as { cooldowns: { name: string }[] }).cooldowns.map((c) => c.name)).toEqual(['unrelated']);
    const rollbacks = await request(service.app).get('/api/v1/rollbacks');
    expect((rollbacks.body as { rollbacks: unknown[] }).rollbacks).toHaveLength(1);

    // Alertmanager retries: the same payload now gets fresh decisions, not duplicates.
    const retried = await decideVia(service.app, body);
    expect(retried).toHaveLength(1000);
    retried.forEach((d, i) => expect(d.decision).toBe(expectedBulkDecision(i)));
    // Newest 1,000 records are exactly the re-sent payload's alerts, each recorded once.
    const newest = await recordedDecisions(service.app);
    expect(newest).toHaveLength(1000);
    expect(new Set(newest.map((d) => d.fingerprint))).toEqual(new Set(alerts.map((a) => a.fingerprint)));
    expect(await recordedDecisions(service.app, { name: 'unrelated' })).toHaveLength(1);
  });

  it('a failing payload does not take a concurrent good one down with it', async () => {
    const { service } = start();
    const bad = alert({ labels: { deployment: 'bad' } });
    const undo = failInsertsFor(service.store.path, bad.fingerprint as string);
    try {
      const [badRes, goodRes] = await Promise.all([
        postWebhook(service.app, payload([alert({ labels: { deployment: 'bad-sibling' } }), bad])),
        postWebhook(service.app, payload([alert({ labels: { deployment: 'good' } })])),
      ]);
      expect(badRes.status).toBe(503);
      expect(goodRes.status).toBe(200);
    } finally {
      undo();
    }
    expect((await recordedDecisions(service.app)).map((d) => d.name)).toEqual(['good']);
  });
});

describe('POST /webhook: counting and concurrency', () => {
  it('rollback_webhooks_received_total counts every status code', async () => {
    const { service } = start({ credentials: { webhookToken: WEBHOOK_TOKEN }, yaml: 'server:\n  bodyLimit: 4kb\n' });
    const auth = bearer(WEBHOOK_TOKEN);
    const initial = await scrape(service.app);
    for (const status of ['200', '400', '401', '413', '415', '503']) {
      expect(valueOf(initial, 'rollback_webhooks_received_total', { status })).toBe(0);
    }

    await postWebhook(service.app, payload([alert()]), auth).expect(200);
    await postWebhook(service.app, payload([alert()]), auth).expect(200);
    await postWebhook(service.app, { version: '3' }, auth).expect(400);
    await request(service.app).post('/webhook').set('Content-Type', 'application/json').set('Authorization', auth).send('{').expect(400);
    await postWebhook(service.app, payload([alert()])).expect(401);
    await request(service.app).post('/webhook').set('Content-Type', 'application/json').set('Authorization', auth).send(payloadOfSize(5000)).expect(413);
    await request(service.app).post('/webhook').set('Content-Type', 'text/plain').set('Authorization', auth).send('x').expect(415);
    const failing = alert();
    const undo = failInsertsFor(service.store.path, failing.fingerprint as string);
    try {
      await postWebhook(service.app, payload([failing]), auth).expect(503);
    } finally {
      undo();
    }

    const after = await scrape(service.app);
    const counts = Object.fromEntries(['200', '400', '401', '413', '415', '503'].map((s) => [s, valueOf(after, 'rollback_webhooks_received_total', { status: s })]));
    expect(counts).toEqual({ '200': 2, '400': 2, '401': 1, '413': 1, '415': 1, '503': 1 });
  });

  it('50 parallel webhooks: all 200, exactly one dry run per target, the rest cooldown, in commit order', async () => {
    const { service } = start();
    const targets = ['api', 'web', 'cart', 'search', 'orders'];
    const bodies = Array.from({ length: 50 }, (_, i) => payload([alert({ labels: { deployment: targets[i % targets.length]! } })]));
    const responses = await Promise.all(bodies.map((b) => postWebhook(service.app, b)));
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));

    const decisions = responses.map((r) => (r.body as { decisions: WebhookDecision[] }).decisions[0]!);
    for (const name of targets) {
      const mine = decisions.filter((d) => d.name === name);
      expect(mine).toHaveLength(10);
      expect(mine.filter((d) => d.decision === 'dry_run')).toHaveLength(1);
      expect(mine.filter((d) => d.decision === 'cooldown')).toHaveLength(9);
    }

    // What was answered is what was recorded, and the dry run is each target's first record.
    const recorded = (await recordedDecisions(service.app)).reverse();
    expect(recorded).toHaveLength(50);
    const answered = new Map(decisions.map((d) => [d.fingerprint, d.decision]));
    for (const r of recorded) expect(r.decision).toBe(answered.get(r.fingerprint));
    for (const name of targets) expect(recorded.find((r) => r.name === name)!.decision).toBe('dry_run');
  });

  it('the same alert sent 10 times in parallel is decided once; the others are duplicates', async () => {
    const { service } = start();
    const body = payload([alert()]);
    const responses = await Promise.all(Array.from({ length: 10 }, () => postWebhook(service.app, body)));
    const decisions = responses.map((r) => {
      expect(r.status).toBe(200);
      return (r.body as { decisions: WebhookDecision[] }).decisions[0]!.decision;
    });
    expect(decisions.filter((d) => d === 'dry_run')).toHaveLength(1);
    expect(decisions.filter((d) => d === 'duplicate')).toHaveLength(9);
  });
});
