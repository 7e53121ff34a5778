/**
 * The seed's quick command on `<name>-current` / `<name>-previous`: scale previous up to
 * current's replicas, wait until ready, then current to 0. Emergency: both at once.
 */
import type { V1Deployment } from '@kubernetes/client-node';
import { lastChanged } from '../../kube/managed-fields.js';
import { paths } from '../../kube/paths.js';
import type { Target } from '../../model.js';
import { optedIn, type Inspection, type PlanStep, type Strategy } from './strategy.js';

export interface ScaleSwapSettings {
  currentSuffix: string;
  previousSuffix: string;
}

export interface ScaleSwapInspection extends Inspection {
  current: V1Deployment;
  previous?: V1Deployment;
}

export function scaleSwap(settings: ScaleSwapSettings): Strategy<ScaleSwapInspection> {
  const names = (t: Target) => ({ current: t.name + settings.currentSuffix, previous: t.name + settings.previousSuffix });

  return {
    name: 'scale-swap',

    async inspect(read, target: Target) {
      const n = names(target);
      const current = await read<V1Deployment>(paths.deployment(target.namespace, n.current));
      const inspection: ScaleSwapInspection = {
        target,
        object: { kind: 'Deployment', apiVersion: 'apps/v1', namespace: target.namespace, name: n.current, uid: current.metadata?.uid ?? '' },
        facts: {
          optInObject: `Deployment ${target.namespace}/${n.current}`,
          optedIn: optedIn(current.metadata?.annotations),
          revisionAt: lastChanged(current.metadata, ['spec', 'template']),
        },
        snapshot: { current: { name: n.current, replicas: current.spec?.replicas, images: current.spec?.template.spec?.containers.map((c) => c.image) } },
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
      inspection.snapshot.previous = { name: n.previous, replicas: p.spec?.replicas, images: p.spec?.template.spec?.containers.map((c) => c.image) };
      if (p.spec?.paused) inspection.facts.validationProblem = `Deployment ${target.namespace}/${n.previous} is paused`;
      return inspection;
    },

    plan(inspection, opts): PlanStep[] {
      if (!inspection.previous) return [];
      const ns = inspection.target.namespace;
      const n = names(inspection.target);
      const replicas = Math.max(inspection.current.spec?.replicas ?? 1, 1);
      const up: PlanStep = {
        action: 'request',
        description: `scale Deployment ${ns}/${n.previous} to ${replicas} replicas`,
        request: { method: 'PATCH', path: paths.deploymentScale(ns, n.previous), patchType: 'merge', body: { spec: { replicas } } },
      };
      const down: PlanStep = {
        action: 'request',
        description: `scale Deployment ${ns}/${n.current} to 0`,
        request: { method: 'PATCH', path: paths.deploymentScale(ns, n.current), patchType: 'merge', body: { spec: { replicas: 0 } } },
      };
      if (opts.kind === 'emergency') return [up, down];
      return [up, { action: 'wait', description: `wait until Deployment ${ns}/${n.previous} is ready`, deployment: { namespace: ns, name: n.previous } }, down];
    },

    verifies(inspection) {
      return [{ namespace: inspection.target.namespace, name: names(inspection.target).previous }];
    },
  };
}
