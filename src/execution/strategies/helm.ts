/**
 * `helm rollback RELEASE [REVISION]` through Helm 3's own release storage (../helm/*), so
 * `helm history` lists the rollback as if Helm had made it. A revision is identified by the
 * digest of its rendered manifest (contentId), so a rollback's new number for old content
 * stays quarantined. The plan is rebuilt from the history as it stood when pinned
 * (revisions up to the one rolled away from) and the pin's time, so a retry or a resumed
 * run sends the same requests; each request carries expectations on the release Secrets,
 * and a revision written by someone else meanwhile stops the rollback.
 */
import { imagesOf } from '../../kube/template-digest.js';
import { objectKey as lockKey, type Pin, type Revision, type Target } from '../../model.js';
import { contentId, currentRevision, eligibleDestinations } from '../helm/destination.js';
import { readHistory, type ReleaseHistory } from '../helm/history.js';
import { readClusterState, type ClusterState } from '../helm/live-objects.js';
import { splitApiVersion } from '../helm/kinds.js';
import { objectKey, splitManifest, type ManifestObject } from '../helm/manifest.js';
import { isPending, statusOf, type StoredRevision } from '../helm/release.js';
import { releaseSecretName } from '../helm/codec.js';
import { planRollback, type RollbackPlan } from '../helm/rollback-plan.js';
import { optedIn, PlanError, type Expectation, type Inspection, type KubeReader, type PlanStep, type Strategy } from './strategy.js';

export interface HelmInspection extends Inspection {
  history: ReleaseHistory;
  /** The live objects of every revision's manifest and the HPAs of their namespaces. */
  state: ClusterState;
}

type RequestStep = Extract<PlanStep, { action: 'request' }>;

const objectsOf = (rev: StoredRevision, namespace: string) => splitManifest(rev.release.manifest ?? '', rev.release.namespace ?? namespace);

function deploymentsOf(objects: ManifestObject[]): ManifestObject[] {
  return objects.filter((o) => o.kind === 'Deployment');
}

function revisionOf(rev: StoredRevision, namespace: string): Revision {
  const objects = objectsOf(rev, namespace).objects;
  const images = [...new Set(objects.flatMap((o) => imagesOf((o.body as { spec?: { template?: Parameters<typeof imagesOf>[0] } }).spec?.template)))];
  const chart = rev.release.chart?.metadata;
  const version = rev.release.version;
  return {
    id: contentId(rev),
    number: version,
    images,
    label: `revision ${version} (${chart ? `${chart.name ?? ''}-${chart.version ?? ''}` : 'chart unknown'}${images.length ? `, ${images.join(', ')}` : ''})`,
    deployments: deploymentsOf(objects).map((o) => `${o.namespace}/${o.name}`),
  };
}

const secretPath = (namespace: string, release: string, version: number) => `/api/v1/namespaces/${namespace}/secrets/${releaseSecretName(release, version)}`;

/** The history as it stood when the pin was made: revisions up to the one rolled away from, or why it cannot be. */
function historyAtPin(history: ReleaseHistory, pin: Pin): ReleaseHistory | string {
  const from = pin.from.number!;
  const later = history.revisions.filter((r) => r.release.version > from);
  const own = later.find((r) => r.release.version === from + 1);
  const ours = own && contentId(own) === pin.to.id && own.release.info?.description === `Rollback to ${pin.to.number}`;
  if (later.length > (own ? 1 : 0) || (own && !ours)) {
    return `release ${history.namespace}/${history.release} has revision ${later.at(-1)!.release.version} (${statusOf(later.at(-1)!)}), written since revision ${from} was pinned`;
  }
  const at = history.revisions.find((r) => r.release.version === from);
  if (!at || contentId(at) !== pin.from.id) return `release ${history.namespace}/${history.release} no longer has ${pin.from.label}`;
  return { ...history, revisions: history.revisions.filter((r) => r.release.version <= from) };
}

