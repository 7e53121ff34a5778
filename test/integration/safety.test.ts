/**
 * Safety at the HTTP edge, without a cluster: malformed input is a 4xx never a 500, a bug
 * is a 500 never a 503 (Alertmanager would resend it forever) and records nothing, the
 * quarantine API, overdue pending intents waiting `rollback.startupGrace`, and the real
 * PendingTimer deciding a due intent on the real clock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { ManualClock, systemClock } from '../../src/clock.js';
import { loadCredentials } from '../../src/http/auth.js';
import { alert, payload } from '../support/alerts.js';
import { startTestService, T0, type TestService } from '../support/service.js';
import { bearer, decideVia, postWebhook, recordedDecisions, serviceFactory } from './helpers.js';
import { waitFor } from '../envtest/wait.js';

const start = serviceFactory();
const OPERATOR_TOKEN = 'op-safety-token';
const OP = bearer(OPERATOR_TOKEN);
const TARGET = { namespace: 'prod', name: 'api' };
const rev = (id: string, number: number, image: string) => ({ id, number, label: `revision ${number} (${image})`, images: [image] });

describe('malformed input is a 4xx naming the problem, never a 500', () => {
  it.each([
    ['GET', '/api/v1/rollbacks/%ff'],
    ['GET', '/api/v1/rollbacks/%ff/report'],
    ['GET', '/api/v1/windows/%ff'],
    ['DELETE', '/api/v1/cooldowns/%ff/x'],
    ['DELETE', '/api/v1/quarantine/%E0%A4%A/api'],
  ])('%s %s', async (method, path) => {
    const { service } = start({ credentials: { operatorToken: OPERATOR_TOKEN } });
    const res = await request(service.app)[method === 'GET' ? 'get' : 'delete'](path).set('Authorization', OP);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'malformed percent-encoding in the request path' });
  });
});

describe('a bug while deciding', () => {
  /** A clock that fails once on demand: a stand-in for any bug inside the decision pass. */
  class FaultyClock extends ManualClock {
    fail = false;
    override now(): number {
      if (this.fail) {
        this.fail = false;
        throw new TypeError('injected bug');
      }
      return super.now();
    }
  }

  it('answers 500 (not 503: Alertmanager would resend it forever), records nothing, and the next payload is decided', async () => {
    const clock = new FaultyClock(T0);
    const { service } = start({ clock });
    const body = payload([alert({ labels: { deployment: 'api' } })]);
    clock.fail = true;
    const res = await postWebhook(service.app, body);
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: 'internal error' });
    expect(await recordedDecisions(service.app)).toEqual([]);
    const [again] = await decideVia(service.app, body);
    expect(again!.decision).toBe('dry_run');
  });
});

describe('quarantine API', () => {
  async function withMarks(s: TestService): Promise<void> {
    await s.service.dispatcher.record([
      { type: 'revision-mark', target: TARGET, mark: { revision: rev('bbbbbbbbbbb2', 2, 'app:broken'), status: 'bad', since: T0, rollbackId: 'r1' } },
      { type: 'revision-mark', target: TARGET, mark: { revision: rev('aaaaaaaaaaa1', 1, 'app:v1'), status: 'known-good', since: T0 + 1000, rollbackId: 'r1' } },
      { type: 'revision-mark', target: { namespace: 'prod', name: 'web' }, mark: { revision: rev('ccccccccccc3', 3, 'web:v3'), status: 'bad', since: T0 + 2000, rollbackId: 'r2' } },
    ]);
  }

  it('GET lists bad and known-good revisions, newest first, filterable; it is a read route', async () => {
    const s = start({ credentials: { operatorToken: OPERATOR_TOKEN } });
    await withMarks(s);
    expect((await request(s.service.app).get('/api/v1/quarantine')).status).toBe(401);
    const all = await request(s.service.app).get('/api/v1/quarantine').set('Authorization', OP);
    expect(all.status).toBe(200);
    expect(all.body.revisions.map((r: { name: string; revision: string; status: string }) => `${r.name} ${r.revision} ${r.status}`)).toEqual([
      'web ccccccccccc3 bad',
      'api aaaaaaaaaaa1 known-good',
      'api bbbbbbbbbbb2 bad',
    ]);
    expect(all.body.revisions[2]).toEqual({
      namespace: 'prod',
      name: 'api',
      revision: 'bbbbbbbbbbb2',
      label: 'revision 2 (app:broken)',
      number: 2,
      images: ['app:broken'],
      status: 'bad',
      since: '2026-11-27T07:00:00.000Z',
      rollbackId: 'r1',
    });
    const filtered = await request(s.service.app).get('/api/v1/quarantine').query({ namespace: 'prod', name: 'api', status: 'bad' }).set('Authorization', OP);
    expect(filtered.body.revisions).toHaveLength(1);
    const bad = await request(s.service.app).get('/api/v1/quarantine').query({ status: 'dubious' }).set('Authorization', OP);
    expect(bad.status).toBe(400);
    expect(bad.body.problems[0]).toMatch(/^status: /);
  });

  it('DELETE clears one revision or all bad revisions of a target; known-good ones stay; it survives a restart', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'rr-quarantine-'));
    try {
      const s = startTestService({ stateDir, credentials: { operatorToken: OPERATOR_TOKEN } });
      await withMarks(s);
      expect((await request(s.service.app).delete('/api/v1/quarantine/prod/api/ddddddddddd4').set('Authorization', OP)).status).toBe(404);
      expect((await request(s.service.app).delete('/api/v1/quarantine/prod/api/not a revision').set('Authorization', OP)).status).toBe(400);
      expect((await request(s.service.app).delete('/api/v1/quarantine/Prod/api').set('Authorization', OP)).status).toBe(400);
      const one = await request(s.service.app).delete('/api/v1/quarantine/prod/api/bbbbbbbbbbb2').set('Authorization', OP);
      expect(one.status).toBe(200);
      expect(one.body).toMatchObject({ namespace: 'prod', name: 'api', cleared: [{ revision: 'bbbbbbbbbbb2' }] });
      const all = await request(s.service.app).delete('/api/v1/quarantine/prod/web').set('Authorization', OP);
      expect(all.body.cleared).toHaveLength(1);
      await s.close();
      const again = startTestService({ stateDir, credentials: { operatorToken: OPERATOR_TOKEN } });
      const left = await request(again.service.app).get('/api/v1/quarantine').set('Authorization', OP);
      expect(left.body.revisions.map((r: { revision: string; status: string }) => `${r.revision} ${r.status}`)).toEqual(['aaaaaaaaaaa1 known-good']);
      await again.close();
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it('DELETE is an operator route: 403 without an operator token configured', async () => {
    const { service } = start();
    expect((await request(service.app).delete('/api/v1/quarantine/prod/api')).status).toBe(403);
  });
});

