/** The rollback planner as a pure function: order, determinism, refusals, HPAs, keep, the failure path. */
import type { Hpa } from '../../src/execution/capacity.js';
import { releaseFromSecretData } from '../../src/execution/helm/codec.js';
import type { LiveMetadata } from '../../src/execution/helm/field-ownership.js';
import { planRollback, type RollbackInput, type RollbackPlan } from '../../src/execution/helm/rollback-plan.js';
import type { ApiRequest } from '../../src/kube/client.js';
import type { PlanStep } from '../../src/execution/strategies/strategy.js';
import { configMap, deployment, historyOf, hpa, service, type FixtureRevision } from './fixture.js';

const NOW = new Date('2024-06-01T12:00:00.000Z');
const HELM_UPDATE = { manager: 'helm', operation: 'Update', apiVersion: 'v1', time: '2024-05-03T10:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:color': {} } } };

const REVISIONS: FixtureRevision[] = [
  { version: 1, status: 'superseded', description: 'Install complete', appVersion: '1', manifest: service('web') + deployment('web', 'app:v1', {}) + configMap('old', { a: '1' }) },
  { version: 2, status: 'deployed', description: 'Upgrade complete', appVersion: '2', manifest: deployment('web', 'app:v2', {}) + configMap('cache', { b: '1' }, { 'helm.sh/resource-policy': 'keep' }) + configMap('new', { c: '1' }) + service('web') },
];

function input(overrides: Partial<RollbackInput> = {}, revisions = REVISIONS): RollbackInput {
  const live = new Map<string, LiveMetadata>([
    ['apps/Deployment/prod/web', { uid: 'uid-web', managedFields: [{ ...HELM_UPDATE, apiVersion: 'apps/v1', fieldsV1: { 'f:spec': { 'f:replicas': {}, 'f:template': {} } } }] }],
    ['/Service/prod/web', { uid: 'uid-svc', managedFields: [] }],
    ['/ConfigMap/prod/cache', { uid: 'uid-cache', annotations: { 'helm.sh/resource-policy': 'keep' } }],
    ['/ConfigMap/prod/new', { uid: 'uid-new' }],
  ]);
  return { history: historyOf('web', 'prod', revisions), destination: 1, live, hpas: [], now: NOW, ...overrides };
}

function plan(i: RollbackInput = input()): RollbackPlan {
  const p = planRollback(i);
  if (typeof p === 'string') throw new Error(p);
  return p;
}

const requests = (steps: PlanStep[]): ApiRequest[] => steps.map((s) => (s.action === 'request' ? s.request : (undefined as never)));
const line = (r: ApiRequest) => `${r.method} ${r.path}`;
const releaseIn = (r: ApiRequest) => releaseFromSecretData((r.body as { data: { release: string } }).data.release);

