/** The operator API of SPEC §3: simulate, decisions, cooldowns, freeze, status, health, auth of read and operator routes. */
import request from 'supertest';
import { alert, payload } from '../support/alerts.js';
import { T0 } from '../support/service.js';
import { basic, bearer, decideVia, postWebhook, recordedDecisions, serviceFactory, type WebhookDecision } from './helpers.js';

const start = serviceFactory();

const OPERATOR_TOKEN = 'op-91c2e6d0-operator-secret';
const OP = bearer(OPERATOR_TOKEN);

interface CooldownEntry {
  namespace: string;
  name: string;
  lastRollbackAt: string;
  lastRollbackEndedAt: string | null;
  endsAt: string;
  remainingSeconds: number;
  attemptsInRetryWindow: number;
  retriesExhausted: boolean;
}

describe('POST /api/v1/simulate', () => {
  it('gives the decisions the webhook would give and records nothing', async () => {
    const { service } = start();
    const body = payload([
      alert({ labels: { deployment: 'api' } }),
      alert({ labels: { deployment: 'api' } }),
      alert({ labels: { alertname: 'Watchdog', rollback_trigger: 'none' } }),
      alert({ labels: { deployment: 'lat', rollback_trigger: 'response_time' } }),
      alert({ labels: { namespace: 'kube-system', deployment: 'coredns' } }),
    ]);
    const sim = await request(service.app).post('/api/v1/simulate').set('Content-Type', 'application/json').send(JSON.stringify(body));
    expect(sim.status).toBe(200);
    expect((sim.body as { simulated: boolean }).simulated).toBe(true);
    const simulated = (sim.body as { decisions: (WebhookDecision & { wouldRollBack: boolean; plan: unknown })[] }).decisions;
    expect(simulated.map((d) => d.decision)).toEqual(['dry_run', 'cooldown', 'no_match', 'pending', 'not_allowed']);
    expect(simulated.map((d) => d.wouldRollBack)).toEqual([true, false, false, false, false]);
    // Nothing recorded, so no rollback id is handed out.
    expect(simulated.every((d) => d.rollbackId === undefined)).toBe(true);

    expect(await recordedDecisions(service.app)).toEqual([]);
    expect((await request(service.app).get('/api/v1/cooldowns')).body).toEqual({ cooldowns: [] });
    expect((await request(service.app).get('/api/v1/status')).body).toMatchObject({ pendingIntents: 0, brake: { recentRollbacks: 0 } });

    // The real post is not a duplicate of the simulation, and decides the same way.
    const real = await decideVia(service.app, body);
    expect(real.map((d) => d.decision)).toEqual(simulated.map((d) => d.decision));
    real.forEach((d, i) => {
      const { wouldRollBack: _w, rollbackId: _r, plan, ...sameFields } = simulated[i]!;
      const { rollbackId: _rr, ...realFields } = d;
      expect(realFields).toEqual(sameFields);
      // Without a cluster there is no plan to show (the envtest tests cover plans).
      expect(plan).toBeNull();
    });
    expect(real[0]!.rollbackId).toEqual(expect.any(String));
  });

  it('validates the body like the webhook does', async () => {
    const { service } = start();
    const bad = await request(service.app).post('/api/v1/simulate').set('Content-Type', 'application/json').send('{"version":"3"}');
    expect(bad.status).toBe(400);
    expect((bad.body as { problems: string[] }).problems).toEqual(expect.arrayContaining([expect.stringMatching(/^version: /)]));
    const plain = await request(service.app).post('/api/v1/simulate').set('Content-Type', 'text/plain').send('{}');
    expect(plain.status).toBe(415);
  });
});

