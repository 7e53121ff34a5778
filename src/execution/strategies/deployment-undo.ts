/**
 * `kubectl rollout undo deployment/X [--to-revision=N]`, exactly: among the ReplicaSets
 * the Deployment owns, take the one of the previous revision (the second-highest
 * `deployment.kubernetes.io/revision`, or N), strip `pod-template-hash` from its pod
 * template, and JSON-patch template and annotations into the Deployment. A paused
 * Deployment is refused; a template already equal to the target is skipped.
 */
import type { V1Deployment, V1PodTemplateSpec, V1ReplicaSet, V1ReplicaSetList } from '@kubernetes/client-node';
import { isDeepStrictEqual } from 'node:util';
import { lastChanged } from '../../kube/managed-fields.js';
import { labelSelector, paths } from '../../kube/paths.js';
import type { Target } from '../../model.js';
import {
  optedIn,
  type Inspection,
  type KubeReader,
  type PlanStep,
  type Strategy,
  type StrategyOptions,
} from './strategy.js';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
const HASH_LABEL = 'pod-template-hash';
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
  /** The ReplicaSet whose template is restored; undefined when validation failed. */
  restore?: V1ReplicaSet;
}

export function revisionOf(obj: { metadata?: { annotations?: Record<string, string> } }): number {
  const v = Number(obj.metadata?.annotations?.[REVISION_ANNOTATION]);
  return Number.isInteger(v) && v > 0 ? v : 0;
}

/** The pod template with the controller's hash label removed. */
export function withoutHash(template: V1PodTemplateSpec): V1PodTemplateSpec {
  const copy = structuredClone(template);
  if (copy.metadata?.labels) {
    delete copy.metadata.labels[HASH_LABEL];
  }
  return copy;
}

function imageTags(template: V1PodTemplateSpec | undefined): string[] {
  return (template?.spec?.containers ?? []).map((c) => {
    const image = c.image ?? '';
    const at = image.indexOf('@');
    const ref = at >= 0 ? image.slice(0, at) : image;
    const colon = ref.lastIndexOf(':');
    return colon > ref.lastIndexOf('/') ? ref.slice(colon + 1) : 'latest';
  });
}

/** Picks the ReplicaSet to restore, or says why there is none. */
export function pickRevision(owned: V1ReplicaSet[], current: number, opts: Pick<StrategyOptions, 'toRevision' | 'rollbackTag'>): V1ReplicaSet | string {
  const byRevision = [...owned].sort((a, b) => revisionOf(b) - revisionOf(a));
  if (opts.toRevision !== undefined) {
    return byRevision.find((rs) => revisionOf(rs) === opts.toRevision) ?? `revision ${opts.toRevision} not found in the Deployment's history`;
  }
  if (opts.rollbackTag !== undefined) {
    const tag = opts.rollbackTag;
    return (
      byRevision.find((rs) => revisionOf(rs) !== current && imageTags(rs.spec?.template).includes(tag)) ??
      `no earlier revision runs image tag "${tag}"`
    );
  }
  // kubectl: the highest revision below the current one.
  return byRevision.find((rs) => revisionOf(rs) > 0 && revisionOf(rs) < current) ?? 'no previous revision to roll back to';
}

export const deploymentUndo: Strategy<DeploymentUndoInspection> = {
  name: 'deployment-undo',

  async inspect(read: KubeReader, target: Target, opts: StrategyOptions): Promise<DeploymentUndoInspection> {
    const deployment = await read<V1Deployment>(paths.deployment(target.namespace, target.name));
    const selector = labelSelector(deployment.spec?.selector.matchLabels ?? {});
    const list = await read<V1ReplicaSetList>(paths.replicaSets(target.namespace, selector));
    const uid = deployment.metadata?.uid;
    const owned = list.items.filter((rs) => rs.metadata?.ownerReferences?.some((o) => o.controller && o.uid === uid));
    const current = revisionOf(deployment);

    const picked = pickRevision(owned, current, opts);
    let problem: string | undefined = typeof picked === 'string' ? `Deployment ${target.namespace}/${target.name}: ${picked}` : undefined;
    if (deployment.spec?.paused) {
      problem = `Deployment ${target.namespace}/${target.name} is paused; resume it first (kubectl rollout resume deployment/${target.name})`;
    }
    const restore = typeof picked === 'string' ? undefined : picked;
    const noop =
      restore && deployment.spec && isDeepStrictEqual(withoutHash(restore.spec!.template!), withoutHash(deployment.spec.template))
        ? `skipped rollback: the current template already matches revision ${revisionOf(restore)}`
        : undefined;
    return {
      target,
      object: { kind: 'Deployment', apiVersion: 'apps/v1', namespace: target.namespace, name: target.name, uid: uid ?? '' },
      facts: {
        optInObject: `Deployment ${target.namespace}/${target.name}`,
        optedIn: optedIn(deployment.metadata?.annotations),
        revisionAt: lastChanged(deployment.metadata, ['spec', 'template']),
        validationProblem: problem,
      },
      snapshot: {
        deployment: `${target.namespace}/${target.name}`,
        revision: current,
        images: (deployment.spec?.template.spec?.containers ?? []).map((c) => c.image),
        replicas: deployment.spec?.replicas,
        availableReplicas: deployment.status?.availableReplicas ?? 0,
        history: owned.map((rs) => ({ revision: revisionOf(rs), replicaSet: rs.metadata?.name, images: (rs.spec?.template?.spec?.containers ?? []).map((c) => c.image) })),
        restoreRevision: restore ? revisionOf(restore) : null,
      },
      deployment,
      restore,
      noop,
    };
  },

  plan(inspection: DeploymentUndoInspection): PlanStep[] {
    const { deployment, restore, target } = inspection;
    if (!restore || inspection.noop) return [];
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries(deployment.metadata?.annotations ?? {})) {
      if (SKIPPED_ANNOTATIONS.has(k) || k.startsWith(OWN_PREFIX)) annotations[k] = v;
    }
    for (const [k, v] of Object.entries(restore.metadata?.annotations ?? {})) {
      if (!SKIPPED_ANNOTATIONS.has(k) && !k.startsWith(OWN_PREFIX)) annotations[k] = v;
    }
    return [
      {
        action: 'request',
        description: `restore the pod template of revision ${revisionOf(restore)} (ReplicaSet ${restore.metadata?.name}) into Deployment ${target.namespace}/${target.name}`,
        request: {
          method: 'PATCH',
          path: paths.deployment(target.namespace, target.name),
          patchType: 'json',
          body: [
            // Optimistic lock on what was read: if anyone changed the Deployment since, the API answers 409
            // and the executor reads again instead of restoring over a change it has not seen.
            { op: 'replace', path: '/metadata/resourceVersion', value: deployment.metadata?.resourceVersion },
            { op: 'replace', path: '/spec/template', value: withoutHash(restore.spec!.template!) },
            { op: 'replace', path: '/metadata/annotations', value: annotations },
          ],
        },
      },
    ];
  },

  verifies(inspection) {
    return [inspection.target];
  },
};
