/** GitOps pause, pure parts: tracking ids and labels, the pause and resume requests, and the admission decision. */
import { decide, decideOperator } from '../../src/decide.js';
import type { GitOpsFacts } from '../../src/gitops/detect.js';
import { pauseSteps, resumeStep } from '../../src/gitops/pause.js';
import { appListsResource, argocdClaim, fluxClaims, parseTrackingId, sourcePath } from '../../src/gitops/tracking.js';
import type { ClusterView } from '../../src/guards/guard.js';
import { parsePayload } from '../../src/intake/parse.js';
import type { GitOpsPause, Revision } from '../../src/model.js';
import { StateIndex } from '../../src/store/state-index.js';
import type { GitOpsPauseRecord, RollbackRecord } from '../../src/store/records.js';
import { describeEvent } from '../../src/notify/message.js';
import { renderReport } from '../../src/report/markdown.js';
import { helm, type HelmInspection } from '../../src/execution/strategies/helm.js';
import { historyOf, shopRelease } from '../helm-release/fixture.js';
import { alert, payload } from '../support/alerts.js';
import { T0, testConfig } from '../support/service.js';

const DEPLOYMENT = { group: 'apps', kind: 'Deployment', namespace: 'prod', name: 'api' };

describe('Argo CD tracking', () => {
  it('parses tracking ids, core and cluster-scoped ones too, and rejects malformed ones', () => {
    expect(parseTrackingId('shop:apps/Deployment:prod/api')).toEqual({ app: 'shop', ref: DEPLOYMENT });
    expect(parseTrackingId('shop:/Service:prod/api')).toEqual({ app: 'shop', ref: { group: '', kind: 'Service', namespace: 'prod', name: 'api' } });
    expect(parseTrackingId('shop:rbac.authorization.k8s.io/ClusterRole:/admin')?.ref.namespace).toBe('');
    for (const bad of ['', 'shop', 'shop:apps/Deployment', 'shop:Deployment:prod/api', ':apps/Deployment:prod/api', 'shop:apps/Deployment:prod/']) {
      expect(parseTrackingId(bad)).toBeUndefined();
    }
  });

  it('finds the Application from the annotation first, then the label; `ns_app` names one outside the control-plane namespace', () => {
    const annotated = { annotations: { 'argocd.argoproj.io/tracking-id': 'shop:apps/Deployment:prod/api' }, labels: { 'app.kubernetes.io/instance': 'other' } };
    expect(argocdClaim(annotated, DEPLOYMENT, 'argocd', 'app.kubernetes.io/instance')).toMatchObject({ namespace: 'argocd', name: 'shop' });
    const elsewhere = { annotations: { 'argocd.argoproj.io/tracking-id': 'team-a_shop:apps/Deployment:prod/api' } };
    expect(argocdClaim(elsewhere, DEPLOYMENT, 'argocd', 'app.kubernetes.io/instance')).toMatchObject({ namespace: 'team-a', name: 'shop' });
    expect(argocdClaim({ labels: { 'argocd.example/app': 'shop' } }, DEPLOYMENT, 'gitops', 'argocd.example/app')).toMatchObject({ namespace: 'gitops', name: 'shop' });
    expect(argocdClaim({ labels: { 'app.kubernetes.io/instance': 'shop' } }, DEPLOYMENT, 'argocd', 'argocd.example/app')).toBeUndefined();
  });

  it('a tracking id copied onto another object claims nothing (as in Argo CD), even with a tracking label', () => {
    const copied = { annotations: { 'argocd.argoproj.io/tracking-id': 'shop:apps/Deployment:prod/api-old' }, labels: { 'app.kubernetes.io/instance': 'shop' } };
    expect(argocdClaim(copied, DEPLOYMENT, 'argocd', 'app.kubernetes.io/instance')).toBeUndefined();
  });

  it('confirms a claim only when the Application lists the resource (core group omitted)', () => {
    const app = { status: { resources: [{ group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'prod', name: 'api' }, { version: 'v1', kind: 'Service', namespace: 'prod', name: 'api' }] } };
    expect(appListsResource(app, DEPLOYMENT)).toBe(true);
    expect(appListsResource(app, { group: '', kind: 'Service', namespace: 'prod', name: 'api' })).toBe(true);
    expect(appListsResource(app, { ...DEPLOYMENT, namespace: 'staging' })).toBe(false);
    expect(appListsResource({}, DEPLOYMENT)).toBe(false);
  });
});