describe('GET /api/v1/decisions', () => {
  async function seeded() {
    const s = start();
    await decideVia(
      s.service.app,
      payload([
        alert({ labels: { namespace: 'prod', deployment: 'api' } }),
        alert({ labels: { namespace: 'prod', deployment: 'api' } }),
        alert({ labels: { namespace: 'prod', deployment: 'web', rollback_trigger: 'health_check' } }),
        alert({ labels: { namespace: 'staging', deployment: 'api' } }),
        alert({ labels: { alertname: 'Watchdog', rollback_trigger: 'none' } }),
      ]),
    );
    return s;
  }

  it('lists recent decisions, newest first, with reasons', async () => {
    const { service } = await seeded();
    const all = await recordedDecisions(service.app);
    expect(all).toHaveLength(5);
    expect(all.map((d) => d.decision)).toEqual(['no_match', 'dry_run', 'dry_run', 'cooldown', 'dry_run']);
    expect(all[3]).toMatchObject({
      at: new Date(T0).toISOString(),
      alertname: 'HighErrorRate',
      status: 'firing',
      trigger: 'error_rate',
      namespace: 'prod',
      name: 'api',
      strategy: 'deployment-undo',
      decision: 'cooldown',
      reason: expect.stringContaining('cooldown of 300s'),
      rollbackId: null,
      pendingOf: null,
      dueAt: null,
      labels: expect.objectContaining({ deployment: 'api' }),
    });
    expect(all[4]!.rollbackId).toEqual(expect.any(String));
  });

  it('filters by namespace, name, decision, trigger and limit', async () => {
    const { service } = await seeded();
    const names = async (q: Record<string, string | number>) => (await recordedDecisions(service.app, q)).map((d) => `${d.namespace}/${d.name}:${d.decision}`);
    expect(await names({ namespace: 'staging' })).toEqual(['staging/api:dry_run']);
    expect(await names({ name: 'api' })).toEqual(['staging/api:dry_run', 'prod/api:cooldown', 'prod/api:dry_run']);
    expect(await names({ namespace: 'prod', name: 'api' })).toEqual(['prod/api:cooldown', 'prod/api:dry_run']);
    expect(await names({ decision: 'dry_run' })).toEqual(['staging/api:dry_run', 'prod/web:dry_run', 'prod/api:dry_run']);
    expect(await names({ decision: 'no_match' })).toEqual(['null/null:no_match']);
    expect(await names({ trigger: 'health_check' })).toEqual(['prod/web:dry_run']);
    expect(await names({ namespace: 'prod', decision: 'cooldown' })).toEqual(['prod/api:cooldown']);
    expect(await names({ limit: 2 })).toEqual(['null/null:no_match', 'staging/api:dry_run']);
    expect(await names({ namespace: 'nowhere' })).toEqual([]);
  });

  it('400 naming the parameter for an unknown decision, a bad limit or an unknown parameter', async () => {
    const { service } = start();
    const cases: [Record<string, string>, RegExp][] = [
      [{ decision: 'exploded' }, /^decision: /],
      [{ limit: '0' }, /^limit: /],
      [{ limit: 'ten' }, /^limit: /],
      [{ limit: '5000' }, /^limit: /],
      [{ limit: '2.5' }, /^limit: /],
      [{ colour: 'blue' }, /colour/],
    ];
    for (const [query, problem] of cases) {
      const res = await request(service.app).get('/api/v1/decisions').query(query);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'invalid query', problems: [expect.stringMatching(problem)] });
    }
  });
});

