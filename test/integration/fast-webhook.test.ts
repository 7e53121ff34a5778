/**
 * The /webhook fast path answers exactly as the express route: the same requests sent to
 * a service's express app and to its server handler (fast path first) get the same
 * status, body and headers — refusals the fast path hands to express included — and the
 * same metrics and request log line.
 */
import request from 'supertest';
import { alert, payload } from '../support/alerts.js';
import { startTestService, type TestService } from '../support/service.js';

const TOKEN = 'webhook-token-for-fast-path';
const services: TestService[] = [];
afterAll(async () => {
  for (const s of services) await s.destroy();
});

function pair(yaml = '') {
  const make = () => {
    const s = startTestService({ yaml, credentials: { webhookToken: TOKEN } });
    services.push(s);
    return s;
  };
  return { viaExpress: make(), viaServer: make() };
}

type Send = (r: request.Test) => request.Test;

interface Seen {
  status: number;
  body: unknown;
  text: string;
  headers: Record<string, string | undefined>;
}

async function send(handler: Parameters<typeof request>[0], how: Send): Promise<Seen> {
  const res = await how(request(handler).post('/webhook'));
  const h = res.headers as Record<string, string | undefined>;
  return {
    status: res.status,
    body: res.body as unknown,
    text: res.text,
    headers: { type: h['content-type'], replica: h['x-rollback-receiver-replica'], auth: h['www-authenticate'], retry: h['retry-after'] },
  };
}

const json = (body: string, auth = `Bearer ${TOKEN}`): Send => (r) => r.set('Content-Type', 'application/json').set('Authorization', auth).send(body);

const CASES: [string, Send][] = [
  ['a valid payload', json(JSON.stringify(payload([alert({ fingerprint: 'aaaa000000000001' }), alert({ labels: { deployment: 'web' }, fingerprint: 'aaaa000000000002' })])))],
  ['the same payload again (dedup)', json(JSON.stringify(payload([alert({ fingerprint: 'aaaa000000000001' })])))],
  ['a truncated group', json(JSON.stringify(payload([alert({ fingerprint: 'aaaa000000000003', labels: { deployment: 'b' } })], { truncatedAlerts: 3 })))],
  ['charset=utf-8 and a BOM', (r) => r.set('Content-Type', 'application/json; charset=utf-8').set('Authorization', `Bearer ${TOKEN}`).send(`\uFEFF${JSON.stringify(payload([alert({ fingerprint: 'aaaa000000000004', labels: { deployment: 'c' } })]))}`)],
  ['basic auth with the token as password', json(JSON.stringify(payload([alert({ fingerprint: 'aaaa000000000005', labels: { deployment: 'd' } })])), `Basic ${Buffer.from(`am:${TOKEN}`).toString('base64')}`)],
  ['malformed JSON', json('{"version": "4",')],
  ['an empty body', json('')],
  ['a lone surrogate in a label', json(JSON.stringify(payload([alert({ fingerprint: 'aaaa000000000006' })])).replace('"deployment":"api"', '"deployment":"a\\ud800pi"'))],
  ['JSON that is no payload', json('[1, 2, 3]')],
  ['a payload with wrong fields', json(JSON.stringify({ ...payload([alert()]), version: '3', alerts: [{ status: 'maybe' }] }))],
  ['a wrong token', json(JSON.stringify(payload([alert()])), 'Bearer nope')],
  ['no token', (r) => r.set('Content-Type', 'application/json').send(JSON.stringify(payload([alert()])))],
  ['text/plain', (r) => r.set('Content-Type', 'text/plain').set('Authorization', `Bearer ${TOKEN}`).send('{}')],
  ['a latin-1 charset', (r) => r.set('Content-Type', 'application/json; charset=latin1').set('Authorization', `Bearer ${TOKEN}`).send('{}')],
  ['a body over the limit', json(JSON.stringify({ pad: 'x'.repeat(2048) }))],
];

describe('POST /webhook: fast path and express answer alike', () => {
  it('for valid, invalid, refused and oversized requests', async () => {
    const { viaExpress, viaServer } = pair('server:\n  bodyLimit: 1024\n');
    for (const [what, how] of CASES) {
      const [a, b] = [await send(viaExpress.service.app, how), await send(viaServer.service.handler, how)];
      // Rollback ids are random; everything else must match byte for byte.
      const strip = (s: Seen) => ({ ...s, body: JSON.parse(JSON.stringify(s.body).replace(/"rollbackId":"[^"]+"/g, '"rollbackId":"…"')) as unknown, text: undefined });
      expect({ what, ...strip(b) }).toEqual({ what, ...strip(a) });
    }
    const statuses = async (s: TestService) => (await request(s.service.app).get('/metrics')).text.split('\n').filter((l) => l.startsWith('rollback_webhooks_received_total'));
    expect(await statuses(viaServer)).toEqual(await statuses(viaExpress));
    expect((await statuses(viaServer)).length).toBeGreaterThan(2);
    const requestLines = (s: TestService) =>
      s.logs.lines
        .map((l) => JSON.parse(l) as { msg: string; level: string; req?: { method: string; url: string }; res?: { statusCode: number } })
        .filter((l) => l.msg === 'request completed' && l.req?.url === '/webhook')
        .map((l) => `${l.level} ${l.req!.method} ${l.res!.statusCode}`);
    expect(requestLines(viaServer)).toEqual(requestLines(viaExpress));
    expect(requestLines(viaServer)).toHaveLength(CASES.length);
  });

  it('while shutting down, both answer 503 with Retry-After', async () => {
    const { viaExpress, viaServer } = pair();
    await viaExpress.service.close();
    await viaServer.service.close();
    const how = json(JSON.stringify(payload([alert()])));
    const [a, b] = [await send(viaExpress.service.app, how), await send(viaServer.service.handler, how)];
    expect(b).toEqual(a);
    expect(a.status).toBe(503);
    expect(a.headers.retry).toBe('5');
  });
});
