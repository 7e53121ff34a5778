/**
 * The seed's blue-green rollback on Deployments `<name>-blue` / `<name>-green` behind
 * Service `<name>` selecting on `color`: scale the standby colour up to the active one's
 * replicas, wait until it is ready, switch the Service to it, scale the failed colour to
 * 0 — so the Service never points at nothing ready. Emergency: switch first, scale the
 * failed colour down at once (30 s bound) and force-delete its pods.
 */
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import { lastChanged } from '../../kube/managed-fields.js';
import { labelSelector, paths } from '../../kube/paths.js';
import type { Target } from '../../model.js';
import { optedIn, type Inspection, type PlanStep, type Strategy } from './strategy.js';

export interface BlueGreenSettings {
  label: string;
  colors: [string, string];
}

export interface BlueGreenInspection extends Inspection {
  active?: { color: string; deployment: V1Deployment };
  standby?: { color: string; deployment: V1Deployment };
}

export function blueGreen(settings: BlueGreenSettings): Strategy<BlueGreenInspection> {
  const { label, colors } = settings;
  const deploymentName = (name: string, color: string) => `${name}-${color}`;

  return {
    name: 'blue-green',

    async inspect(read, target: Target) {
      const service = await read<V1Service>(paths.service(target.namespace, target.name));
      const activeColor = service.spec?.selector?.[label];
      const base: BlueGreenInspection = {
        target,
        object: { kind: 'Service', apiVersion: 'v1', namespace: target.namespace, name: target.name, uid: service.metadata?.uid ?? '' },
        facts: {
          optInObject: `Service ${target.namespace}/${target.name}`,
          optedIn: optedIn(service.metadata?.annotations),
          revisionAt: lastChanged(service.metadata, ['spec', 'selector']),
        },
        snapshot: { service: `${target.namespace}/${target.name}`, selector: service.spec?.selector ?? {} },
      };
      if (!activeColor || !colors.includes(activeColor)) {
        base.facts.validationProblem = `Service ${target.namespace}/${target.name} does not select ${label}=${colors.join('|')}`;
        return base;
      }
      const standbyColor = colors.find((c) => c !== activeColor)!;
      const active = await read<V1Deployment>(paths.deployment(target.namespace, deploymentName(target.name, activeColor)));
      let standby: V1Deployment;
      try {
        standby = await read<V1Deployment>(paths.deployment(target.namespace, deploymentName(target.name, standbyColor)));
      } catch (err) {
        if ((err as { status?: number }).status !== 404) throw err;
        base.facts.validationProblem = `standby colour missing: Deployment ${target.namespace}/${deploymentName(target.name, standbyColor)} not found`;
        return base;
      }
      base.active = { color: activeColor, deployment: active };
      base.standby = { color: standbyColor, deployment: standby };
      base.snapshot = {
        ...base.snapshot,
        active: { color: activeColor, replicas: active.spec?.replicas, images: active.spec?.template.spec?.containers.map((c) => c.image) },
        standby: { color: standbyColor, replicas: standby.spec?.replicas, images: standby.spec?.template.spec?.containers.map((c) => c.image) },
      };
      if (standby.spec?.paused) base.facts.validationProblem = `Deployment ${target.namespace}/${deploymentName(target.name, standbyColor)} is paused`;
      return base;
    },

    plan(inspection, opts): PlanStep[] {
      const { target, active, standby } = inspection;
      if (!active || !standby) return [];
      const ns = target.namespace;
      const activeName = deploymentName(target.name, active.color);
      const standbyName = deploymentName(target.name, standby.color);
      const replicas = Math.max(active.deployment.spec?.replicas ?? 1, 1);
      const scaleStandby: PlanStep = {
        action: 'request',
        description: `scale the standby colour ${standby.color} (Deployment ${ns}/${standbyName}) to ${replicas} replicas`,
        request: { method: 'PATCH', path: paths.deploymentScale(ns, standbyName), patchType: 'merge', body: { spec: { replicas } } },
      };
      const switchTraffic: PlanStep = {
        action: 'request',
        description: `switch Service ${ns}/${target.name} to ${label}=${standby.color}`,
        request: {
          method: 'PATCH',
          path: paths.service(ns, target.name),
          patchType: 'merge',
          body: { spec: { selector: { [label]: standby.color } } },
        },
      };
      const scaleDownFailed: PlanStep = {
        action: 'request',
        description: `scale the failed colour ${active.color} (Deployment ${ns}/${activeName}) to 0`,
        request: { method: 'PATCH', path: paths.deploymentScale(ns, activeName), patchType: 'merge', body: { spec: { replicas: 0 } } },
      };
      if (opts.kind === 'emergency') {
        const failedPods = labelSelector(active.deployment.spec?.selector.matchLabels ?? { [label]: active.color });
        return [
          switchTraffic,
          scaleStandby,
          scaleDownFailed,
          {
            action: 'request',
            description: `force-delete the pods of the failed colour ${active.color} (grace period 0)`,
            request: {
              method: 'DELETE',
              path: paths.pods(ns, failedPods),
              body: { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0 },
            },
          },
        ];
      }
      return [
        scaleStandby,
        { action: 'wait', description: `wait until ${standby.color} (Deployment ${ns}/${standbyName}) is ready`, deployment: { namespace: ns, name: standbyName } },
        switchTraffic,
        scaleDownFailed,
      ];
    },

    verifies(inspection) {
      return inspection.standby ? [{ namespace: inspection.target.namespace, name: deploymentName(inspection.target.name, inspection.standby.color) }] : [];
    },
  };
}
