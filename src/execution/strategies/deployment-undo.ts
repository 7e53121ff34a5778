/**
 * `kubectl rollout undo deployment/X [--to-revision=N]`: among the ReplicaSets the
 * Deployment owns, the pinned revision's pod template (without `pod-template-hash`) is
 * JSON-patched with its annotations into the Deployment, under an optimistic lock on the
 * resourceVersion read. The destination is chosen at admission (the newest older revision
 * that is not quarantined, or the operator's); here it is only found again by content.
 * A paused Deployment is refused.
 */
import type { V1Deployment, V1ReplicaSet, V1ReplicaSetList } from '@kubernetes/client-node';
import { lastChange } from '../../kube/managed-fields.js';
import { labelSelector, paths } from '../../kube/paths.js';
import { imagesOf, templateDigest, withoutHash } from '../../kube/template-digest.js';
import type { Pin, Revision, Target } from '../../model.js';
import { asManager, imageList, optedIn, PlanError, type Inspection, type KubeReader, type PlanStep, type Strategy } from './strategy.js';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
/** kubectl's annotationsToSkip: kept from the Deployment, never copied from the ReplicaSet. */
const SKIPPED_ANNOTATIONS = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION_ANNOTATION,
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
]);
/** The receiver's own annotations (opt-in among them) stay on the Deployment too. */
const OWN_PREFIX = 'rollback-receiver.io/';

export interface DeploymentUndoInspection extends Inspection {
  deployment: V1Deployment;
  /** The ReplicaSets the Deployment owns (its revision history). */
  owned: V1ReplicaSet[];
}

export function revisionOf(obj: { metadata?: { annotations?: Record<string, string> } }): number {
  const v = Number(obj.metadata?.annotations?.[REVISION_ANNOTATION]);
  return Number.isInteger(v) && v > 0 ? v : 0;
}

function revisionFrom(number: number, template: Parameters<typeof templateDigest>[0]): Revision {
  const images = imagesOf(template);
  return { id: templateDigest(template), number, images, label: `revision ${number} (${imageList(images)})` };
}

export const deploymentUndo: Strategy<DeploymentUndoInspection> = {
  name: 'deployment-undo',

  async inspect(read: KubeReader, target: Target): Promise<DeploymentUndoInspection> {
    const deployment = await read<V1Deployment>(paths.deployment(target.namespace, target.name));
    const uid = deployment.metadata?.uid;
    const list = await read<V1ReplicaSetList>(paths.replicaSets(target.namespace, labelSelector(deployment.spec?.selector ?? {})));
    const owned = list.items.filter((rs) => rs.metadata?.ownerReferences?.some((o) => o.controller && o.uid === uid));
    const number = revisionOf(deployment);
    const current = revisionFrom(number, deployment.spec?.template);
    // kubectl's history: every other revision; the newest first.
    const candidates = owned
      .filter((rs) => revisionOf(rs) > 0 && revisionOf(rs) < number)
      .sort((a, b) => revisionOf(b) - revisionOf(a))
      .map((rs) => revisionFrom(revisionOf(rs), rs.spec?.template))
      .filter((r) => r.id !== current.id);
    const change = lastChange(deployment.metadata, ['spec', 'template']);
    const name = `Deployment ${target.namespace}/${target.name}`;
    return {
      target,
      object: { kind: 'Deployment', apiVersion: 'apps/v1', namespace: target.namespace, name: target.name, uid: uid ?? '' },
      facts: {
        optInObject: name,
        optedIn: optedIn(deployment.metadata?.annotations),
        revisionAt: change?.at,
        changedBy: change?.manager,
        current,
        candidates,
        validationProblem: deployment.spec?.paused
          ? `${name} is paused; resume it first (kubectl rollout resume deployment/${target.name})`
          : undefined,
      },
      snapshot: {
        deployment: `${target.namespace}/${target.name}`,
        revision: number,
        images: current.images,
        replicas: deployment.spec?.replicas,
        availableReplicas: deployment.status?.availableReplicas ?? 0,
        history: owned.map((rs) => ({ revision: revisionOf(rs), replicaSet: rs.metadata?.name, images: imagesOf(rs.spec?.template), digest: templateDigest(rs.spec?.template) })),
      },
      deployment,
      owned,
    };
  },

  plan(inspection, pin): PlanStep[] {
    const { deployment, owned, target } = inspection;
    const restore = owned.find((rs) => templateDigest(rs.spec?.template) === pin.to.id);
    if (!restore?.spec?.template) throw new PlanError(`Deployment ${target.namespace}/${target.name} no longer has ${pin.to.label} in its history`);
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries(deployment.metadata?.annotations ?? {})) {
      if (SKIPPED_ANNOTATIONS.has(k) || k.startsWith(OWN_PREFIX)) annotations[k] = v;
    }
    for (const [k, v] of Object.entries(restore.metadata?.annotations ?? {})) {
      if (!SKIPPED_ANNOTATIONS.has(k) && !k.startsWith(OWN_PREFIX)) annotations[k] = v;
    }
    const path = paths.deployment(target.namespace, target.name);
    return [
      {
        action: 'request',
        id: 'restore-template',
        description: `restore the pod template of ${pin.to.label} (ReplicaSet ${restore.metadata?.name}) into Deployment ${target.namespace}/${target.name}`,
        request: {
          method: 'PATCH',
          path: asManager(path),
          patchType: 'json',
          body: [
            // Optimistic lock on what was read: a change since answers 409, and the executor compares with the pin.
            { op: 'replace', path: '/metadata/resourceVersion', value: deployment.metadata?.resourceVersion },
            { op: 'replace', path: '/spec/template', value: withoutHash(restore.spec.template) },
            { op: 'replace', path: '/metadata/annotations', value: annotations },
          ],
        },
        guard: [{ object: path, field: 'template', digest: pin.from.id }],
        done: [{ object: path, field: 'template', digest: pin.to.id }],
      },
    ];
  },

  verifies(target: Target, _pin: Pin) {
    return [target];
  },
};
