/**
 * Deploy correlation (`maxRevisionAge`) on the real apiserver: the deploy time is what the
 * cluster recorded (the managedFields time of the pod template), compared with the alert's
 * startsAt on both sides of the limit.
 */
import request from 'supertest';
import { KubeClient } from '../../src/kube/client.js';
import { lastChanged } from '../../src/kube/managed-fields.js';
import { startRecordingServer, type RecordingServer } from '../prometheus/recording-server.js';
import { alert, payload } from '../support/alerts.js';
import { connectCluster } from './connect.js';
import { startReceiver, type Receiver } from './receiver.js';
import { waitFor } from './wait.js';
import { Workloads } from './workloads.js';

const cluster = connectCluster();
const k = new Workloads(cluster);
const YAML = 'auth:\n  allowUnauthenticatedWebhook: true\nrollback:\n  triggers:\n    - name: error_rate\n      maxRevisionAge: 10m\n';

let svc: Receiver;
let hooks: RecordingServer;
beforeAll(async () => {
  hooks = await startRecordingServer();
  hooks.reply({ status: 200, body: 'ok' });
  const notify = `notifications:\n  webhook: { url: "${hooks.url}/hooks" }\n`;
  svc = startReceiver(new KubeClient(cluster.kubeConfig()), YAML + notify, {}); // dry-run
});
afterAll(async () => {
  await svc?.destroy();
  await hooks?.close();
});

async function decideAt(namespace: string, startsAt: number) {
  const body = payload([alert({ labels: { namespace, deployment: 'api' }, startsAt: new Date(startsAt).toISOString() })]);
  const res = await request(svc.service.app).post('/webhook').send(body).expect(200);
  return res.body.decisions[0] as { decision: string; reason: string };
}

describe('maxRevisionAge', () => {
  it('acts on an alert that started soon after the deploy, refuses one that started long after, naming the age', async () => {
    const ns = await cluster.ns('deploy-age');
    await k.brokenRollout(ns, 'api');
    const deployedAt = lastChanged((await k.apps.readNamespacedDeployment({ name: 'api', namespace: ns })).metadata, ['spec', 'template']);
    expect(deployedAt).toBeDefined();

    const late = await decideAt(ns, deployedAt! + 20 * 60_000);
    expect(late.decision).toBe('refused');
    expect(late.reason).toContain(`went out at ${new Date(deployedAt!).toISOString()}`);
    expect(late.reason).toContain('1200s before the alert started');
    expect(late.reason).toContain('older than maxRevisionAge 600s of trigger error_rate');
    // Nobody acts on the alert, so people are told.
    const told = await waitFor(async () => hooks.requests.find((r) => (JSON.parse(r.body) as { type?: string }).type === 'notify_only'), 10_000);
    expect(told.body).toContain('went out at');

    // Second, as shadow mode records the cooldown a rollback would start.
    const recent = await decideAt(ns, deployedAt! + 60_000);
    expect(recent).toMatchObject({ decision: 'dry_run' });
  }, 60_000);
});
