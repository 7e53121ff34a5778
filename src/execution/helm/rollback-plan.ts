/**
 * `helm rollback RELEASE REVISION` as a plan: the exact ordered API requests, computed from
 * what was read (history, live objects, HPAs) and the time given, so dry-run and live send
 * the same ones.
 *
 *   open    create revision N+1 `pending-rollback` (the destination's chart, values, manifest)
 *   apply   each destination object, server-side applied as Helm's field manager, in Helm's
 *           install order; field ownership handed over first where Helm's client-side writes
 *           left it (see field-ownership.ts); `spec.replicas` left out where an HPA scales it
 *   remove  objects of the current revision the destination lacks, in uninstall order, unless
 *           they carry `helm.sh/resource-policy: keep`
 *   close   supersede the deployed revisions, mark N+1 `deployed` ("Rollback to <dest>")
 *   failure (after open succeeded) current revision `superseded`, N+1 `failed` with Helm's wording
 *
 * Stricter than Helm: refused while the latest revision is pending (another operation runs)
 * and for releases holding kinds outside {@link SUPPORTED_KINDS}. Hooks are not run.
 */
import type { ApiRequest } from '../../kube/client.js';
import { targeting, type Hpa } from '../capacity.js';
import type { PlanStep } from '../strategies/strategy.js';
import { appliedObject } from './applied-object.js';
import { currentRevision } from './destination.js';
import { handoverRequest } from './field-ownership.js';
import type { ReleaseHistory } from './history.js';
import { inInstallOrder, inUninstallOrder, isScalable, objectPath } from './kinds.js';
import type { LiveObjects } from './live-objects.js';
import { describeObject, objectKey, splitManifest, type ManifestObject } from './manifest.js';
import { isPending, statusOf, type StoredRevision } from './release.js';
import { createRevision, failedDescription, rolledBackRelease, setStatus } from './release-writes.js';

/** The field manager Helm's CLI writes as (the binary's name): the fields Helm owns are the ones a rollback may remove. */
export const HELM_FIELD_MANAGER = 'helm';
export const RESOURCE_POLICY_ANNOTATION = 'helm.sh/resource-policy';

export interface RollbackInput {
  history: ReleaseHistory;
  /** The revision to restore (see destination.ts). */
  destination: number;
  live: LiveObjects;
  /** The HPAs of the release's namespaces as they are now. */
  hpas: readonly Hpa[];
  /** Stored as the new revision's last_deployed and the createdAt/modifiedAt labels. */
  now: Date;
  fieldManager?: string;
}

export interface RollbackPlan {
  release: string;
  namespace: string;
  /** The latest revision when planned. */
  current: number;
  destination: number;
  /** The revision the rollback writes (current + 1). */
  revision: number;
  open: PlanStep[];
  apply: PlanStep[];
  remove: PlanStep[];
  close: PlanStep[];
  /** open, apply, remove, close. */
  steps: PlanStep[];
  /** What records a failure once `open` has succeeded; `error` becomes part of Helm's description. */
  failure(error: string): PlanStep[];
  /** What the plan does differently from `helm rollback` and why objects are left alone. */
  notes: string[];
}

const step = (description: string, request: ApiRequest): PlanStep => ({ action: 'request', id: description, description, request, guard: [], done: [] });

function manifestOf(rev: StoredRevision, namespace: string): { objects: ManifestObject[]; problem?: string } {
  const split = splitManifest(rev.release.manifest ?? '', rev.release.namespace ?? namespace);
  const problem = split.problems.length > 0 ? `revision ${rev.release.version}: ${split.problems.join('; ')}` : undefined;
  return { objects: split.objects, problem };
}

function hooksNote(dest: StoredRevision): string {
  const rollbackHooks = (dest.release.hooks ?? [])
    .filter((h) => ((h as { events?: string[] }).events ?? []).some((e) => e === 'pre-rollback' || e === 'post-rollback'))
    .map((h) => (h as { name?: string }).name ?? '(unnamed)');
  return rollbackHooks.length > 0
    ? `Helm hooks are not run: revision ${dest.release.version}'s rollback hooks (${rollbackHooks.join(', ')}) are skipped`
    : 'Helm hooks are not run (the destination has no rollback hooks)';
}