describe('cooldowns', () => {
  it('GET lists the active cooldowns', async () => {
    const { service, clock } = start();
    await decideVia(service.app, payload([alert({ labels: { deployment: 'api' } })]));
    clock.advance(60_000);
    const res = await request(service.app).get('/api/v1/cooldowns');
    expect(res.status).toBe(200);
    expect((res.body as { cooldowns: CooldownEntry[] }).cooldowns).toEqual([
      {
        namespace: 'prod',
        name: 'api',
        lastRollbackAt: '2026-11-27T07:00:00.000Z',
        lastRollbackEndedAt: '2026-11-27T07:00:00.000Z',
        endsAt: '2026-11-27T07:05:00.000Z',
        remainingSeconds: 240,
        attemptsInRetryWindow: 1,
        retriesExhausted: false,
      },
    ]);
    clock.advance(240_000);
    expect((await request(service.app).get('/api/v1/cooldowns')).body).toEqual({ cooldowns: [] });
  });

  it('DELETE is an operator route: 403 without an operator token configured', async () => {
    const { service } = start();
    const res = await request(service.app).delete('/api/v1/cooldowns/prod/api');
    expect(res.status).toBe(403);
    expect((res.body as { error: string }).error).toMatch(/^operator token not configured/);
  });

  it('DELETE: 401 with a wrong token, 200 with the right one; the next alert then acts again', async () => {
    const { service } = start({ credentials: { operatorToken: OPERATOR_TOKEN } });
    expect((await decideVia(service.app, payload([alert()])))[0]!.decision).toBe('dry_run');
    expect((await decideVia(service.app, payload([alert()])))[0]!.decision).toBe('cooldown');

    for (const authorization of [undefined, bearer('wrong'), basic('ops', 'wrong')]) {
      const req = request(service.app).delete('/api/v1/cooldowns/prod/api');
      if (authorization) req.set('Authorization', authorization);
      const res = await req;
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Basic realm="rollback-receiver"/);
    }
    expect((await decideVia(service.app, payload([alert()])))[0]!.decision).toBe('cooldown');

    const res = await request(service.app).delete('/api/v1/cooldowns/prod/api').set('Authorization', OP);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ namespace: 'prod', name: 'api', cleared: { name: 'api', remainingSeconds: 300 }, message: 'cooldown and retry count cleared' });
    expect((await request(service.app).get('/api/v1/cooldowns').set('Authorization', OP)).body).toEqual({ cooldowns: [] });
    expect((await decideVia(service.app, payload([alert()])))[0]!.decision).toBe('dry_run');
  });

  it('DELETE with basic auth (any user, token as password) for browsers', async () => {
    const { service } = start({ credentials: { operatorToken: OPERATOR_TOKEN } });
    const res = await request(service.app).delete('/api/v1/cooldowns/prod/api').set('Authorization', basic('admin', OPERATOR_TOKEN));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ cleared: null, message: expect.stringContaining('no active cooldown') });
  });

  it('DELETE: 400 for an invalid namespace or name', async () => {
    const { service } = start({ credentials: { operatorToken: OPERATOR_TOKEN } });
    const badName = await request(service.app).delete('/api/v1/cooldowns/prod/Not_A_Name').set('Authorization', OP);
    expect(badName.status).toBe(400);
    expect((badName.body as { error: string }).error).toContain('name "Not_A_Name"');
    const badNs = await request(service.app).delete(`/api/v1/cooldowns/${'n'.repeat(64)}/api`).set('Authorization', OP);
    expect(badNs.status).toBe(400);
    expect((badNs.body as { error: string }).error).toMatch(/^namespace /);
  });
});