function pinnedPlan(inspection: HelmInspection, pin: Pin): { plan: RollbackPlan; history: ReleaseHistory } {
  if (pin.from.number === undefined || pin.to.number === undefined) throw new PlanError('the pin names no Helm revision numbers');
  const history = historyAtPin(inspection.history, pin);
  if (typeof history === 'string') throw new PlanError(history);
  const dest = history.revisions.find((r) => r.release.version === pin.to.number);
  if (!dest || contentId(dest) !== pin.to.id) throw new PlanError(`release ${history.namespace}/${history.release} no longer has ${pin.to.label}`);
  const plan = planRollback({ history, destination: pin.to.number, ...inspection.state, now: new Date(pin.pinnedAt ?? 0) });
  if (typeof plan === 'string') throw new PlanError(plan);
  return { plan, history };
}

/**
 * Every step is sent only while the rollback's own revision N+1 is still open (pending-rollback);
 * deletions are done once the object is gone; status writes once the Secret has the new status.
 */
function withExpectations(plan: RollbackPlan): PlanStep[] {
  const { namespace, release } = plan;
  const secret = (version: number) => secretPath(namespace, release, version);
  const open: Expectation = { object: secret(plan.revision), field: 'helm-status', oneOf: ['pending-rollback'] };
  const expect = (s: PlanStep, guard: Expectation[], done: Expectation[]): PlanStep => (s.action === 'request' ? { ...s, guard, done } : s);
  const steps: PlanStep[] = [
    ...plan.open.map((s) =>
      expect(s, [{ object: secret(plan.revision), field: 'absent' }], [{ object: secret(plan.revision), field: 'helm-status', oneOf: ['pending-rollback', 'deployed'] }]),
    ),
    ...plan.apply.map((s) => expect(s, [open], [])),
    ...plan.remove.map((s) => expect(s, [open], [{ object: (s as RequestStep).request.path, field: 'absent' }])),
  ];
  for (const s of plan.close) {
    const superseding = /^mark revision (\d+) superseded$/.exec(s.description);
    if (superseding) {
      const version = Number(superseding[1]);
      steps.push(expect(s, [open, { object: secret(version), field: 'helm-status', oneOf: ['deployed'] }], [{ object: secret(version), field: 'helm-status', oneOf: ['superseded'] }]));
    } else steps.push(expect(s, [open], [{ object: secret(plan.revision), field: 'helm-status', oneOf: ['deployed'] }]));
  }
  return steps;
}

