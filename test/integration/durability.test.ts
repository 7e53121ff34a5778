/** What a 200 promises survives a restart; pending intents are decided again after restarts; close() is graceful. */
import { Agent, request as httpRequest } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { ManualClock } from '../../src/clock.js';
import type { ParsedPayload } from '../../src/intake/payload.js';
import { alert, payload } from '../support/alerts.js';
import { startTestService, T0, type TestService, type TestServiceOptions } from '../support/service.js';
import { bearer, decideVia, recordedDecisions, type WebhookDecision } from './helpers.js';

const OPERATOR_TOKEN = 'op-durability-token';
const OP = bearer(OPERATOR_TOKEN);

/** Successive services over one state dir, as successive processes would be. */
let stateDir: string;
const open: TestService[] = [];

beforeEach(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'rr-durability-'));
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  rmSync(stateDir, { recursive: true, force: true });
});

function boot(opts: TestServiceOptions = {}): TestService {
  const s = startTestService({ stateDir, credentials: { operatorToken: OPERATOR_TOKEN }, ...opts });
  open.push(s);
  return s;
}

async function restart(s: TestService, clock = new ManualClock(s.clock.now())): Promise<TestService> {
  await s.close();
  return boot({ clock });
}

describe('restart', () => {
  it('a decided alert is still a duplicate, and its target still cooling down, after a restart', async () => {
    const first = boot();
    const a = alert();
    const [d] = await decideVia(first.service.app, payload([a]));
    expect(d!.decision).toBe('dry_run');

    const second = await restart(first, new ManualClock(T0 + 60_000));
    const again = await decideVia(second.service.app, payload([a, alert()]));
    expect(again[0]).toMatchObject({ fingerprint: a.fingerprint, decision: 'duplicate', reason: expect.stringContaining('as dry_run') });
    expect(again[1]).toMatchObject({ decision: 'cooldown', reason: expect.stringContaining('cooldown of 300s ends at 2026-11-27T07:05:00.000Z') });

    // The record itself survived, with its rollback.
    const recorded = await recordedDecisions(second.service.app, { decision: 'dry_run' }, OP);
    expect(recorded).toEqual([expect.objectContaining({ fingerprint: a.fingerprint, rollbackId: d!.rollbackId })]);
    expect((await request(second.service.app).get(`/api/v1/rollbacks/${d!.rollbackId}`).set('Authorization', OP)).status).toBe(200);
  });

  it('the cooldown still ends on time after a restart, and the retry count carries over', async () => {
    const first = boot();
    await decideVia(first.service.app, payload([alert()]));
    const second = await restart(first, new ManualClock(T0 + 300_000));
    const [d] = await decideVia(second.service.app, payload([alert()]));
    expect(d!.decision).toBe('dry_run');
    const cooldowns = (await request(second.service.app).get('/api/v1/cooldowns').set('Authorization', OP)).body as { cooldowns: { attemptsInRetryWindow: number }[] };
    expect(cooldowns.cooldowns).toEqual([expect.objectContaining({ attemptsInRetryWindow: 2 })]);
  });

  it('a cooldown reset survives a restart', async () => {
    const first = boot();
    await decideVia(first.service.app, payload([alert()]));
    await request(first.service.app).delete('/api/v1/cooldowns/prod/api').set('Authorization', OP).expect(200);
    const second = await restart(first);
    expect((await decideVia(second.service.app, payload([alert()])))[0]!.decision).toBe('dry_run');
  });

  it('a freeze survives a restart, and so does its lifting', async () => {
    const first = boot();
    await request(first.service.app)
      .put('/api/v1/freeze')
      .set('Authorization', OP)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ reason: 'incident INC-4242' }))
      .expect(200);

    const second = await restart(first);
    const [d] = await decideVia(second.service.app, payload([alert()]));
    expect(d).toMatchObject({ decision: 'frozen', reason: 'automatic rollbacks frozen since 2026-11-27T07:00:00.000Z: incident INC-4242' });
    await request(second.service.app).delete('/api/v1/freeze').set('Authorization', OP).expect(200);

    const third = await restart(second);
    expect((await request(third.service.app).get('/api/v1/status').set('Authorization', OP)).body).toMatchObject({ freeze: { frozen: false } });
    expect((await decideVia(third.service.app, payload([alert()])))[0]!.decision).toBe('dry_run');
  });

  it('a tripped brake still holds after a restart', async () => {
    const first = boot();
    const alerts = Array.from({ length: 11 }, (_, i) => alert({ labels: { deployment: `svc-${i}` } }));
    expect((await decideVia(first.service.app, payload(alerts)))[10]!.decision).toBe('rate_limited');
    const second = await restart(first, new ManualClock(T0 + 600_000));
    const [d] = await decideVia(second.service.app, payload([alert({ labels: { deployment: 'another' } })]));
    expect(d).toMatchObject({ decision: 'rate_limited', reason: expect.stringContaining('holds until 2026-11-27T07:15:00.000Z') });
  });
});

