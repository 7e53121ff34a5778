/**
 * What the status page shows for state the browser test does not set up (a running
 * rollback, a freeze, a pending intent), its headers, and its answer when no operator
 * token is configured. Real service, real SQLite, pinned clock.
 */
import request from 'supertest';
import type { RollbackRecord } from '../../src/store/records.js';
import { alert, payload } from '../support/alerts.js';
import { T0 } from '../support/service.js';
import { basic, decideVia, serviceFactory } from '../integration/helpers.js';

const start = serviceFactory();
const TOKEN = 'render-test-operator-token';
const AUTH = basic('sre', TOKEN);

/** The text of one section of the page, tags dropped. */
function section(html: string, id: string): string {
  const m = new RegExp(`<section id="${id}"[^>]*>([\\s\\S]*?)</section>`).exec(html);
  if (!m) throw new Error(`no section #${id} in the page`);
  return m[1]!.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
}

describe('GET / (status page)', () => {
  it('shows a running rollback with its current step, the freeze with its reason, and an alert waiting to act', async () => {
    const { service, clock } = start({ credentials: { operatorToken: TOKEN } });
    const running: RollbackRecord = {
      id: 'rb-running-1',
      namespace: 'shop',
      name: 'checkout',
      strategy: 'blue-green',
      kind: 'manual',
      status: 'running',
      reason: 'bad release',
      trigger: null,
      decisionId: null,
      startedAt: T0,
      finishedAt: null,
      dryRun: false,
      objects: ['Service:shop/checkout', 'Deployment:shop/checkout-blue', 'Deployment:shop/checkout-green'],
      pin: null,
      steps: [
        { at: T0, name: 'requested', detail: 'manual rollback requested by an operator: bad release' },
        { at: T0 + 5_000, name: 'scale-standby', detail: 'scaling checkout-blue to 3 replicas, waiting until ready' },
      ],
    };
    await service.dispatcher.record([{ type: 'rollback', record: running }]);
    await request(service.app).put('/api/v1/freeze').set('Authorization', AUTH).set('Content-Type', 'application/json').send({ reason: 'INC-7 <b>db migration</b>' });
    await decideVia(service.app, payload([alert({ labels: { rollback_trigger: 'response_time', namespace: 'shop', deployment: 'search' }, startsAt: new Date(T0).toISOString() })]));
    clock.advance(30_000);

    const res = await request(service.app).get('/').set('Authorization', AUTH);
    expect(res.status).toBe(200);
    expect(section(res.text, 'running')).toContain('shop/checkout blue-green manual');
    expect(section(res.text, 'running')).toContain('scale-standby scaling checkout-blue to 3 replicas, waiting until ready');
    expect(section(res.text, 'running')).toContain('(30s ago)');
    expect(res.text).toContain('<a href="/api/v1/rollbacks/rb-running-1/report">');
    expect(section(res.text, 'switches')).toContain('frozen since 2026-11-27 07:00:00 UTC : INC-7 &lt;b&gt;db migration&lt;/b&gt;');
    // The alert was decided while frozen; after the freeze lifts, a new one waits for actAfter.
    await request(service.app).delete('/api/v1/freeze').set('Authorization', AUTH);
    await decideVia(service.app, payload([alert({ labels: { rollback_trigger: 'response_time', namespace: 'shop', deployment: 'search' }, startsAt: new Date(T0 + 1).toISOString() })]));
    const later = await request(service.app).get('/').set('Authorization', AUTH);
    expect(section(later.text, 'pending')).toMatch(/shop\/search response_time HighErrorRate in 2m /);
    expect(section(later.text, 'decisions')).toMatch(/pending .*frozen/);
  });

  it('shows quarantined and known-good revisions, and a running rollback\'s pinned destination', async () => {
    const { service } = start({ credentials: { operatorToken: TOKEN } });
    const target = { namespace: 'prod', name: 'api' };
    const v2 = { id: 'bbbbbbbbbbb2', number: 2, label: 'revision 2 (app:broken)', images: ['app:broken'] };
    const v1 = { id: 'aaaaaaaaaaa1', number: 1, label: 'revision 1 (app:v1)', images: ['app:v1'] };
    await service.dispatcher.record([
      { type: 'revision-mark', target, mark: { revision: v2, status: 'bad', since: T0, rollbackId: 'rb-1' } },
      { type: 'revision-mark', target, mark: { revision: v1, status: 'known-good', since: T0 + 60_000, rollbackId: 'rb-1' } },
    ]);
    const res = await request(service.app).get('/').set('Authorization', AUTH);
    const text = section(res.text, 'quarantine');
    expect(text).toContain('prod/api quarantined revision 2 (app:broken) bbbbbbbbbbb2 2026-11-27 07:00:00 UTC — until an operator clears it');
    expect(text).toContain('prod/api known-good revision 1 (app:v1) aaaaaaaaaaa1 2026-11-27 07:01:00 UTC');
  });

  it('allows no script, no framing and no caching', async () => {
    const { service } = start({ credentials: { operatorToken: TOKEN } });
    const res = await request(service.app).get('/').set('Authorization', AUTH);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toMatch(/^default-src 'none'; style-src 'unsafe-inline';/);
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).not.toMatch(/<script/i);
  });

  it('is refused with 403 naming the fix while no operator token is configured', async () => {
    const { service } = start();
    const res = await request(service.app).get('/');
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: 'operator token not configured (set ROLLBACK_OPERATOR_TOKEN or ROLLBACK_OPERATOR_TOKEN_FILE)' });
  });
});