describe('config', () => {
  it('is off by default, and names a bad key', () => {
    expect(testConfig().gitops).toEqual({
      argocd: { enabled: false, namespace: 'argocd', trackingLabel: 'app.kubernetes.io/instance', parents: 'pause' },
      flux: { enabled: false },
      resume: 'manual',
      checkIntervalMs: 60_000,
    });
    expect(() => testConfig('gitops:\n  checkInterval: 0s\n')).toThrow(/gitops\.checkInterval.*at least 1s/);
    expect(() => testConfig('gitops:\n  argocd:\n    namespace: Argo_CD\n')).toThrow(/gitops\.argocd\.namespace/);
    expect(() => testConfig('gitops:\n  resume: always\n')).toThrow(/gitops\.resume/);
  });
});

describe('Flux tracking', () => {
  it('reads Kustomization and HelmRelease labels, both halves required', () => {
    const claims = fluxClaims({
      labels: {
        'kustomize.toolkit.fluxcd.io/name': 'apps',
        'kustomize.toolkit.fluxcd.io/namespace': 'flux-system',
        'helm.toolkit.fluxcd.io/name': 'web',
        'helm.toolkit.fluxcd.io/namespace': 'prod',
      },
    });
    expect(claims.map((c) => [c.kind, c.namespace, c.name, c.apiVersions[0]])).toEqual([
      ['Kustomization', 'flux-system', 'apps', 'kustomize.toolkit.fluxcd.io/v1'],
      ['HelmRelease', 'prod', 'web', 'helm.toolkit.fluxcd.io/v2'],
    ]);
    expect(claims[1]!.apiVersions).toEqual(['helm.toolkit.fluxcd.io/v2', 'helm.toolkit.fluxcd.io/v2beta2', 'helm.toolkit.fluxcd.io/v2beta1']);
    expect(fluxClaims({ labels: { 'kustomize.toolkit.fluxcd.io/name': 'apps' } })).toEqual([]);
  });

  it('builds source paths from references, refusing malformed ones', () => {
    expect(sourcePath({ kind: 'GitRepository', name: 'repo' }, 'flux-system')).toBe('/apis/source.toolkit.fluxcd.io/v1/namespaces/flux-system/gitrepositories/repo');
    expect(sourcePath({ kind: 'OCIRepository', name: 'charts', namespace: 'src', apiVersion: 'source.toolkit.fluxcd.io/v1beta2' }, 'x')).toBe(
      '/apis/source.toolkit.fluxcd.io/v1beta2/namespaces/src/ocirepositories/charts',
    );
    expect(sourcePath({ kind: 'GitRepository' }, 'x')).toBeUndefined();
    expect(sourcePath({ kind: 'Git/Repository', name: 'r' }, 'x')).toBeUndefined();
    expect(sourcePath({ kind: 'Secret', name: 'r' }, 'x')).toBeUndefined();
    expect(sourcePath({ kind: 'GitRepository', name: '../secrets' }, 'x')).toBeUndefined();
    expect(sourcePath({ kind: 'GitRepository', name: 'r', apiVersion: '../../api/v1' }, 'x')).toBeUndefined();
  });
});

const ARGO: GitOpsPause = {
  tool: 'argocd',
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Application',
  namespace: 'argocd',
  name: 'shop',
  path: '/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/shop',
  field: ['spec', 'syncPolicy', 'automated'],
  before: { selfHeal: true, prune: true },
  paused: null,
  why: 'manages Deployment prod/api',
};
const FLUX: GitOpsPause = { ...ARGO, tool: 'flux', kind: 'Kustomization', name: 'apps', path: '/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/argocd/kustomizations/apps', field: ['spec', 'suspend'], before: null, paused: true };

