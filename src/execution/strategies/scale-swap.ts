/**
 * The seed's quick command on `<name>-current` / `<name>-previous`: scale previous up to
 * the pinned replicas, wait until ready, then current to 0. A revision is a side with its
 * template digest; the side serving now is the one with replicas (current, unless it was
 * scaled to 0). Emergency: both scalings at once.
 */
import type { V1Deployment } from '@kubernetes/client-node';
import { lastChange } from '../../kube/managed-fields.js';
import { paths } from '../../kube/paths.js';
import { imagesOf, templateDigest } from '../../kube/template-digest.js';
import type { Pin, Revision, RollbackKind, Target } from '../../model.js';
import { readRestoredCapacity } from '../capacity.js';
import { asManager, imageList, optedIn, PlanError, revisionDigest, type Inspection, type PlanStep, type Strategy } from './strategy.js';

export interface ScaleSwapSettings {
  currentSuffix: string;
  previousSuffix: string;
}

export interface ScaleSwapInspection extends Inspection {
  current: V1Deployment;
  previous?: V1Deployment;
}

type Side = 'current' | 'previous';

function sideRevision(side: Side, name: string, deployment: V1Deployment): Revision {
  const images = imagesOf(deployment.spec?.template);
  return { id: `${side}@${templateDigest(deployment.spec?.template)}`, side, images, label: `${name} (${imageList(images)})` };
}

export function scaleSwap(settings: ScaleSwapSettings): Strategy<ScaleSwapInspection> {
  const names = (t: Target) => ({ current: t.name + settings.currentSuffix, previous: t.name + settings.previousSuffix });

  return {
    name: 'scale-swap',

    async inspect(read, target: Target) {
      const n = names(target);
      const current = await read<V1Deployment>(paths.deployment(target.namespace, n.current));
      const change = lastChange(current.metadata, ['spec', 'template']);
      const inspection: ScaleSwapInspection = {
        target,
        object: { kind: 'Deployment', apiVersion: 'apps/v1', namespace: target.namespace, name: n.current, uid: current.metadata?.uid ?? '' },
        facts: {
          optInObject: `Deployment ${target.namespace}/${n.current}`,
          optedIn: optedIn(current.metadata?.annotations),
          revisionAt: change?.at,
          changedBy: change?.manager,
          current: sideRevision('current', n.current, current),
          candidates: [],
          replicas: Math.max(current.spec?.replicas ?? 1, 1),
        },
        snapshot: { current: { name: n.current, replicas: current.spec?.replicas, images: imagesOf(current.spec?.template) } },
        current,
      };
      try {
        inspection.previous = await read<V1Deployment>(paths.deployment(target.namespace, n.previous));
      } catch (err) {
        if ((err as { status?: number }).status !== 404) throw err;
        inspection.facts.validationProblem = `no previous version: Deployment ${target.namespace}/${n.previous} not found`;
        return inspection;
      }
      const p = inspection.previous;
      inspection.snapshot.previous = { name: n.previous, replicas: p.spec?.replicas, images: imagesOf(p.spec?.template) };
      if ((current.spec?.replicas ?? 0) === 0 && (p.spec?.replicas ?? 0) > 0) {
        // Already swapped: previous serves, and there is nothing older to go to.
        inspection.facts.current = sideRevision('previous', n.previous, p);
        inspection.facts.replicas = p.spec?.replicas;
        inspection.facts.validationProblem = `Deployment ${target.namespace}/${n.current} is scaled to 0 and ${n.previous} serves: there is no older version to swap to`;
        return inspection;
      }
      inspection.facts.candidates = [sideRevision('previous', n.previous, p)];
      // HPA-aware: previous gets what current's HPA wants, pinned at admission.
      const capacity = await readRestoredCapacity(
        read,
        target.namespace,
        { apiVersion: 'apps/v1', kind: 'Deployment', name: n.current, replicas: inspection.facts.replicas ?? 1 },
        { apiVersion: 'apps/v1', kind: 'Deployment', name: n.previous },
      );
      inspection.facts.replicas = capacity.replicas;
      inspection.snapshot.capacity = capacity;
      if (p.spec?.paused) inspection.facts.validationProblem = `Deployment ${target.namespace}/${n.previous} is paused`;
      return inspection;
    },

    plan(inspection, pin, kind: RollbackKind): PlanStep[] {
      if (!inspection.previous) throw new PlanError(`Deployment ${inspection.target.namespace}/${names(inspection.target).previous} not found`);
      const ns = inspection.target.namespace;
      const n = names(inspection.target);
      const replicas = pin.replicas ?? Math.max(inspection.current.spec?.replicas ?? 1, 1);
      const previousPath = paths.deployment(ns, n.previous);
      const currentPath = paths.deployment(ns, n.current);
      const keepsPrevious = { object: previousPath, field: 'template', digest: revisionDigest(pin.to) } as const;
      const keepsCurrent = { object: currentPath, field: 'template', digest: revisionDigest(pin.from) } as const;
      const up: PlanStep = {
        action: 'request',
        id: 'scale-previous',
        description: `scale Deployment ${ns}/${n.previous} to ${replicas} replicas`,
        request: { method: 'PATCH', path: asManager(paths.deploymentScale(ns, n.previous)), patchType: 'merge', body: { spec: { replicas } } },
        guard: [keepsPrevious],
        done: [keepsPrevious, { object: previousPath, field: 'replicas', value: replicas }],
      };
      const down: PlanStep = {
        action: 'request',
        id: 'scale-down-current',
        description: `scale Deployment ${ns}/${n.current} to 0`,
        request: { method: 'PATCH', path: asManager(paths.deploymentScale(ns, n.current)), patchType: 'merge', body: { spec: { replicas: 0 } } },
        guard: [keepsCurrent],
        done: [{ object: currentPath, field: 'replicas', value: 0 }],
      };
      if (kind === 'emergency') return [up, down];
      return [up, { action: 'wait', id: 'wait-previous', description: `wait until Deployment ${ns}/${n.previous} is ready`, deployment: { namespace: ns, name: n.previous } }, down];
    },

    verifies(target: Target, _pin: Pin) {
      return [{ namespace: target.namespace, name: names(target).previous }];
    },
  };
}