describe('rollback planner', () => {
  it('opens revision N+1, hands over and applies in install order, deletes in uninstall order, then closes', () => {
    const p = plan();
    expect(p).toMatchObject({ release: 'web', namespace: 'prod', current: 2, destination: 1, revision: 3 });
    expect(p.steps).toEqual([...p.open, ...p.apply, ...p.remove, ...p.close]);
    expect(requests(p.steps).map(line)).toEqual([
      'POST /api/v1/namespaces/prod/secrets',
      'PATCH /api/v1/namespaces/prod/configmaps/old?fieldManager=helm&force=true',
      'PATCH /api/v1/namespaces/prod/services/web?fieldManager=helm&force=true',
      'PATCH /apis/apps/v1/namespaces/prod/deployments/web',
      'PATCH /apis/apps/v1/namespaces/prod/deployments/web?fieldManager=helm&force=true',
      'DELETE /api/v1/namespaces/prod/configmaps/new',
      'PATCH /api/v1/namespaces/prod/secrets/sh.helm.release.v1.web.v2',
      'PATCH /api/v1/namespaces/prod/secrets/sh.helm.release.v1.web.v3',
    ]);
    expect(p.notes).toEqual(['Helm hooks are not run (the destination has no rollback hooks)', 'ConfigMap prod/cache is not in revision 1 but kept (helm.sh/resource-policy: keep)']);
  });

  it('is the same plan for the same input (dry-run shows what live sends)', () => {
    expect(JSON.stringify(plan().steps)).toBe(JSON.stringify(plan().steps));
    expect(JSON.stringify(plan().failure('boom'))).toBe(JSON.stringify(plan().failure('boom')));
  });

  it("writes revision N+1 with the destination's content, Helm's description and the given time", () => {
    const [open] = requests(plan().open);
    const body = open!.body as { metadata: { name: string; labels: Record<string, string> }; type: string };
    expect(body.metadata.name).toBe('sh.helm.release.v1.web.v3');
    expect(body.type).toBe('helm.sh/release.v1');
    expect(body.metadata.labels).toEqual({ createdAt: '1717243200', name: 'web', owner: 'helm', status: 'pending-rollback', version: '3' });
    const release = releaseIn(open!);
    const dest = historyOf('web', 'prod', REVISIONS).revisions[0]!.release;
    expect(release).toEqual({
      name: 'web',
      info: { first_deployed: '2024-05-01T10:00:00.123456789+02:00', last_deployed: NOW.toISOString(), description: 'Rollback to 1', status: 'pending-rollback', rollback_revision: 1, notes: dest.info!.notes },
      chart: dest.chart,
      config: dest.config,
      manifest: dest.manifest,
      hooks: [],
      version: 3,
      namespace: 'prod',
      apply_method: 'ssa',
    });
  });

  it('supersedes the deployed revision (locked to what was read), then marks N+1 deployed', () => {
    const [supersede, deployed] = requests(plan().close);
    expect(supersede!.body).toMatchObject({ metadata: { resourceVersion: 'rv-2', labels: { status: 'superseded', modifiedAt: '1717243200' } } });
    expect(releaseIn(supersede!).info).toMatchObject({ status: 'superseded', description: 'Upgrade complete' });
    expect(deployed!.body).toMatchObject({ metadata: { labels: { status: 'deployed', modifiedAt: '1717243200' } } });
    expect(releaseIn(deployed!).info).toMatchObject({ status: 'deployed', description: 'Rollback to 1' });
  });

  it("records a failure as Helm does: current revision superseded, N+1 failed with Helm's wording", () => {
    const [current, failed] = requests(plan().failure('PATCH /x: 422 Invalid: bad'));
    expect(line(current!)).toBe('PATCH /api/v1/namespaces/prod/secrets/sh.helm.release.v1.web.v2');
    expect(releaseIn(current!).info?.status).toBe('superseded');
    expect(line(failed!)).toBe('PATCH /api/v1/namespaces/prod/secrets/sh.helm.release.v1.web.v3');
    expect(failed!.body).toMatchObject({ metadata: { labels: { status: 'failed' } } });
    expect(releaseIn(failed!).info).toMatchObject({ status: 'failed', description: 'Rollback "web" failed: PATCH /x: 422 Invalid: bad' });
  });

  it("server-side applies the object with Helm's ownership metadata and port protocols spelled out", () => {
    const apply = requests(plan().apply).find((r) => r.path.startsWith('/api/v1/namespaces/prod/services/web?'))!;
    expect(apply.patchType).toBe('apply');
    expect(apply.body).toMatchObject({
      metadata: { name: 'web', namespace: 'prod', labels: { 'app.kubernetes.io/managed-by': 'Helm' }, annotations: { 'meta.helm.sh/release-name': 'web', 'meta.helm.sh/release-namespace': 'prod' } },
      spec: { ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] },
    });
  });

  it('deletes with the uid read as a precondition, and says why objects are left', () => {
    const i = input();
    (i.live as Map<string, LiveMetadata>).delete('/ConfigMap/prod/new');
    expect(plan(i).remove).toEqual([]);
    expect(plan(i).notes).toContain('ConfigMap prod/new is not in revision 1 and already gone');
    const [del] = requests(plan().remove);
    expect(del!.body).toEqual({ apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background', preconditions: { uid: 'uid-new' } });
  });

  it("leaves spec.replicas of an existing workload an HPA scales to the HPA, and releases Helm's ownership of it", () => {
    const scaler: Hpa = { metadata: { name: 'web-hpa', namespace: 'prod' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 9 } };
    const p = plan(input({ hpas: [scaler] }));
    const [handover, apply] = requests(p.apply).filter((r) => r.path.includes('/deployments/web'));
    expect((apply!.body as { spec: Record<string, unknown> }).spec.replicas).toBeUndefined();
    expect(handover!.body).toEqual([
      { op: 'test', path: '/metadata/uid', value: 'uid-web' },
      { op: 'replace', path: '/metadata/managedFields', value: [{ ...HELM_UPDATE, apiVersion: 'apps/v1', operation: 'Apply', fieldsV1: { 'f:spec': { 'f:template': {} } } }] },
    ]);
    expect(p.notes).toContain('Deployment prod/web: spec.replicas is left to HorizontalPodAutoscaler web-hpa');

    // A workload being re-created starts from the manifest's replicas.
    const i = input({ hpas: [scaler] });
    (i.live as Map<string, LiveMetadata>).delete('apps/Deployment/prod/web');
    const recreated = requests(plan(i).apply).find((r) => r.path.includes('/deployments/web'))!;
    expect((recreated.body as { spec: Record<string, unknown> }).spec.replicas).toBe(2);
  });

  it("counts an HPA in the destination's manifest as scaling the workload", () => {
    const revisions = [{ ...REVISIONS[0]!, manifest: REVISIONS[0]!.manifest + hpa('web', 2, 5) }, REVISIONS[1]!];
    expect(plan(input({}, revisions)).notes).toContain('Deployment prod/web: spec.replicas is left to HorizontalPodAutoscaler web');
  });

  it('refuses what Helm would fail on or what another operation holds', () => {
    const pending = [REVISIONS[0]!, { ...REVISIONS[1]!, status: 'pending-rollback' }];
    expect(planRollback(input({}, pending))).toBe('release prod/web: revision 2 is pending-rollback: another operation is in progress');
    expect(planRollback(input({ destination: 5 }))).toBe('release prod/web has no revision 5');
    expect(planRollback(input({}, []))).toBe('release prod/web has no revisions');
  });
});