describe('pending intents at start', () => {
  it('an intent overdue at start waits rollback.startupGrace, so a resolution Alertmanager retried meanwhile still cancels it', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'rr-grace-'));
    const slow = alert({ labels: { rollback_trigger: 'response_time', deployment: 'api' } });
    try {
      const first = startTestService({ stateDir, credentials: { operatorToken: OPERATOR_TOKEN } });
      expect((await decideVia(first.service.app, payload([slow])))[0]!.decision).toBe('pending');
      await first.close();
      // Down for 5 minutes: the intent (due after 2) is overdue when the receiver comes back.
      const clock = new ManualClock(T0 + 5 * 60_000);
      const second = startTestService({ stateDir, clock, credentials: { operatorToken: OPERATOR_TOKEN } });
      try {
        await second.service.dispatcher.redecideDue();
        expect((await recordedDecisions(second.service.app, {}, OP)).map((d) => d.decision)).toEqual(['pending']);
        clock.advance(30_000);
        const [resolved] = await decideVia(second.service.app, payload([{ ...slow, status: 'resolved', endsAt: new Date(T0 + 4 * 60_000).toISOString() }]));
        expect(resolved).toMatchObject({ decision: 'resolved', reason: expect.stringMatching(/cancelled the pending intent/) });
        clock.advance(60_000);
        await second.service.dispatcher.redecideDue();
        expect((await recordedDecisions(second.service.app, {}, OP)).map((d) => d.decision)).toEqual(['resolved', 'pending']);
      } finally {
        await second.close();
      }
      // Without a resolution, the intent is decided once the grace has passed.
      const third = startTestService({ stateDir: mkdtempSync(join(tmpdir(), 'rr-grace-')), clock: new ManualClock(T0) });
      try {
        expect((await decideVia(third.service.app, payload([alert({ labels: { rollback_trigger: 'cpu', deployment: 'api' } })])))[0]!.decision).toBe('pending');
        await third.close();
        const clock4 = new ManualClock(T0 + 10 * 60_000);
        const fourth = startTestService({ stateDir: third.stateDir, clock: clock4 });
        await fourth.service.dispatcher.redecideDue();
        expect((await recordedDecisions(fourth.service.app)).map((d) => d.decision)).toEqual(['pending']);
        clock4.advance(60_000);
        await fourth.service.dispatcher.redecideDue();
        expect((await recordedDecisions(fourth.service.app)).map((d) => d.decision)).toEqual(['dry_run', 'pending']);
        await fourth.destroy();
      } finally {
        rmSync(third.stateDir, { recursive: true, force: true });
      }
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it('the real PendingTimer decides a due intent on the real clock, linked to its pending decision', async () => {
    const s = startTestService({ clock: systemClock, yaml: 'rollback:\n  triggers:\n    - name: response_time\n      actAfter: 1s\n' });
    try {
      const [pending] = await decideVia(s.service.app, payload([alert({ labels: { rollback_trigger: 'response_time', deployment: 'api' }, startsAt: new Date().toISOString() })]));
      expect(pending!.decision).toBe('pending');
      const final = await waitFor(
        async () => (await recordedDecisions(s.service.app)).find((d) => d.pendingOf !== null),
        10_000,
        { description: 'the pending intent decided by its timer', intervalMs: 100 },
      );
      expect(final).toMatchObject({ decision: 'dry_run', rollbackId: expect.any(String) });
    } finally {
      await s.destroy();
    }
  });
});

describe('credentials', () => {
  it('tokens read from the environment or a file are trimmed (a pasted newline still matches)', () => {
    expect(loadCredentials({ ROLLBACK_WEBHOOK_TOKEN: '  hook-token\n', ROLLBACK_OPERATOR_TOKEN: 'op\n' })).toEqual({ webhookToken: 'hook-token', operatorToken: 'op' });
  });
});