describe('freeze', () => {
  it('PUT freezes with a reason, decisions say frozen, DELETE resumes', async () => {
    const { service, clock } = start({ credentials: { operatorToken: OPERATOR_TOKEN } });
    const put = await request(service.app)
      .put('/api/v1/freeze')
      .set('Authorization', OP)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ reason: 'black friday change freeze' }));
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ frozen: true, since: new Date(T0).toISOString(), reason: 'black friday change freeze' });

    clock.advance(1000);
    const frozen = await decideVia(service.app, payload([alert()]));
    expect(frozen[0]).toMatchObject({
      decision: 'frozen',
      reason: 'automatic rollbacks frozen since 2026-11-27T07:00:00.000Z: black friday change freeze',
    });
    expect(frozen[0]!.rollbackId).toBeUndefined();
    expect((await request(service.app).get('/api/v1/status').set('Authorization', OP)).body).toMatchObject({
      freeze: { frozen: true, reason: 'black friday change freeze' },
    });

    const del = await request(service.app).delete('/api/v1/freeze').set('Authorization', OP);
    expect(del.status).toBe(200);
    expect(del.body).toEqual({ frozen: false });
    expect((await decideVia(service.app, payload([alert()])))[0]!.decision).toBe('dry_run');
  });

  it('PUT without a body freezes with an empty reason; a bad body is 400', async () => {
    const { service } = start({ credentials: { operatorToken: OPERATOR_TOKEN } });
    const put = await request(service.app).put('/api/v1/freeze').set('Authorization', OP);
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ frozen: true, reason: '' });
    expect((await decideVia(service.app, payload([alert()])))[0]!.reason).toBe('automatic rollbacks frozen since 2026-11-27T07:00:00.000Z');

    const bad = await request(service.app).put('/api/v1/freeze').set('Authorization', OP).set('Content-Type', 'application/json').send('{"reason": 5}');
    expect(bad.status).toBe(400);
    expect((bad.body as { problems: string[] }).problems).toEqual([expect.stringMatching(/^reason: /)]);
  });

  it('is operator-only: 403 without an operator token configured, 401 with a wrong one', async () => {
    const open = start();
    for (const method of ['put', 'delete'] as const) {
      const res = await request(open.service.app)[method]('/api/v1/freeze');
      expect(res.status).toBe(403);
      expect((res.body as { error: string }).error).toMatch(/^operator token not configured/);
    }
    const secured = start({ credentials: { operatorToken: OPERATOR_TOKEN } });
    for (const method of ['put', 'delete'] as const) {
      expect((await request(secured.service.app)[method]('/api/v1/freeze')).status).toBe(401);
      expect((await request(secured.service.app)[method]('/api/v1/freeze').set('Authorization', bearer('nope'))).status).toBe(401);
    }
    // Nothing got frozen by the refused calls.
    expect((await decideVia(open.service.app, payload([alert()])))[0]!.decision).toBe('dry_run');
    expect((await decideVia(secured.service.app, payload([alert()])))[0]!.decision).toBe('dry_run');
  });
});

describe('GET /api/v1/status', () => {
  it('reports mode, freeze, brake, store and triggers', async () => {
    const { service } = start();
    const res = await request(service.app).get('/api/v1/status');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      mode: 'dry-run',
      draining: false,
      freeze: { frozen: false },
      brake: { max: 10, windowSeconds: 900, recentRollbacks: 0, tripped: false, holdsUntil: null },
      pendingIntents: 0,
      store: { path: service.store.path, ok: true },
      versions: { rollbackReceiver: expect.any(String), node: process.version },
      startedAt: new Date(T0).toISOString(),
    });
    const triggers = (res.body as { triggers: { name: string; matchers: string[]; actAfterSeconds: number; automatic: boolean; threshold: number | null }[] }).triggers;
    expect(triggers.map((t) => [t.name, t.actAfterSeconds])).toEqual([
      ['health_check', 0],
      ['error_rate', 0],
      ['response_time', 120],
      ['cpu', 120],
      ['memory', 120],
    ]);
    expect(triggers[1]).toMatchObject({ matchers: ['rollback_trigger="error_rate"'], automatic: true, threshold: 0.1 });
  });

  it('follows the brake and the pending intents', async () => {
    const { service } = start();
    const alerts = Array.from({ length: 11 }, (_, i) => alert({ labels: { deployment: `svc-${i}` } }));
    alerts.push(alert({ labels: { deployment: 'slow', rollback_trigger: 'response_time' } }));
    const decisions = await decideVia(service.app, payload(alerts));
    expect(decisions.filter((d) => d.decision === 'dry_run')).toHaveLength(10);
    expect(decisions[10]).toMatchObject({ decision: 'rate_limited', reason: expect.stringContaining('global brake tripped') });

    const status = (await request(service.app).get('/api/v1/status')).body as Record<string, unknown>;
    expect(status).toMatchObject({
      brake: { recentRollbacks: 10, tripped: true, holdsUntil: '2026-11-27T07:15:00.000Z' },
      pendingIntents: 0,
    });
    // The brake holds before actAfter is even considered.
    expect(decisions[11]!.decision).toBe('rate_limited');
  });

  it('counts pending intents', async () => {
    const { service } = start();
    await decideVia(service.app, payload([alert({ labels: { rollback_trigger: 'response_time' } }), alert({ labels: { deployment: 'b', rollback_trigger: 'cpu' } })]));
    expect((await request(service.app).get('/api/v1/status')).body).toMatchObject({ pendingIntents: 2 });
  });
});