/** The plan, or why the release cannot be rolled back. */
export function planRollback(input: RollbackInput): RollbackPlan | string {
  const { history, now } = input;
  const manager = input.fieldManager ?? HELM_FIELD_MANAGER;
  const label = `release ${history.namespace}/${history.release}`;
  const current = currentRevision(history);
  if (!current) return `${label} has no revisions`;
  if (isPending(statusOf(current))) {
    return `${label}: revision ${current.release.version} is ${statusOf(current)}: another operation is in progress`;
  }
  const dest = history.revisions.find((r) => r.release.version === input.destination);
  if (!dest) return `${label} has no revision ${input.destination}`;
  const namespace = current.release.namespace ?? history.namespace;
  const from = manifestOf(current, namespace);
  const to = manifestOf(dest, namespace);
  const problems = [to.problem, from.problem].filter((p) => p !== undefined);
  if (problems.length > 0) return `${label} cannot be rolled back: ${problems.join('; ')}`;

  const notes = [hooksNote(dest)];
  const target = rolledBackRelease(current, dest, namespace, now);
  const open = [step(`create revision ${target.version} of ${label} (pending-rollback, content of revision ${dest.release.version})`, createRevision(target, dest, namespace, now))];

  // The live HPAs and the destination's (an HPA the rollback creates scales the workload from then on).
  const hpas = [...input.hpas, ...to.objects.filter((o) => o.kind === 'HorizontalPodAutoscaler').map((o) => o.body as unknown as Hpa)];
  const apply: PlanStep[] = [];
  for (const o of inInstallOrder(to.objects)) {
    const live = input.live.get(objectKey(o));
    const scaledBy = isScalable(o.kind) ? [...new Set(targeting(hpas.filter((h) => h.metadata.namespace === o.namespace), o).map((h) => h.metadata.name))] : [];
    // Replicas of an existing workload belong to its HPA; a workload being re-created starts from the manifest's.
    const leaveReplicas = live !== undefined && scaledBy.length > 0;
    if (leaveReplicas) notes.push(`${describeObject(o)}: spec.replicas is left to HorizontalPodAutoscaler ${scaledBy.join(', ')}`);
    const path = objectPath(o);
    const handover = live && handoverRequest(path, live, manager, leaveReplicas);
    if (handover) apply.push(step(`hand the fields Helm wrote to ${describeObject(o)} over to its server-side apply`, handover));
    apply.push(
      step(`apply ${describeObject(o)} as in revision ${dest.release.version}${o.source ? ` (${o.source})` : ''}`, {
        method: 'PATCH',
        path: `${path}?fieldManager=${encodeURIComponent(manager)}&force=true`,
        patchType: 'apply',
        body: appliedObject(o, history.release, namespace, leaveReplicas),
      }),
    );
  }

  const keep = new Set(to.objects.map(objectKey));
  const remove: PlanStep[] = [];
  for (const o of inUninstallOrder(from.objects.filter((x) => !keep.has(objectKey(x))))) {
    const live = input.live.get(objectKey(o));
    if (!live) notes.push(`${describeObject(o)} is not in revision ${dest.release.version} and already gone`);
    else if (live.annotations?.[RESOURCE_POLICY_ANNOTATION] === 'keep') notes.push(`${describeObject(o)} is not in revision ${dest.release.version} but kept (${RESOURCE_POLICY_ANNOTATION}: keep)`);
    else {
      remove.push(
        step(`delete ${describeObject(o)} (not in revision ${dest.release.version})`, {
          method: 'DELETE',
          path: objectPath(o),
          // The uid read: an object re-created since is not this rollback's to delete.
          body: { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background', preconditions: { uid: live.uid } },
        }),
      );
    }
  }

  const deployed = history.revisions.filter((r) => statusOf(r) === 'deployed');
  const close = [
    ...deployed.map((r) =>
      step(`mark revision ${r.release.version} superseded`, setStatus(r.release, namespace, 'superseded', now, { resourceVersion: r.resourceVersion })),
    ),
    step(`mark revision ${target.version} deployed (Rollback to ${dest.release.version})`, setStatus(target, namespace, 'deployed', now)),
  ];

  return {
    release: history.release,
    namespace,
    current: current.release.version,
    destination: dest.release.version,
    revision: target.version,
    open,
    apply,
    remove,
    close,
    steps: [...open, ...apply, ...remove, ...close],
    // Not locked to what was read: the failure must be recorded whatever else has been written meanwhile.
    failure: (error) => [
      step(`mark revision ${current.release.version} superseded`, setStatus(current.release, namespace, 'superseded', now)),
      step(`mark revision ${target.version} failed`, setStatus(target, namespace, 'failed', now, { description: failedDescription(history.release, error) })),
    ],
    notes,
  };
}
