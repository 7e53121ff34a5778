/** Bugs the hostile-input property tests and fuzz run found, each pinned over HTTP. */
import request from 'supertest';
import { labelsFingerprint } from '../../src/intake/fingerprint.js';
import { bearer, postWebhook, recordedDecisions, serviceFactory } from '../integration/helpers.js';
import { alert, payload } from '../support/alerts.js';

const start = serviceFactory();
const OPERATOR_TOKEN = 'op-3a0c41f7-hostile-regressions';
const OP = bearer(OPERATOR_TOKEN);
const withOperator = () => start({ credentials: { operatorToken: OPERATOR_TOKEN } });

/** A webhook body whose first alert's labels are this raw JSON text (for keys JSON.stringify cannot write twice or as `__proto__`). */
function bodyWithRawLabels(labelsJson: string): string {
  const text = JSON.stringify(payload([alert()]));
  return text.replace(/"labels":\{[^}]*\}/, `"labels":${labelsJson}`);
}

function postRaw(app: Parameters<typeof request>[0], text: string): request.Test {
  return request(app).post('/webhook').set('Content-Type', 'application/json').send(text);
}

describe('durations past the maximum', () => {
  it('refuses a monitoring window of "99999999999999d" with a 400 naming the field, and opens none', async () => {
    const { service } = withOperator();
    const res = await request(service.app).post('/api/v1/windows').set('Authorization', OP).send({ namespace: 'prod', name: 'api', duration: '99999999999999d' });
    expect(res.status).toBe(400);
    expect(res.body.problems).toEqual(['duration: "99999999999999d" is longer than the maximum of 10y']);
    expect((await request(service.app).get('/api/v1/windows').set('Authorization', OP)).body).toEqual({ windows: [] });
    expect((await request(service.app).get('/').set('Authorization', OP)).status).toBe(200);
  });
});

describe('environment names that are Object.prototype keys', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])('answers that "%s" is not a configured environment', async (environment) => {
    const { service } = withOperator();
    for (const [path, body] of [
      ['/api/v1/windows', { environment }],
      ['/api/v1/rollbacks', { environment, reason: 'fuzz', dryRun: true }],
    ] as const) {
      const res = await request(service.app).post(path).set('Authorization', OP).send(body);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe(`unknown environment "${environment}" (configured: none)`);
    }
  });
});

describe('a label named __proto__', () => {
  it('is kept: decided, fingerprinted and recorded with the labels as sent', async () => {
    const { service } = start();
    const labelsJson = '{"__proto__":"p","alertname":"HighErrorRate","rollback_trigger":"error_rate","namespace":"prod","deployment":"api"}';
    const text = bodyWithRawLabels(labelsJson).replace(/,"fingerprint":"[0-9a-f]+"/, '');
    const res = await postRaw(service.handler, text);
    expect(res.status).toBe(200);
    const sent = JSON.parse(labelsJson) as Record<string, string>;
    expect(res.body.decisions[0].fingerprint).toBe(labelsFingerprint(sent));
    expect(labelsFingerprint(sent)).not.toBe(labelsFingerprint({ alertname: 'HighErrorRate', rollback_trigger: 'error_rate', namespace: 'prod', deployment: 'api' }));
    const [recorded] = await recordedDecisions(service.app);
    expect(Object.entries(recorded!.labels)).toEqual(Object.entries(sent));
  });
});

describe('lone UTF-16 surrogates', () => {
  it('refuses the body with a 400 naming where, and records nothing of it', async () => {
    const { service } = start();
    const text = bodyWithRawLabels('{"alertname":"HighErrorRate","rollback_trigger":"error_rate","namespace":"prod","deployment":"api\\ud800"}');
    const res = await postRaw(service.handler, text);
    expect(res.status).toBe(400);
    expect(res.body.problems).toEqual(['alerts[0].labels.deployment: contains a lone UTF-16 surrogate (\\uD800-\\uDFFF); strings must be valid Unicode']);
    expect(await recordedDecisions(service.app)).toEqual([]);
  });

  it('refuses one in an operator body too (a freeze reason), leaving the freeze as it was', async () => {
    const { service } = withOperator();
    const res = await request(service.app).put('/api/v1/freeze').set('Authorization', OP).set('Content-Type', 'application/json').send('{"reason":"\\udc00"}');
    expect(res.status).toBe(400);
    expect(res.body.problems).toEqual(['reason: contains a lone UTF-16 surrogate (\\uD800-\\uDFFF); strings must be valid Unicode']);
    expect((await request(service.app).get('/api/v1/freeze').set('Authorization', OP)).body).toEqual({ frozen: false });
  });

  it('accepts astral characters (surrogate pairs) and records them exactly', async () => {
    const { service } = start();
    const labels = { alertname: 'HighErrorRate \u{1F525}', rollback_trigger: 'error_rate', namespace: 'prod', deployment: 'api', team: '\u{10348}\u202Eק' };
    const sent = alert({ labels });
    const res = await postWebhook(service.app, payload([sent]));
    expect(res.status).toBe(200);
    const [recorded] = await recordedDecisions(service.app);
    expect(recorded!.labels).toEqual(sent.labels);
    expect(recorded!.labels).toMatchObject(labels);
  });
});