describe('pending intents', () => {
  const slow = () => alert({ labels: { alertname: 'HighLatencyP95', rollback_trigger: 'response_time', deployment: 'frontend' } });

  it('survive a restart and are decided again when due, linked to the pending decision', async () => {
    const first = boot();
    const a = slow();
    const [pending] = await decideVia(first.service.app, payload([a]));
    expect(pending).toMatchObject({ decision: 'pending', trigger: 'response_time', reason: expect.stringContaining('decided again at 2026-11-27T07:02:00.000Z') });
    const [pendingRecord] = await recordedDecisions(first.service.app, {}, OP);
    expect(pendingRecord).toMatchObject({ decision: 'pending', dueAt: '2026-11-27T07:02:00.000Z', pendingOf: null });

    const clock = new ManualClock(T0 + 30_000);
    const second = await restart(first, clock);
    expect((await request(second.service.app).get('/api/v1/status').set('Authorization', OP)).body).toMatchObject({ pendingIntents: 1 });

    // Not due yet: nothing happens.
    await second.service.dispatcher.redecideDue();
    expect(await recordedDecisions(second.service.app, {}, OP)).toHaveLength(1);

    // Alertmanager re-sends it meanwhile: a duplicate, not a second intent.
    expect((await decideVia(second.service.app, payload([a])))[0]!.decision).toBe('duplicate');

    clock.set(T0 + 120_001);
    await second.service.dispatcher.redecideDue();
    const all = await recordedDecisions(second.service.app, { name: 'frontend' }, OP);
    const final = all.filter((d) => d.pendingOf !== null);
    expect(final).toEqual([
      expect.objectContaining({
        fingerprint: a.fingerprint,
        decision: 'dry_run',
        pendingOf: pendingRecord!.id,
        at: new Date(T0 + 120_001).toISOString(),
        rollbackId: expect.any(String),
      }),
    ]);
    expect((await request(second.service.app).get('/api/v1/status').set('Authorization', OP)).body).toMatchObject({ pendingIntents: 0 });

    // Decided again exactly once, even when asked twice and after yet another restart.
    await second.service.dispatcher.redecideDue();
    const third = await restart(second, new ManualClock(T0 + 200_000));
    await third.service.dispatcher.redecideDue();
    const finals = (await recordedDecisions(third.service.app, { name: 'frontend' }, OP)).filter((d) => d.pendingOf !== null);
    expect(finals).toHaveLength(1);
    // A later re-send now reports the final decision.
    const [dup] = await decideVia(third.service.app, payload([a]));
    expect(dup).toMatchObject({ decision: 'duplicate', reason: expect.stringContaining('as dry_run') });
    // And the target is cooling down from the final decision's rollback.
    expect((await decideVia(third.service.app, payload([slow()])))[0]!.decision).toBe('cooldown');
  });

  it('a resolved alert cancels its pending intent, also across a restart', async () => {
    const first = boot();
    const a = slow();
    const [pending] = await decideVia(first.service.app, payload([a]));
    expect(pending!.decision).toBe('pending');

    const clock = new ManualClock(T0 + 60_000);
    const second = await restart(first, clock);
    const resolved = { ...a, status: 'resolved', endsAt: '2026-11-27T07:00:50Z' };
    const [r] = await decideVia(second.service.app, payload([resolved]));
    expect(r).toMatchObject({ decision: 'resolved', reason: expect.stringMatching(/^alert resolved; cancelled the pending intent \S+ \(was due 2026-11-27T07:02:00.000Z\)$/) });
    expect((await request(second.service.app).get('/api/v1/status').set('Authorization', OP)).body).toMatchObject({ pendingIntents: 0 });

    clock.set(T0 + 600_000);
    await second.service.dispatcher.redecideDue();
    const third = await restart(second);
    await third.service.dispatcher.redecideDue();
    const recorded = await recordedDecisions(third.service.app, {}, OP);
    expect(recorded.map((d) => d.decision)).toEqual(['resolved', 'pending']);
    expect((await request(third.service.app).get('/api/v1/rollbacks').set('Authorization', OP)).body).toEqual({ rollbacks: [] });
  });

  it('a pending intent decided again while frozen records frozen, not a rollback', async () => {
    const s = boot();
    await decideVia(s.service.app, payload([slow()]));
    await request(s.service.app).put('/api/v1/freeze').set('Authorization', OP).expect(200);
    s.clock.advance(120_000);
    await s.service.dispatcher.redecideDue();
    const final = (await recordedDecisions(s.service.app, {}, OP)).find((d) => d.pendingOf !== null);
    expect(final).toMatchObject({ decision: 'frozen', rollbackId: null });
  });
});

