/**
 * The receiver's own silence during a real rollback (`alertmanager.silenceDuringWindow`),
 * against a real Alertmanager and the apiserver harness: created when the live rollback
 * starts, visible through Alertmanager's API with the receiver's createdBy and a comment
 * linking the rollback, expired when the monitoring window ends or escalates; dry-run
 * plans the same silence and creates none.
 */
import request from 'supertest';
import { AlertmanagerClient } from '../../src/alertmanager/client.js';
import type { Silence } from '../../src/alertmanager/silence.js';
import { KubeClient } from '../../src/kube/client.js';
import { startAlertmanager, type RunningAlertmanager } from '../alertmanager/harness.js';
import { alert, payload } from '../support/alerts.js';
import { connectCluster } from './connect.js';
import { finished, OPERATOR, startReceiver, type Receiver, type RollbackView } from './receiver.js';
import { waitFor } from './wait.js';
import { Workloads } from './workloads.js';

const cluster = connectCluster();
const k = new Workloads(cluster);
let am: RunningAlertmanager;
let client: AlertmanagerClient;

beforeAll(async () => {
  am = await startAlertmanager({ receivers: [{ name: 'nobody' }] });
  client = new AlertmanagerClient({ url: am.url }, 2000);
}, 60_000);
afterAll(async () => {
  await am?.stop();
});

function yaml(unknownLimit: number): string {
  // Prometheus is deliberately unreachable: every sample is unknown, so the window ends (or escalates) on its own.
  return `auth:
  allowUnauthenticatedWebhook: true
execution:
  verifyTimeout: 20s
alertmanager:
  url: ${am.url}
  silenceDuringWindow: true
monitoring:
  enhanced:
    duration: 5s
    interval: 1s
    rateWindow: 2s
    minRateWindow: 1s
    unknownLimit: ${unknownLimit}
    prometheusUrl: http://127.0.0.1:1
notifications:
  receiverUrl: https://rollback-receiver.test
`;
}

function silencesFor(ns: string, all: Silence[]): Silence[] {
  return all.filter((s) => s.matchers.some((m) => m.name === 'namespace' && m.value === ns));
}

async function rollBack(s: Receiver, ns: string): Promise<{ decision: string; rollbackId: string }> {
  const body = payload([alert({ labels: { namespace: ns, deployment: 'api' }, startsAt: new Date().toISOString() })]);
  return (await request(s.service.app).post('/webhook').send(body).expect(200)).body.decisions[0];
}

async function view(s: Receiver, id: string): Promise<RollbackView & { window: { status: string; escalation: string | null } | null }> {
  return (await request(s.service.app).get(`/api/v1/rollbacks/${id}`).set('Authorization', `Bearer ${OPERATOR}`)).body;
}

describe('silences during a rollback', () => {
  it('live: created with the receiver as createdBy and a link to the rollback, expired when the window ends', async () => {
    const ns = await cluster.ns('silence-live');
    await k.brokenRollout(ns, 'api');
    const s = startReceiver(new KubeClient(cluster.kubeConfig()), yaml(1000));
    try {
      const d = await rollBack(s, ns);
      expect(d.decision).toBe('executed');
      const [created] = await waitFor(async () => {
        const found = silencesFor(ns, await client.silences()).filter((x) => x.state === 'active');
        return found.length > 0 ? found : undefined;
      }, 20_000);
      expect(created!.createdBy).toBe('rollback-receiver');
      expect(created!.comment).toContain(`[rollback-receiver rollback=${d.rollbackId}]`);
      expect(created!.comment).toContain(`https://rollback-receiver.test/api/v1/rollbacks/${d.rollbackId}/report`);
      expect(created!.matchers).toEqual([
        { name: 'namespace', value: ns, isRegex: false, isEqual: true },
        { name: 'deployment', value: 'api', isRegex: false, isEqual: true },
        { name: 'rollback_trigger', value: '.+', isRegex: true, isEqual: true },
      ]);
      // The plan on record is the silence that was created.
      const rb = await finished(s, d.rollbackId);
      expect(rb.status).toBe('success');
      expect(rb.steps.find((x) => x.name === 'planned-silence')?.request).toMatchObject({ method: 'POST', path: '/api/v2/silences', body: { matchers: created!.matchers, comment: created!.comment } });
      // Still silenced while the window is open; expired once it ended.
      const ended = await waitFor(async () => {
        const v = await view(s, d.rollbackId);
        return v.window && v.window.status !== 'active' ? v.window : undefined;
      }, 30_000);
      expect(ended.escalation).toBeNull();
      const after = await waitFor(async () => {
        const x = silencesFor(ns, await client.silences()).find((y) => y.id === created!.id);
        return x?.state === 'expired' ? x : undefined;
      }, 10_000);
      expect(after.state).toBe('expired');
    } finally {
      await s.destroy();
    }
  }, 120_000);

  it('live: expired when the window escalates', async () => {
    const ns = await cluster.ns('silence-escalate');
    await k.brokenRollout(ns, 'api');
    const s = startReceiver(new KubeClient(cluster.kubeConfig()), yaml(1));
    try {
      const d = await rollBack(s, ns);
      expect((await finished(s, d.rollbackId)).status).toBe('success');
      const w = await waitFor(async () => (await view(s, d.rollbackId)).window?.escalation ?? undefined, 30_000);
      expect(w).toBe('monitoring_unknown');
      const expired = await waitFor(async () => {
        const found = silencesFor(ns, await client.silences());
        return found.length > 0 && found.every((x) => x.state === 'expired') ? found : undefined;
      }, 10_000);
      expect(expired).toHaveLength(1);
    } finally {
      await s.destroy();
    }
  }, 120_000);

  it('dry-run: the plan shows the silence, Alertmanager gets none', async () => {
    const ns = await cluster.ns('silence-dry');
    await k.brokenRollout(ns, 'api');
    const s = startReceiver(new KubeClient(cluster.kubeConfig()), yaml(1000), {});
    try {
      const d = await rollBack(s, ns);
      expect(d.decision).toBe('dry_run');
      const rb = await finished(s, d.rollbackId);
      const planned = rb.steps.find((x) => x.name === 'planned-silence');
      expect(planned?.detail).toMatch(new RegExp(`^silence namespace="${ns}", deployment="api", rollback_trigger=~"\\.\\+" in Alertmanager until the monitoring window ends or escalates`));
      expect(planned?.request).toMatchObject({ method: 'POST', path: '/api/v2/silences', body: { createdBy: 'rollback-receiver' } });
      expect(silencesFor(ns, await client.silences())).toEqual([]);
    } finally {
      await s.destroy();
    }
  }, 60_000);
});
