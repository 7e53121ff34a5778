/**
 * The executors against a real kube-apiserver with the real deployment and replicaset
 * controllers: alerts in, rollbacks out, verified as the controllers report them.
 */
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { KubeClient, type ApiRequest } from '../../src/kube/client.js';
import { alert, payload } from '../support/alerts.js';
import { connectCluster } from './connect.js';
import { finished, OPERATOR, startReceiver, type Receiver, type RollbackView } from './receiver.js';
import { waitFor } from './wait.js';
import { Workloads } from './workloads.js';

const cluster = connectCluster();
const k = new Workloads(cluster);
const LIVE = { ROLLBACK_DRY_RUN: 'false' };
/** Writes name the receiver as their field manager, so managedFields say who changed what. */
const AS_RECEIVER = '?fieldManager=rollback-receiver';
const YAML = 'auth:\n  allowUnauthenticatedWebhook: true\nexecution:\n  verifyTimeout: 20s\nrollback:\n  executionTimeout: 60s\n';

let svc: Receiver;
let liveSvc: Receiver;

function start(env: Record<string, string>, yaml = YAML): Receiver {
  return startReceiver(new KubeClient(cluster.kubeConfig()), yaml, env);
}

beforeAll(() => {
  liveSvc = start(LIVE);
  svc = start({});
});
afterAll(async () => {
  await liveSvc.destroy();
  await svc.destroy();
});

function firing(namespace: string, labels: Record<string, string>, fingerprint?: string) {
  return payload([alert({ labels: { namespace, ...labels }, startsAt: new Date().toISOString(), fingerprint })]);
}

async function webhook(s: Receiver, body: unknown) {
  const res = await request(s.service.app).post('/webhook').send(body as object).expect(200);
  return res.body.decisions as { decision: string; reason: string; rollbackId?: string }[];
}