describe('helm strategy: the objects checked', () => {
  const history = historyOf('shop', 'prod', shopRelease());
  const inspection = (live: HelmInspection['state']['live']): HelmInspection => ({
    target: { namespace: 'prod', name: 'shop' },
    object: { kind: 'Secret', apiVersion: 'v1', namespace: 'prod', name: 'sh.helm.release.v1.shop.v3', uid: '' },
    facts: { optInObject: 'Deployment prod/shop', optedIn: true, candidates: [] },
    snapshot: {},
    history,
    state: { live, hpas: [] },
  });

  it('are the live Deployments of the current revision, with their labels and annotations as read (not the release Secrets)', () => {
    const labels = { 'helm.toolkit.fluxcd.io/name': 'shop', 'helm.toolkit.fluxcd.io/namespace': 'flux-system' };
    const annotations = { 'argocd.argoproj.io/tracking-id': 'shop:apps/Deployment:prod/shop' };
    const live = new Map([
      ['apps/Deployment/prod/shop', { uid: 'u1', labels, annotations }],
      ['/ConfigMap/prod/shop-config', { uid: 'u2', labels }],
    ]);
    expect(helm.gitopsObjects!(inspection(live))).toEqual([{ ref: { group: 'apps', kind: 'Deployment', namespace: 'prod', name: 'shop' }, meta: { labels, annotations } }]);
    // Not in the cluster: nothing to read its managers from.
    expect(helm.gitopsObjects!(inspection(new Map()))).toEqual([]);
  });
});

describe('pause and resume requests', () => {
  it('pause: a merge patch of the one field, guarded by the value read and done once it is paused', () => {
    const [argo, flux] = pauseSteps([ARGO, FLUX]);
    expect(argo).toMatchObject({
      id: 'gitops-pause-0',
      request: { method: 'PATCH', patchType: 'merge', path: `${ARGO.path}?fieldManager=rollback-receiver`, body: { spec: { syncPolicy: { automated: null } } } },
      guard: [{ object: ARGO.path, field: 'json', path: ARGO.field, json: '{"prune":true,"selfHeal":true}' }],
      done: [{ object: ARGO.path, field: 'json', path: ARGO.field, json: 'null' }],
    });
    expect(flux).toMatchObject({ id: 'gitops-pause-1', request: { body: { spec: { suspend: true } } }, guard: [{ json: 'null' }], done: [{ json: 'true' }] });
    expect(pauseSteps(undefined)).toEqual([]);
  });

  it('resume: restores exactly the value removed, only while the pause is in effect', () => {
    expect(resumeStep(ARGO)).toMatchObject({
      request: { body: { spec: { syncPolicy: { automated: { selfHeal: true, prune: true } } } } },
      guard: [{ json: 'null' }],
      done: [{ json: '{"prune":true,"selfHeal":true}' }],
    });
    expect(resumeStep({ ...FLUX, before: false })).toMatchObject({ request: { body: { spec: { suspend: false } } }, guard: [{ json: 'true' }], done: [{ json: 'false' }] });
    expect(resumeStep(FLUX).request.body).toEqual({ spec: { suspend: null } });
  });
});

