/**
 * HPA-aware capacity: the HorizontalPodAutoscalers that scale a workload, and how many
 * replicas a restored side gets. When an HPA scales the side now serving, the restored
 * side gets what that HPA wants (`status.desiredReplicas`), never below any involved
 * HPA's `minReplicas`: restoring onto the serving side's replica count would undo the
 * autoscaling that load asked for. The HPA API is read at the newest version the server
 * serves: autoscaling/v2 (Kubernetes 1.23+), else autoscaling/v2beta2 (1.12–1.25).
 */
import { namespaceSegment } from '../kube/paths.js';
import type { KubeReader } from './strategies/strategy.js';

/** The fields read from an HPA: the same in autoscaling/v2 and v2beta2. */
export interface Hpa {
  metadata: { name: string; namespace: string };
  spec: { scaleTargetRef: { apiVersion?: string; kind: string; name: string }; minReplicas?: number; maxReplicas: number };
  status?: { desiredReplicas?: number; currentReplicas?: number };
}

export interface Workload {
  /** e.g. apps/v1; only the group is compared. */
  apiVersion: string;
  kind: string;
  name: string;
}

export interface Capacity {
  replicas: number;
  /** Why this many, for the plan and the report. */
  reason: string;
}

/** Newest first. */
export const HPA_API_VERSIONS = ['autoscaling/v2', 'autoscaling/v2beta2'] as const;

const groupOf = (apiVersion: string | undefined) => (apiVersion?.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '');

/** The HPA API version to read, from the server's discovery of the autoscaling group. */
export async function hpaApiVersion(read: KubeReader): Promise<string> {
  const group = await read<{ versions?: { groupVersion: string }[] }>('/apis/autoscaling');
  const served = (group.versions ?? []).map((v) => v.groupVersion);
  const version = HPA_API_VERSIONS.find((v) => served.includes(v));
  if (!version) throw new Error(`the API server serves neither ${HPA_API_VERSIONS.join(' nor ')} (it serves ${served.join(', ') || 'no autoscaling version'})`);
  return version;
}

export async function readHpas(read: KubeReader, namespace: string, apiVersion: string): Promise<Hpa[]> {
  const list = await read<{ items: Hpa[] }>(`/apis/${apiVersion}/namespaces/${namespaceSegment(namespace)}/horizontalpodautoscalers`);
  return list.items;
}

/** The HPAs whose scale target is the workload (same API group, kind and name). */
export function targeting(hpas: readonly Hpa[], workload: Workload): Hpa[] {
  return hpas.filter((h) => {
    const ref = h.spec.scaleTargetRef;
    return ref.kind === workload.kind && ref.name === workload.name && groupOf(ref.apiVersion) === groupOf(workload.apiVersion);
  });
}

/**
 * Replicas for the restored side: what the serving side's HPA wants (else the serving side's
 * replicas), raised to the largest `minReplicas` of the HPAs on either side.
 */
export function restoredCapacity(serving: { replicas: number; hpas: readonly Hpa[] }, restored: { hpas: readonly Hpa[] }): Capacity {
  const wanted = serving.hpas.map((h) => ({ name: h.metadata.name, desired: h.status?.desiredReplicas ?? 0 })).filter((w) => w.desired > 0);
  const top = wanted.reduce<{ name: string; desired: number } | undefined>((a, b) => (a && a.desired >= b.desired ? a : b), undefined);
  let replicas = top?.desired ?? serving.replicas;
  let reason = top
    ? `HorizontalPodAutoscaler ${top.name} wants ${top.desired} replicas for the serving side`
    : `the serving side runs ${serving.replicas} replicas`;
  for (const h of [...serving.hpas, ...restored.hpas]) {
    const min = h.spec.minReplicas ?? 1;
    if (min > replicas) {
      replicas = min;
      reason += `; raised to minReplicas ${min} of HorizontalPodAutoscaler ${h.metadata.name}`;
    }
  }
  return { replicas, reason };
}

/** Reads the HPAs of both sides and computes the restored side's capacity (pinned in the plan at admission). */
export async function readRestoredCapacity(
  read: KubeReader,
  namespace: string,
  serving: Workload & { replicas: number },
  restored: Workload,
): Promise<Capacity> {
  const hpas = await readHpas(read, namespace, await hpaApiVersion(read));
  return restoredCapacity({ replicas: serving.replicas, hpas: targeting(hpas, serving) }, { hpas: targeting(hpas, restored) });
}