export const helm: Strategy<HelmInspection> = {
  name: 'helm',

  async inspect(read: KubeReader, target: Target): Promise<HelmInspection> {
    const history = await readHistory(read, target.namespace, target.name);
    const label = `Helm release ${target.namespace}/${target.name}`;
    const current = currentRevision(history);
    const revisionObjects = history.revisions.map((r) => objectsOf(r, target.namespace));
    const state = await readClusterState(read, revisionObjects.flatMap((o) => o.objects));
    const inspection: HelmInspection = {
      target,
      object: { kind: 'Secret', apiVersion: 'v1', namespace: target.namespace, name: current?.secretName ?? releaseSecretName(target.name, 1), uid: '' },
      facts: { optInObject: `the Deployments of ${label}`, optedIn: false, candidates: [] },
      snapshot: {
        release: `${target.namespace}/${target.name}`,
        revisions: history.revisions.map((r) => ({ revision: r.release.version, status: statusOf(r), description: r.release.info?.description ?? '', content: contentId(r) })),
        ...(history.undecodable.length ? { undecodable: history.undecodable } : {}),
      },
      history,
      state,
    };
    if (!current) {
      inspection.facts.validationProblem = `${label} not found: no release Secrets labelled owner=helm,name=${target.name}`;
      return inspection;
    }
    const namespace = current.release.namespace ?? target.namespace;
    const currentObjects = objectsOf(current, namespace);
    // The opt-in sits on the release's Deployments (SPEC §2): all of them, as they are live.
    const deployments = deploymentsOf(currentObjects.objects);
    const live = deployments.map((d) => state.live.get(objectKey(d)));
    inspection.facts.optedIn = deployments.length > 0 && live.every((m) => optedIn(m?.annotations));
    // Events go on the release's first Deployment, where `kubectl describe` is looked at (else on the revision's Secret).
    const first = deployments[0];
    if (first) inspection.object = { kind: 'Deployment', apiVersion: 'apps/v1', namespace: first.namespace, name: first.name, uid: live[0]?.uid ?? '' };
    inspection.facts.optInObject = deployments.length ? deployments.map((d) => `Deployment ${d.namespace}/${d.name}`).join(', ') : `${label} (it has no Deployments)`;
    const lastDeployed = Date.parse(current.release.info?.last_deployed ?? '');
    inspection.facts.revisionAt = Number.isNaN(lastDeployed) ? undefined : lastDeployed;
    inspection.facts.changedBy = 'helm';
    inspection.facts.current = revisionOf(current, namespace);
    const currentId = inspection.facts.current.id;
    inspection.facts.candidates = eligibleDestinations(history)
      .filter((r) => contentId(r) !== currentId)
      .map((r) => revisionOf(r, namespace));
    // `helm rollback` restores any other revision an operator names, whatever its status.
    inspection.facts.nameable = [...history.revisions].reverse().filter((r) => r !== current).map((r) => revisionOf(r, namespace));
    inspection.facts.operatorDefault = current.release.version - 1;
    inspection.facts.unrestorable = {};
    history.revisions.forEach((r, i) => {
      const problems = revisionObjects[i]!.problems;
      if (problems.length > 0) inspection.facts.unrestorable![contentId(r)] = problems.join('; ');
    });
    // Lock keys for every object any revision holds (the destination is not known yet): a superset, never a miss.
    inspection.facts.objects = [...new Set(revisionObjects.flatMap((o) => o.objects.map((x) => lockKey(x.kind, x.namespace, x.name))))].sort();
    const status = statusOf(current);
    if (isPending(status)) {
      inspection.facts.validationProblem = `${label}: revision ${current.release.version} is ${status}: another operation is in progress`;
    } else if (currentObjects.problems.length > 0) {
      inspection.facts.validationProblem = `${label}: revision ${current.release.version} cannot be rolled back: ${currentObjects.problems.join('; ')}`;
    }
    return inspection;
  },

  plan(inspection, pin): PlanStep[] {
    return withExpectations(pinnedPlan(inspection, pin).plan);
  },

  notes(inspection, pin) {
    try {
      return pinnedPlan(inspection, pin).plan.notes;
    } catch {
      return [];
    }
  },

  failure(inspection, pin, error) {
    // Only a revision N+1 this rollback opened and left open is marked failed, with Helm's wording.
    const own = inspection.history.revisions.find((r) => r.release.version === (pin.from.number ?? 0) + 1);
    if (!own || statusOf(own) !== 'pending-rollback' || contentId(own) !== pin.to.id) return [];
    try {
      return pinnedPlan(inspection, pin).plan.failure(error);
    } catch {
      return [];
    }
  },

  gitopsObjects(inspection) {
    // Flux's helm-controller labels every object it renders, Argo CD tracks them: the live Deployments say who manages the release.
    const current = currentRevision(inspection.history);
    if (!current) return [];
    return deploymentsOf(objectsOf(current, inspection.target.namespace).objects).flatMap((d) => {
      const live = inspection.state.live.get(objectKey(d));
      if (!live) return [];
      return [{ ref: { group: splitApiVersion(d.apiVersion).group, kind: d.kind, namespace: d.namespace, name: d.name }, meta: { labels: live.labels, annotations: live.annotations } }];
    });
  },

  verifies(_target: Target, pin: Pin) {
    return (pin.to.deployments ?? []).map((d) => {
      const [namespace, name] = d.split('/') as [string, string];
      return { namespace, name };
    });
  },
};
