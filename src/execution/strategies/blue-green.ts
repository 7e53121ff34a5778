/**
 * The seed's blue-green rollback on Deployments `<name>-blue` / `<name>-green` behind
 * Service `<name>` selecting on `color`: scale the restored colour up to the pinned
 * replicas, wait until it is ready, switch the Service to it, scale the failed colour to
 * 0 — so the Service never selects a colour without ready pods. A revision here is a
 * colour with its pod-template digest, so a later deploy to a quarantined colour is a new
 * revision. Emergency: switch first when the restored colour already has ready pods
 * (otherwise scale it and wait, within the emergency's 30 s), scale the failed colour
 * down and force-delete its pods.
 */
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import { lastChange } from '../../kube/managed-fields.js';
import { labelSelector, paths } from '../../kube/paths.js';
import { imagesOf, templateDigest } from '../../kube/template-digest.js';
import { readRestoredCapacity } from '../capacity.js';
import type { Pin, Revision, RollbackKind, Target } from '../../model.js';
import { asManager, imageList, optedIn, PlanError, revisionDigest, type Inspection, type PlanStep, type Strategy } from './strategy.js';

export interface BlueGreenSettings {
  label: string;
  colors: [string, string];
}

export interface BlueGreenInspection extends Inspection {
  /** The colour Deployments found, by colour. */
  colours: Record<string, V1Deployment>;
}

/** A colour's revision: the colour with its template's digest. */
export function colourRevision(colour: string, deployment: V1Deployment): Revision {
  const images = imagesOf(deployment.spec?.template);
  return { id: `${colour}@${templateDigest(deployment.spec?.template)}`, side: colour, images, label: `colour ${colour} (${imageList(images)})` };
}