describe('deployment-undo', () => {
  it('an alert for an opted-in Deployment whose latest revision is broken rolls it back to the previous template, verified', async () => {
    const ns = await cluster.ns('undo');
    await k.brokenRollout(ns, 'api');
    const [d] = await webhook(liveSvc, firing(ns, { deployment: 'api' }));
    expect(d).toMatchObject({ decision: 'executed' });
    const rb = await finished(liveSvc, d!.rollbackId!);
    expect(rb.status).toBe('success');
    const after = await k.available(ns, 'api');
    expect(k.image(after)).toBe('app:v1');
    // kubectl semantics: the old ReplicaSet's template is restored, becoming revision 3.
    expect(after.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
    expect(after.spec?.template.metadata?.labels?.['pod-template-hash']).toBeUndefined();
    expect(after.metadata?.annotations?.['rollback-receiver.io/enabled']).toBe('true');
    const patch = rb.steps.find((s) => s.name === 'request');
    expect(patch?.request).toMatchObject({ method: 'PATCH', path: `/apis/apps/v1/namespaces/${ns}/deployments/api${AS_RECEIVER}` });
    expect(rb.steps.map((s) => s.name)).toEqual(expect.arrayContaining(['inspected', 'request', 'verified']));
    const events = await waitFor(async () => {
      const e = await k.events(ns, 'api');
      return e.some((x) => x.reason === 'RollbackSucceeded') ? e : undefined;
    }, 10_000);
    expect(events.map((e) => `${e.type}/${e.reason}`)).toEqual(expect.arrayContaining(['Normal/RollbackStarted', 'Normal/RollbackSucceeded']));
    const metrics = (await request(liveSvc.service.app).get('/metrics')).text;
    expect(metrics).toMatch(/rollback_executions_total\{strategy="deployment-undo",kind="automatic",result="success"\} [1-9]/);
    expect(metrics).toContain(`rollback_last_success_timestamp_seconds{namespace="${ns}",name="api"}`);
  }, 90_000);

  it('a broken previous revision fails verification and escalates', async () => {
    const ns = await cluster.ns('undo-broken');
    await k.deployment(ns, 'api', 'app:broken', { progressDeadlineSeconds: 600 });
    await k.setImage(ns, 'api', 'app:v2');
    await k.available(ns, 'api');
    await new Promise((r) => setTimeout(r, 1100));
    const s = start(LIVE, YAML.replace('verifyTimeout: 20s', 'verifyTimeout: 4s'));
    try {
      const [d] = await webhook(s, firing(ns, { deployment: 'api' }));
      expect(d!.decision).toBe('executed');
      // While it verifies, the record already shows the PATCH it sent.
      const running = await waitFor(async () => {
        const r = (await request(s.service.app).get(`/api/v1/rollbacks/${d!.rollbackId}`).set('Authorization', `Bearer ${OPERATOR}`)).body as RollbackView;
        return r.status === 'running' && r.steps.some((x) => x.name === 'request') ? r : undefined;
      }, 10_000);
      expect(running.steps.find((x) => x.name === 'request')?.request?.method).toBe('PATCH');
      const rb = await finished(s, d!.rollbackId!);
      expect(rb.status).toBe('escalated');
      expect(rb.steps.find((x) => x.name === 'verification-failed')?.detail).toMatch(/not rolled out before the verification deadline/);
      const events = await waitFor(async () => {
        const e = await k.events(ns, 'api');
        return e.some((x) => x.reason === 'RollbackEscalated') ? e : undefined;
      }, 10_000);
      expect(events.find((e) => e.reason === 'RollbackEscalated')?.type).toBe('Warning');
      expect((await request(s.service.app).get('/metrics')).text).toMatch(/rollback_escalations_total\{reason="verification_failed"\} 1/);
    } finally {
      await s.destroy();
    }
  }, 90_000);

  it('refuses a Deployment with no history, and a paused one, with the reason', async () => {
    const ns = await cluster.ns('undo-refused');
    await k.deployment(ns, 'fresh', 'app:v1');
    await k.available(ns, 'fresh');
    await k.brokenRollout(ns, 'paused');
    await k.apps.patchNamespacedDeployment({ name: 'paused', namespace: ns, body: { spec: { paused: true } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    const decisions = await webhook(liveSvc, payload([
      alert({ labels: { namespace: ns, deployment: 'fresh' }, startsAt: new Date(Date.now() + 1000).toISOString() }),
      alert({ labels: { namespace: ns, deployment: 'paused' }, startsAt: new Date(Date.now() + 1000).toISOString() }),
    ]));
    expect(decisions[0]).toMatchObject({ decision: 'refused', reason: 'no previous revision to roll back to from revision 1 (app:v1)' });
    expect(decisions[1]).toMatchObject({ decision: 'refused', reason: expect.stringMatching(/is paused; resume it first/) });
  }, 60_000);

  it('refuses workloads without the opt-in annotation, and stale alerts', async () => {
    const ns = await cluster.ns('undo-guards');
    await k.deployment(ns, 'private', 'app:v1', { annotations: {} });
    await k.brokenRollout(ns, 'api');
    const old = payload([alert({ labels: { namespace: ns, deployment: 'api' }, startsAt: new Date(Date.now() - 3600_000).toISOString() })]);
    const [stale] = await webhook(liveSvc, old);
    expect(stale).toMatchObject({ decision: 'stale', reason: expect.stringMatching(/current revision of .*\/api dates from .* after the evidence began/) });
    const [notAllowed] = await webhook(liveSvc, firing(ns, { deployment: 'private' }));
    expect(notAllowed).toMatchObject({ decision: 'not_allowed', reason: `Deployment ${ns}/private lacks the opt-in annotation rollback-receiver.io/enabled: "true"` });
  }, 60_000);

  it('concurrent alerts for one target start exactly one rollback', async () => {
    const ns = await cluster.ns('undo-concurrent');
    await k.brokenRollout(ns, 'api');
    const posts = await Promise.all(
      Array.from({ length: 6 }, (_, i) => webhook(liveSvc, firing(ns, { deployment: 'api', instance: `pod-${i}` }))),
    );
    const decisions = posts.flat().map((d) => d.decision);
    expect(decisions.filter((d) => d === 'executed')).toHaveLength(1);
    expect(decisions.filter((d) => d !== 'executed').every((d) => d === 'in_progress' || d === 'cooldown')).toBe(true);
    const id = posts.flat().find((d) => d.decision === 'executed')!.rollbackId!;
    expect((await finished(liveSvc, id)).status).toBe('success');
  }, 90_000);

  it('dry-run records the exact requests a live run sends', async () => {
    const ns = await cluster.ns('undo-plan');
    await k.brokenRollout(ns, 'api');
    const sim = await request(svc.service.app).post('/api/v1/simulate').set('Authorization', `Bearer ${OPERATOR}`).send(firing(ns, { deployment: 'api' })).expect(200);
    expect(sim.body.decisions[0]).toMatchObject({ decision: 'dry_run', plan: [{ action: 'request', method: 'PATCH', path: `/apis/apps/v1/namespaces/${ns}/deployments/api${AS_RECEIVER}` }] });
    const [dry] = await webhook(svc, firing(ns, { deployment: 'api' }));
    expect(dry!.decision).toBe('dry_run');
    const planned = await waitFor(async () => {
      const r = (await request(svc.service.app).get(`/api/v1/rollbacks/${dry!.rollbackId}`).set('Authorization', `Bearer ${OPERATOR}`)).body as RollbackView;
      return r.steps.some((x) => x.name === 'planned-request') ? r : undefined;
    }, 15_000);
    // Nothing changed in the cluster.
    expect(k.image(await k.read(ns, 'api'))).toBe('app:broken');
    const [live] = await webhook(liveSvc, firing(ns, { deployment: 'api' }));
    const rb = await finished(liveSvc, live!.rollbackId!);
    const sent = rb.steps.filter((x) => x.name === 'request').map((x) => x.request);
    const plan = planned.steps.filter((x) => x.name === 'planned-request').map((x) => x.request);
    expect(sent).toHaveLength(1);
    expect(sent).toEqual(plan);
  }, 90_000);
});

describe('conflicts', () => {
  /** The real client, with a concurrent writer (an operator scaling up) just before the first rollback PATCH. */
  class RacingClient extends KubeClient {
    raced = false;
    override async send<T>(req: ApiRequest, timeoutMs?: number): Promise<T> {
      if (!this.raced && req.method === 'PATCH') {
        this.raced = true;
        const [, , , , , namespace, , name] = req.path.split('?')[0]!.split('/');
        await k.apps.patchNamespacedDeployment(
          { name: name!, namespace: namespace!, body: { spec: { replicas: 3 } } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
      }
      return super.send<T>(req, timeoutMs);
    }
  }

  it('a 409 from a concurrent change is retried on a fresh read, keeping the other change', async () => {
    const ns = await cluster.ns('conflict');
    await k.brokenRollout(ns, 'api');
    const racing = new RacingClient(cluster.kubeConfig());
    const s = startReceiver(racing, YAML, LIVE);
    try {
      const [d] = await webhook(s, firing(ns, { deployment: 'api' }));
      const rb = await finished(s, d!.rollbackId!);
      expect(racing.raced).toBe(true);
      expect(rb.steps.find((x) => x.name === 'conflict')?.detail).toMatch(/409 Conflict: .*the object has been modified.*; reading the objects again to compare with the pinned plan$/);
      expect(rb.status).toBe('success');
      // The operator's scale-up made meanwhile is kept; undo only restores template and annotations.
      const after = await k.available(ns, 'api', 3);
      expect(k.image(after)).toBe('app:v1');
    } finally {
      await s.destroy();
    }
  }, 90_000);
});

describe('bounded concurrency', () => {
  it('with execution.concurrency 1, a second target waits until the first rollback has finished', async () => {
    const s = start(LIVE, YAML.replace('verifyTimeout: 20s', 'verifyTimeout: 20s\n  concurrency: 1'));
    try {
      const ns = await cluster.ns('concurrency');
      await Promise.all([k.brokenRollout(ns, 'one'), k.brokenRollout(ns, 'two')]);
      const [a, b] = await webhook(s, payload([
        alert({ labels: { namespace: ns, deployment: 'one' }, startsAt: new Date().toISOString() }),
        alert({ labels: { namespace: ns, deployment: 'two' }, startsAt: new Date().toISOString() }),
      ]));
      expect([a!.decision, b!.decision]).toEqual(['executed', 'executed']);
      const [first, second] = await Promise.all([finished(s, a!.rollbackId!), finished(s, b!.rollbackId!)]);
      expect([first.status, second.status]).toEqual(['success', 'success']);
      const startOf = (r: RollbackView) => Date.parse(r.steps.find((x) => x.name === 'inspected')!.at);
      const endOf = (r: RollbackView) => Date.parse(r.steps.find((x) => x.name === 'verified')!.at);
      expect(startOf(second)).toBeGreaterThanOrEqual(endOf(first));
    } finally {
      await s.destroy();
    }
  }, 90_000);
});

describe('HTTP health probes', () => {
  it('after the rollout, probes must answer 2xx: healthy verifies, unhealthy escalates', async () => {
    let healthy = true;
    const server = createServer((req, res) => {
      res.statusCode = healthy ? 200 : 503;
      res.end(req.url);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const yaml = YAML.replace('verifyTimeout: 20s', `verifyTimeout: 3s\n  probes:\n    urls: ['http://127.0.0.1:${port}/{namespace}/{name}/health']\n    interval: 1s`);
    const s = start(LIVE, yaml);
    try {
      const ns = await cluster.ns('probes');
      await k.brokenRollout(ns, 'api');
      const [ok] = await webhook(s, firing(ns, { deployment: 'api' }));
      const good = await finished(s, ok!.rollbackId!);
      expect(good.status).toBe('success');
      expect(good.steps.find((x) => x.name === 'probe')?.detail).toBe(`http://127.0.0.1:${port}/${ns}/api/health answered 200`);

      healthy = false;
      await k.brokenRollout(ns, 'web');
      const [bad] = await webhook(s, firing(ns, { deployment: 'web' }));
      const escalated = await finished(s, bad!.rollbackId!);
      expect(escalated.status).toBe('escalated');
      expect(escalated.steps.find((x) => x.name === 'verification-failed')?.detail).toBe(
        `health probe failed before the verification deadline: http://127.0.0.1:${port}/${ns}/web/health answered 503`,
      );
    } finally {
      await s.destroy();
      server.close();
    }
  }, 90_000);
});

describe('blue-green and scale-swap', () => {
  it('blue-green brings the standby colour up and ready before switching the Service, then scales the failed colour to 0', async () => {
    const ns = await cluster.ns('bluegreen');
    await k.deployment(ns, 'shop-blue', 'app:v1', { labels: { app: 'shop', color: 'blue' }, replicas: 0, annotations: {} });
    await k.deployment(ns, 'shop-green', 'app:v2', { labels: { app: 'shop', color: 'green' }, replicas: 2, annotations: {} });
    await k.available(ns, 'shop-green');
    await k.service(ns, 'shop', { app: 'shop', color: 'green' });
    await new Promise((r) => setTimeout(r, 1100));
    const [d] = await webhook(liveSvc, firing(ns, { service: 'shop', deployment: '', rollback_strategy: 'blue-green' }));
    expect(d).toMatchObject({ decision: 'executed' });
    const rb = await finished(liveSvc, d!.rollbackId!);
    expect(rb.status).toBe('success');
    expect(rb.steps.filter((s) => s.name === 'request' || s.name === 'waited').map((s) => s.name)).toEqual(['request', 'waited', 'request', 'request']);
    const svcObj = await k.core.readNamespacedService({ name: 'shop', namespace: ns });
    expect(svcObj.spec?.selector).toEqual({ app: 'shop', color: 'blue' });
    await k.available(ns, 'shop-blue', 2);
    expect((await k.read(ns, 'shop-green')).spec?.replicas).toBe(0);
    // The monitoring window watches the colour now serving, not the Service's name.
    const withWindow = await waitFor(async () => {
      const r = (await request(liveSvc.service.app).get(`/api/v1/rollbacks/${d!.rollbackId}`).set('Authorization', `Bearer ${OPERATOR}`)).body;
      return r.window ? r : undefined;
    }, 10_000);
    expect(withWindow.window).toMatchObject({ namespace: ns, name: 'shop', deployment: 'shop-blue', status: 'active' });
  }, 90_000);

  it('scale-swap scales previous up to current, waits, then current to 0', async () => {
    const ns = await cluster.ns('scaleswap');
    await k.deployment(ns, 'api-current', 'app:v2', { replicas: 3 });
    await k.deployment(ns, 'api-previous', 'app:v1', { replicas: 0, annotations: {} });
    await k.available(ns, 'api-current', 3);
    await new Promise((r) => setTimeout(r, 1100));
    const [d] = await webhook(liveSvc, firing(ns, { deployment: 'api', rollback_strategy: 'scale-swap' }));
    expect(d).toMatchObject({ decision: 'executed' });
    expect((await finished(liveSvc, d!.rollbackId!)).status).toBe('success');
    await k.available(ns, 'api-previous', 3);
    expect((await k.read(ns, 'api-current')).spec?.replicas).toBe(0);
  }, 90_000);

  it('emergency blue-green switches traffic first, scales the failed colour down and force-deletes its pods', async () => {
    const ns = await cluster.ns('emergency');
    await k.deployment(ns, 'web-blue', 'app:v1', { labels: { app: 'web', color: 'blue' }, replicas: 1, annotations: {} });
    await k.deployment(ns, 'web-green', 'app:broken', { labels: { app: 'web', color: 'green' }, replicas: 2, annotations: {} });
    await k.available(ns, 'web-blue', 1);
    await k.service(ns, 'web', { app: 'web', color: 'green' });
    const res = await request(liveSvc.service.app)
      .post('/api/v1/rollbacks')
      .set('Authorization', `Bearer ${OPERATOR}`)
      .send({ namespace: ns, name: 'web', strategy: 'blue-green', emergency: true, reason: 'data corruption' })
      .expect(202);
    expect(res.body.kind).toBe('emergency');
    expect(res.body.plan.map((s: { description: string }) => s.description)).toEqual([
      `switch Service ${ns}/web to color=blue`,
      `scale the restored colour blue (Deployment ${ns}/web-blue) to 2 replicas`,
      `scale the failed colour green (Deployment ${ns}/web-green) to 0`,
      'force-delete the pods of the failed colour green (selector app=web,color=green, grace period 0)',
    ]);
    const rb = await finished(liveSvc, res.body.id);
    expect(rb.steps.filter((s) => s.name === 'waited')).toHaveLength(0);
    expect((await k.core.readNamespacedService({ name: 'web', namespace: ns })).spec?.selector?.color).toBe('blue');
    await waitFor(async () => (await k.core.listNamespacedPod({ namespace: ns, labelSelector: 'color=green' })).items.length === 0, 10_000);
    expect(rb.status).toBe('success');
  }, 90_000);

  it('emergency scale-swap scales both at once, and emergency deployment-undo restores without waiting', async () => {
    const ns = await cluster.ns('emergency-more');
    await k.deployment(ns, 'api-current', 'app:broken', { replicas: 2 });
    await k.deployment(ns, 'api-previous', 'app:v1', { replicas: 0, annotations: {} });
    await k.brokenRollout(ns, 'web');
    const auth = { Authorization: `Bearer ${OPERATOR}` };
    const swap = await request(liveSvc.service.app).post('/api/v1/rollbacks').set(auth)
      .send({ namespace: ns, name: 'api', strategy: 'scale-swap', emergency: true, reason: 'legal' }).expect(202);
    expect(swap.body.plan.map((s: { action: string; description: string }) => `${s.action}: ${s.description}`)).toEqual([
      `request: scale Deployment ${ns}/api-previous to 2 replicas`,
      `request: scale Deployment ${ns}/api-current to 0`,
    ]);
    const undo = await request(liveSvc.service.app).post('/api/v1/rollbacks').set(auth)
      .send({ namespace: ns, name: 'web', emergency: true, reason: 'security' }).expect(202);
    expect(undo.body.plan).toHaveLength(1);
    const [swapped, undone] = await Promise.all([finished(liveSvc, swap.body.id), finished(liveSvc, undo.body.id)]);
    expect([swapped.status, undone.status]).toEqual(['success', 'success']);
    expect([swapped.kind, undone.kind]).toEqual(['emergency', 'emergency']);
    await k.available(ns, 'api-previous', 2);
    expect((await k.read(ns, 'api-current')).spec?.replicas).toBe(0);
    expect(k.image(await k.available(ns, 'web'))).toBe('app:v1');
  }, 90_000);

  it('manual rollbacks: dry-run shows the plan, validation refuses with 422, bad input gets 400', async () => {
    const ns = await cluster.ns('manual');
    await k.brokenRollout(ns, 'api');
    const auth = { Authorization: `Bearer ${OPERATOR}` };
    const dry = await request(liveSvc.service.app).post('/api/v1/rollbacks').set(auth).send({ namespace: ns, name: 'api', reason: 'check', dryRun: true }).expect(200);
    expect(dry.body).toMatchObject({ dryRun: true, validation: null, plan: [{ action: 'request', method: 'PATCH', path: `/apis/apps/v1/namespaces/${ns}/deployments/api${AS_RECEIVER}` }] });
    const tagged = await request(liveSvc.service.app).post('/api/v1/rollbacks').set(auth).send({ namespace: ns, name: 'api', reason: 'x', rollbackTag: 'v9', dryRun: true }).expect(200);
    expect(tagged.body).toMatchObject({ wouldRollBack: false, validation: 'no earlier revision runs image tag "v9"' });
    const refused = await request(liveSvc.service.app).post('/api/v1/rollbacks').set(auth).send({ namespace: ns, name: 'api', reason: 'x', toRevision: 7 }).expect(422);
    expect(refused.body.error).toBe('pre-rollback validation failed: revision 7 not found in the history');
    const bad = await request(liveSvc.service.app).post('/api/v1/rollbacks').set(auth).send({ namespace: ns, name: '../x', reason: '' }).expect(400);
    expect(bad.body.problems).toEqual(['reason: say why (reason)']);
    await request(liveSvc.service.app).post('/api/v1/rollbacks').send({ namespace: ns, name: 'api', reason: 'x' }).expect(401);
    const ok = await request(liveSvc.service.app).post('/api/v1/rollbacks').set(auth).send({ namespace: ns, name: 'api', reason: 'bad release', rollbackTag: 'v1' }).expect(202);
    expect(ok.body.kind).toBe('manual');
    expect((await finished(liveSvc, ok.body.id)).status).toBe('success');
    expect(k.image(await k.read(ns, 'api'))).toBe('app:v1');
    // The seed's `--automatic` script path meets the same guards as alerts: the target is cooling down now.
    const scripted = await request(liveSvc.service.app).post('/api/v1/rollbacks').set(auth).send({ namespace: ns, name: 'api', reason: 'script', automatic: true }).expect(409);
    expect(scripted.body).toMatchObject({ decision: 'cooldown', error: expect.stringMatching(/^automatic rollback refused \(cooldown\): the last rollback of .*\/api ended at /) });
  }, 90_000);
});
