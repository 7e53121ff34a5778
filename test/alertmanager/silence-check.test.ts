/**
 * The human-silence check at admission (guard 6a) against a real Alertmanager: an active
 * silence made by a person stops the rollback and is named in the reason; the receiver's
 * own silences, and silences that do not match, do not; an Alertmanager that cannot be
 * reached lets the alert proceed with the reason saying the check was skipped.
 */
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { AlertmanagerClient } from '../../src/alertmanager/client.js';
import { RECEIVER_CREATED_BY } from '../../src/alertmanager/silence.js';
import { alert, payload } from '../support/alerts.js';
import { startTestService, type TestService } from '../support/service.js';
import { waitFor } from '../envtest/wait.js';
import { startAlertmanager, type RunningAlertmanager } from './harness.js';

let am: RunningAlertmanager;
let svc: TestService;

const HOUR = 3600_000;

async function decide(labels: Record<string, string>) {
  const res = await request(svc.service.app).post('/webhook').send(payload([alert({ labels })])).expect(200);
  return res.body.decisions[0] as { decision: string; reason: string };
}

beforeAll(async () => {
  am = await startAlertmanager({ receivers: [{ name: 'nobody' }] });
  const client = new AlertmanagerClient({ url: am.url }, 2000);
  const window = { startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + HOUR).toISOString() };
  await client.createSilence({
    ...window,
    matchers: [
      { name: 'namespace', value: 'shop', isRegex: false, isEqual: true },
      { name: 'alertname', value: 'High.*', isRegex: true, isEqual: true },
    ],
    createdBy: 'alice@example.com',
    comment: 'INC-42: handled by hand',
  });
  // The receiver's own silence on another namespace must not hold anything back.
  await client.createSilence({
    ...window,
    matchers: [{ name: 'namespace', value: 'billing', isRegex: false, isEqual: true }],
    createdBy: RECEIVER_CREATED_BY,
    comment: 'rollback x',
  });
  svc = startTestService({ yaml: `alertmanager:\n  url: ${am.url}\n` });
}, 60_000);

afterAll(async () => {
  await svc?.destroy();
  await am?.stop();
});

describe('human silences at admission', () => {
  it('an active human silence matching the alert: silenced, nothing done, the silence named', async () => {
    const d = await decide({ namespace: 'shop', deployment: 'cart', alertname: 'HighErrorRate' });
    expect(d.decision).toBe('silenced');
    expect(d.reason).toMatch(/^silenced in Alertmanager by alice@example\.com \(silence [0-9a-f-]{36}, until \S+: INC-42: handled by hand; matchers namespace="shop", alertname=~"High\.\*"\): nothing is done$/);
    const rollbacks = (await request(svc.service.app).get('/api/v1/rollbacks').expect(200)).body.rollbacks as unknown[];
    expect(rollbacks).toHaveLength(0);
  });

  it('a silence that does not match (regex anchored), or one the receiver made: proceeds', async () => {
    expect((await decide({ namespace: 'shop', deployment: 'cart', alertname: 'VeryHighErrorRate' })).decision).toBe('dry_run');
    expect((await decide({ namespace: 'billing', deployment: 'ledger' })).decision).toBe('dry_run');
  });

  it('Alertmanager unreachable: proceeds, and the reason says the check was skipped', async () => {
    await am.kill();
    try {
      const d = await decide({ namespace: 'shop', deployment: 'basket', alertname: 'HighErrorRate' });
      expect(d.decision).toBe('dry_run');
      expect(d.reason).toContain(`; silence check skipped: Alertmanager at ${am.url} is unreachable`);
    } finally {
      await am.restart();
    }
  });

  it('Alertmanager not answering within alertmanager.timeout: proceeds, and the reason says so', async () => {
    // Accepts connections and never answers: a hung Alertmanager.
    const sockets: Socket[] = [];
    const hung = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(hung.address() as AddressInfo).port}`;
    const slow = startTestService({ yaml: `alertmanager:\n  url: ${url}\n  timeout: 300ms\n` });
    try {
      const res = await request(slow.service.app).post('/webhook').send(payload([alert({ labels: { namespace: 'shop', deployment: 'cart' } })])).expect(200);
      expect(res.body.decisions[0]).toMatchObject({
        decision: 'dry_run',
        reason: expect.stringContaining(`; silence check skipped: Alertmanager at ${url} is unreachable: no answer within 300 ms`),
      });
    } finally {
      await slow.destroy();
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => hung.close(resolve));
    }
  });
});

describe('the receiver\'s own silences after a restart', () => {
  it('a silence of a rollback that is over is expired at start; human silences and untagged ones stay', async () => {
    const client = new AlertmanagerClient({ url: am.url }, 2000);
    const window = { startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + HOUR).toISOString() };
    const leftover = await client.createSilence({
      ...window,
      matchers: [{ name: 'namespace', value: 'restarted', isRegex: false, isEqual: true }],
      createdBy: RECEIVER_CREATED_BY,
      comment: '[rollback-receiver rollback=0000000ab-deadbeef01] restarted/api is being rolled back',
    });
    const matchers = [{ name: 'namespace', value: 'restarted', isRegex: false, isEqual: true }];
    const human = await client.createSilence({ ...window, matchers, createdBy: 'bob', comment: '[rollback-receiver rollback=0000000ab-deadbeef01] copied by hand' });
    const untagged = await client.createSilence({ ...window, matchers, createdBy: RECEIVER_CREATED_BY, comment: 'no rollback tag' });
    const restarted = startTestService({ yaml: `alertmanager:\n  url: ${am.url}\n  silenceDuringWindow: true\n` });
    try {
      const expired = await waitFor(async () => {
        const s = (await client.silences()).find((x) => x.id === leftover);
        return s?.state === 'expired' ? s : undefined;
      }, 10_000);
      expect(expired.state).toBe('expired');
      const kept = (await client.silences()).filter((s) => s.id === human || s.id === untagged);
      expect(kept.map((s) => s.state)).toEqual(['active', 'active']);
    } finally {
      await restarted.destroy();
    }
  });
});