export function blueGreen(settings: BlueGreenSettings): Strategy<BlueGreenInspection> {
  const { label, colors } = settings;
  const deploymentName = (name: string, color: string) => `${name}-${color}`;

  return {
    name: 'blue-green',

    async inspect(read, target: Target) {
      const service = await read<V1Service>(paths.service(target.namespace, target.name));
      const activeColor = service.spec?.selector?.[label];
      const change = lastChange(service.metadata, ['spec', 'selector']);
      const inspection: BlueGreenInspection = {
        target,
        object: { kind: 'Service', apiVersion: 'v1', namespace: target.namespace, name: target.name, uid: service.metadata?.uid ?? '' },
        facts: {
          optInObject: `Service ${target.namespace}/${target.name}`,
          optedIn: optedIn(service.metadata?.annotations),
          revisionAt: change?.at,
          changedBy: change?.manager,
          candidates: [],
        },
        snapshot: { service: `${target.namespace}/${target.name}`, selector: service.spec?.selector ?? {} },
        colours: {},
      };
      if (!activeColor || !colors.includes(activeColor)) {
        inspection.facts.validationProblem = `Service ${target.namespace}/${target.name} does not select ${label}=${colors.join('|')}`;
        return inspection;
      }
      for (const colour of colors) {
        try {
          inspection.colours[colour] = await read<V1Deployment>(paths.deployment(target.namespace, deploymentName(target.name, colour)));
        } catch (err) {
          if ((err as { status?: number }).status !== 404) throw err;
        }
      }
      const active = inspection.colours[activeColor];
      const standbyColor = colors.find((c) => c !== activeColor)!;
      const standby = inspection.colours[standbyColor];
      if (!active) {
        inspection.facts.validationProblem = `active colour missing: Deployment ${target.namespace}/${deploymentName(target.name, activeColor)} not found`;
        return inspection;
      }
      inspection.facts.current = colourRevision(activeColor, active);
      inspection.facts.replicas = Math.max(active.spec?.replicas ?? 1, 1);
      inspection.snapshot = {
        ...inspection.snapshot,
        active: { color: activeColor, replicas: active.spec?.replicas, images: imagesOf(active.spec?.template) },
        standby: standby ? { color: standbyColor, replicas: standby.spec?.replicas, images: imagesOf(standby.spec?.template) } : null,
      };
      if (!standby) {
        inspection.facts.validationProblem = `standby colour missing: Deployment ${target.namespace}/${deploymentName(target.name, standbyColor)} not found`;
        return inspection;
      }
      inspection.facts.candidates = [colourRevision(standbyColor, standby)];
      // HPA-aware: the restored colour gets what the active colour's HPA wants, pinned at admission.
      const capacity = await readRestoredCapacity(
        read,
        target.namespace,
        { apiVersion: 'apps/v1', kind: 'Deployment', name: deploymentName(target.name, activeColor), replicas: inspection.facts.replicas },
        { apiVersion: 'apps/v1', kind: 'Deployment', name: deploymentName(target.name, standbyColor) },
      );
      inspection.facts.replicas = capacity.replicas;
      inspection.snapshot.capacity = capacity;
      if (standby.spec?.paused) inspection.facts.validationProblem = `Deployment ${target.namespace}/${deploymentName(target.name, standbyColor)} is paused`;
      return inspection;
    },

    plan(inspection, pin, kind: RollbackKind): PlanStep[] {
      const { target } = inspection;
      const ns = target.namespace;
      const to = pin.to.side!;
      const from = pin.from.side!;
      const toName = deploymentName(target.name, to);
      const fromName = deploymentName(target.name, from);
      const failed = inspection.colours[from];
      const restored = inspection.colours[to];
      if (!failed || !restored) throw new PlanError(`Deployments ${ns}/${fromName} and ${ns}/${toName} must both exist`);
      const replicas = pin.replicas ?? Math.max(failed.spec?.replicas ?? 1, 1);
      const servicePath = paths.service(ns, target.name);
      const toPath = paths.deployment(ns, toName);
      const fromPath = paths.deployment(ns, fromName);
      const keepsRestored = { object: toPath, field: 'template', digest: revisionDigest(pin.to) } as const;
      const keepsFailed = { object: fromPath, field: 'template', digest: revisionDigest(pin.from) } as const;
      const selects = (colour: string) => ({ object: servicePath, field: 'selector', label, value: colour }) as const;
      const scaleRestored: PlanStep = {
        action: 'request',
        id: 'scale-restored',
        description: `scale the restored colour ${to} (Deployment ${ns}/${toName}) to ${replicas} replicas`,
        request: { method: 'PATCH', path: asManager(paths.deploymentScale(ns, toName)), patchType: 'merge', body: { spec: { replicas } } },
        guard: [keepsRestored],
        done: [keepsRestored, { object: toPath, field: 'replicas', value: replicas }],
      };
      const waitRestored: PlanStep = {
        action: 'wait',
        id: 'wait-restored',
        description: `wait until ${to} (Deployment ${ns}/${toName}) is ready`,
        deployment: { namespace: ns, name: toName },
      };
      const switchTraffic: PlanStep = {
        action: 'request',
        id: 'switch-service',
        description: `switch Service ${ns}/${target.name} to ${label}=${to}`,
        request: { method: 'PATCH', path: asManager(servicePath), patchType: 'merge', body: { spec: { selector: { [label]: to } } } },
        guard: [selects(from), keepsRestored],
        done: [selects(to)],
      };
      const scaleDownFailed: PlanStep = {
        action: 'request',
        id: 'scale-down-failed',
        description: `scale the failed colour ${from} (Deployment ${ns}/${fromName}) to 0`,
        request: { method: 'PATCH', path: asManager(paths.deploymentScale(ns, fromName)), patchType: 'merge', body: { spec: { replicas: 0 } } },
        guard: [selects(to), keepsFailed],
        done: [{ object: fromPath, field: 'replicas', value: 0 }],
      };
      if (kind !== 'emergency') return [scaleRestored, waitRestored, switchTraffic, scaleDownFailed];

      const selector = labelSelector(failed.spec?.selector ?? {});
      // An empty selector would select every pod of the namespace.
      if (!selector) throw new PlanError(`Deployment ${ns}/${fromName} has no selector: refusing to force-delete pods`);
      const deletePods: PlanStep = {
        action: 'request',
        id: 'delete-failed-pods',
        description: `force-delete the pods of the failed colour ${from} (selector ${selector}, grace period 0)`,
        request: { method: 'DELETE', path: paths.pods(ns, selector), body: { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0 } },
        guard: [selects(to)],
        done: [],
      };
      // Switching first is only safe when the restored colour already has ready pods.
      const ready = (restored.status?.readyReplicas ?? 0) > 0;
      return ready
        ? [switchTraffic, scaleRestored, scaleDownFailed, deletePods]
        : [scaleRestored, waitRestored, switchTraffic, scaleDownFailed, deletePods];
    },

    verifies(target: Target, pin: Pin) {
      return [{ namespace: target.namespace, name: deploymentName(target.name, pin.to.side!) }];
    },
  };
}