describe('admission', () => {
  const V1: Revision = { id: 'aaaaaaaaaaa1', number: 1, label: 'revision 1 (app:v1)', images: ['app:v1'] };
  const V2: Revision = { id: 'bbbbbbbbbbb2', number: 2, label: 'revision 2 (app:broken)', images: ['app:broken'] };
  const cluster = (gitops: GitOpsFacts): ClusterView => ({
    facts: () => ({ optInObject: 'Deployment prod/api', optedIn: true, current: V2, candidates: [V1], gitops }),
    skipped: () => undefined,
  });
  const config = testConfig('', { ROLLBACK_DRY_RUN: 'false' });
  function decideWith(gitops: GitOpsFacts) {
    const parsed = parsePayload(payload([alert({ labels: { namespace: 'prod', deployment: 'api' } })]));
    if (!parsed.ok) throw new Error(parsed.problems.join('; '));
    let n = 0;
    return decide({ alert: parsed.payload.alerts[0]!, group: parsed.payload.group, config, state: new StateIndex(), now: T0, cluster: cluster(gitops), newId: () => `id-${++n}` });
  }

  it('pins the pauses with the destination', () => {
    const d = decideWith({ pauses: [ARGO] });
    expect(d.record.decision).toBe('executed');
    expect(d.rollback?.pin).toEqual({ from: V2, to: V1, note: 'not yet proven', pauses: [ARGO], pinnedAt: T0 });
    expect(decideWith({ pauses: [] }).rollback?.pin).toEqual({ from: V2, to: V1, note: 'not yet proven', pinnedAt: T0 });
  });

  it('refuses, admitting nothing, when a GitOps object cannot be read or paused; operator requests too', () => {
    const problem = 'cannot read Argo CD Application argocd/shop: forbidden';
    const d = decideWith({ pauses: [], problem });
    expect(d.record).toMatchObject({ decision: 'refused', reason: `GitOps pause not possible: ${problem}`, rollbackId: null });
    expect(d.rollback).toBeUndefined();
    for (const kind of ['automatic', 'manual', 'emergency'] as const) {
      const op = decideOperator({
        request: { target: { namespace: 'prod', name: 'api' }, strategy: 'deployment-undo', kind, reason: 'r', explicit: {} },
        config,
        state: new StateIndex(),
        now: T0,
        cluster: cluster({ pauses: [], problem }),
        newId: () => 'x',
      });
      expect(op).toMatchObject({ admitted: false, verdict: { decision: 'refused', reason: `GitOps pause not possible: ${problem}` } });
    }
  });
});

describe('saying so', () => {
  const V1: Revision = { id: 'aaaaaaaaaaa1', label: 'revision 1 (app:v1)', images: ['app:v1'] };
  const rollback: RollbackRecord = {
    id: 'rb1',
    namespace: 'prod',
    name: 'api',
    strategy: 'deployment-undo',
    kind: 'automatic',
    status: 'success',
    reason: 'r',
    trigger: 'error_rate',
    decisionId: null,
    startedAt: T0,
    finishedAt: T0 + 60_000,
    dryRun: false,
    objects: ['Deployment:prod/api'],
    pin: { from: V1, to: V1, note: 'n', pauses: [ARGO, FLUX] },
    steps: [],
  };
  const object = { kind: 'Deployment', apiVersion: 'apps/v1', namespace: 'prod', name: 'api', uid: 'u' };
  const paused: GitOpsPauseRecord = { id: 'rb1-0', rollbackId: 'rb1', target: { namespace: 'prod', name: 'api' }, object, pause: ARGO, pausedAt: T0, status: 'paused', resumedAt: null, resumedBy: null };

  it('notifications name the paused objects, and a resume is its own notification', () => {
    const done = describeEvent({ type: 'rollback_succeeded', rollback, detail: 'ok' });
    expect(done.fields).toContainEqual({ name: 'GitOps pause', value: 'Argo CD Application argocd/shop, Flux Kustomization argocd/apps' });
    const resumed = describeEvent({ type: 'gitops_resumed', pause: { ...paused, status: 'resumed', resumedAt: T0 + 1, resumedBy: 'op' }, detail: 'restored (op)', rollback });
    expect(resumed).toMatchObject({ title: 'GitOps reconciliation resumed: Argo CD Application argocd/shop (after the rollback of prod/api)', severity: 'warning', rollbackId: 'rb1', target: { namespace: 'prod', name: 'api' } });
    expect(resumed.text).toContain('restored (op)');
  });

  it('the incident report lists each pause and where it stands', () => {
    const md = renderReport({ rollback, contacts: [], generatedAt: T0 + 120_000, pauses: [paused] });
    expect(md).toContain('## GitOps Pause');
    expect(md).toContain('- Argo CD Application argocd/shop (manages Deployment prod/api): `spec.syncPolicy.automated` was `{"selfHeal":true,"prune":true}` — paused since 2026-11-27T07:00:00.000Z: resume with `rollback-receiver gitops resume rb1-0`');
    expect(md).toContain('- Flux Kustomization argocd/apps (manages Deployment prod/api): `spec.suspend` was `null` — not paused (the rollback stopped before)');
  });
});