describe('graceful close', () => {
  it('a webhook whose body is still arriving when close() is called completes with 200 and is recorded', async () => {
    const s = boot();
    const { port } = await s.service.listen(0, '127.0.0.1');
    const a = alert();
    const body = JSON.stringify(payload([a]));

    const req = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/webhook',
      agent: false,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Connection: 'close' },
    });
    const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
    });
    req.write(body.slice(0, 20));
    // Barrier: a full round trip on a second connection, opened after the first one sent its headers.
    await request(`http://127.0.0.1:${port}`).get('/health/live').set('Connection', 'close').expect(200);

    const closing = s.close();
    // The service now refuses new work...
    expect((await request(s.service.app).get('/health/ready')).status).toBe(503);
    // ...but finishes the request it accepted.
    req.end(body.slice(20));
    const [res] = await Promise.all([answered, closing]);
    expect(res.status).toBe(200);
    const decisions = (JSON.parse(res.body) as { decisions: WebhookDecision[] }).decisions;
    expect(decisions).toEqual([expect.objectContaining({ fingerprint: a.fingerprint, decision: 'dry_run' })]);

    const next = boot();
    expect(await recordedDecisions(next.service.app, {}, OP)).toEqual([expect.objectContaining({ fingerprint: a.fingerprint, decision: 'dry_run' })]);
  });

  it('a webhook already inside the dispatcher when close() is called completes with 200 and is recorded', async () => {
    const s = boot();
    const { port } = await s.service.listen(0, '127.0.0.1');
    const dispatcher = s.service.dispatcher;
    const submit = dispatcher.submit.bind(dispatcher);
    let closing: Promise<void> | undefined;
    dispatcher.submit = (p: ParsedPayload) => {
      const decided = submit(p);
      closing = s.close();
      return decided;
    };
    const alerts = [alert(), alert({ labels: { deployment: 'web' } })];
    const res = await request(`http://127.0.0.1:${port}`).post('/webhook').set('Content-Type', 'application/json').send(JSON.stringify(payload(alerts)));
    expect(closing).toBeDefined();
    await closing;
    expect(res.status).toBe(200);
    expect((res.body as { decisions: WebhookDecision[] }).decisions.map((d) => d.decision)).toEqual(['dry_run', 'dry_run']);

    const next = boot();
    const recorded = await recordedDecisions(next.service.app, {}, OP);
    expect(recorded.map((d) => d.fingerprint).sort()).toEqual(alerts.map((x) => x.fingerprint as string).sort());
  });

  it('a keep-alive client (as Alertmanager is) is told to hang up, so close() does not wait for its idle timeout', async () => {
    const s = boot();
    const { port } = await s.service.listen(0, '127.0.0.1');
    const agent = new Agent({ keepAlive: true });
    try {
      const body = JSON.stringify(payload([alert()]));
      const req = httpRequest({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/webhook',
        agent,
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
      });
      const answered = new Promise<{ status: number; connection: string | undefined; socketClosed: Promise<void> }>((resolve, reject) => {
        req.on('response', (res) => {
          const socketClosed = new Promise<void>((done) => res.socket.once('close', () => done()));
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, socketClosed }));
        });
        req.on('error', reject);
      });
      req.write(body.slice(0, 20));
      await request(`http://127.0.0.1:${port}`).get('/health/live').set('Connection', 'close').expect(200);
      const closing = s.close();
      req.end(body.slice(20));
      const res = await answered;
      expect(res.status).toBe(200);
      expect(res.connection).toBe('close');
      // The server hangs up itself rather than waiting out the keep-alive timeout.
      await res.socketClosed;
      await closing;
    } finally {
      agent.destroy();
    }
  });
});