describe('auth of read routes', () => {
  const READ_ROUTES: [string, string][] = [
    ['get', '/api/v1/decisions'],
    ['get', '/api/v1/cooldowns'],
    ['get', '/api/v1/status'],
    ['get', '/api/v1/rollbacks'],
    ['post', '/api/v1/simulate'],
  ];

  function call(app: Parameters<typeof request>[0], method: string, path: string): request.Test {
    const agent = request(app);
    const req = method === 'post' ? agent.post(path).set('Content-Type', 'application/json').send(JSON.stringify(payload([alert()]))) : agent.get(path);
    return req;
  }

  it('are open without an operator token configured', async () => {
    const { service } = start();
    for (const [method, path] of READ_ROUTES) expect([path, (await call(service.app, method, path)).status]).toEqual([path, 200]);
  });

  it('need the operator token once one is set (bearer or basic), 401 otherwise', async () => {
    const { service } = start({ credentials: { operatorToken: OPERATOR_TOKEN, webhookToken: 'webhook-only' } });
    for (const [method, path] of READ_ROUTES) {
      const none = await call(service.app, method, path);
      expect([path, none.status]).toEqual([path, 401]);
      expect(none.headers['www-authenticate']).toBe('Basic realm="rollback-receiver", charset="UTF-8"');
      expect((await call(service.app, method, path).set('Authorization', bearer('webhook-only'))).status).toBe(401);
      expect([path, (await call(service.app, method, path).set('Authorization', OP)).status]).toEqual([path, 200]);
      expect([path, (await call(service.app, method, path).set('Authorization', basic('browser', OPERATOR_TOKEN))).status]).toEqual([path, 200]);
    }
  });

  it('health and metrics stay open when tokens are set', async () => {
    const { service } = start({ credentials: { operatorToken: OPERATOR_TOKEN, webhookToken: 'webhook-only' } });
    for (const path of ['/health/live', '/health/ready', '/metrics']) expect([path, (await request(service.app).get(path)).status]).toEqual([path, 200]);
  });
});

describe('health, rollbacks and unknown routes', () => {
  it('/health/live and /health/ready answer ok while running; ready goes 503 once closed', async () => {
    const s = start();
    expect((await request(s.service.app).get('/health/live')).body).toEqual({ status: 'ok' });
    const ready = await request(s.service.app).get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', checks: { store: 'ok' } });

    await s.close();
    const after = await request(s.service.app).get('/health/ready');
    expect(after.status).toBe(503);
    expect(after.body).toMatchObject({ status: 'not ready', checks: { store: expect.stringMatching(/^failing: /), shutdown: 'draining' } });
    expect((await request(s.service.app).get('/health/live')).status).toBe(200);
  });

  it('GET /api/v1/rollbacks lists the dry-run rollbacks; an unknown id is 404', async () => {
    const { service } = start();
    const [d] = await decideVia(service.app, payload([alert()]));
    const list = await request(service.app).get('/api/v1/rollbacks');
    expect((list.body as { rollbacks: { id: string; status: string }[] }).rollbacks).toEqual([
      expect.objectContaining({ id: d!.rollbackId, status: 'dry_run', namespace: 'prod', name: 'api', kind: 'automatic', window: null }),
    ]);
    const missing = await request(service.app).get('/api/v1/rollbacks/does-not-exist');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: 'no rollback does-not-exist' });
  });

  it('an unknown route is a JSON 404', async () => {
    const { service } = start();
    for (const [method, path] of [
      ['get', '/api/v1/nothing'],
      ['post', '/api/v1/decisions'],
      ['get', '/webhook'],
    ] as const) {
      const res = await request(service.app)[method](path);
      expect(res.status).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toEqual({ error: `no route ${method.toUpperCase()} ${path}` });
    }
  });

  it('a webhook posted while the service is draining is refused with 503 and Retry-After', async () => {
    const s = start();
    await s.close();
    const res = await postWebhook(s.service.app, payload([alert()]));
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
  });
});
