/**
 * Field ownership before a server-side apply, as Helm's rollback prepares it
 * (pkg/kube/client.go upgradeClientSideFieldManager, after client-go's csaupgrade).
 *
 * Helm 3 writes objects with create and strategic-merge patches: the managedFields
 * record those fields as manager `helm`, operation `Update`. A server-side apply as
 * `helm` only removes fields owned by `helm`'s *Apply* entry, so without this step a
 * field the bad revision added (an env var, a label) would survive the rollback. The
 * `Update` entries are merged into the `Apply` entry first. For a workload an HPA
 * scales, `spec.replicas` is released from that entry too: the applied object leaves
 * replicas out, and a field its applier owns and stops sending would be removed.
 */
import type { ApiRequest } from '../../kube/client.js';

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: FieldSet;
  subresource?: string;
}

/** A managedFields trie: `f:<field>`, `k:<key>`, `v:<value>`, `i:<index>` and `.` keys, `{}` at the leaves. */
type FieldSet = { [key: string]: FieldSet };

export interface LiveMetadata {
  uid?: string;
  /** Read for GitOps detection (Flux's `helm.toolkit.fluxcd.io/*` labels, Argo CD's tracking label). */
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  managedFields?: ManagedFieldsEntry[];
}

function union(a: FieldSet, b: FieldSet): FieldSet {
  const out: FieldSet = { ...a };
  for (const [key, sub] of Object.entries(b)) out[key] = key in out ? union(out[key]!, sub) : sub;
  return out;
}

/** The set without `path`, dropping maps left empty (an empty map would mean "owns this field"). */
function without(set: FieldSet, path: readonly string[]): FieldSet {
  const [head, ...rest] = path;
  if (head === undefined || !(head in set)) return set;
  const out = { ...set };
  if (rest.length === 0) delete out[head];
  else {
    const sub = without(out[head]!, rest);
    if (Object.keys(sub).length === 0) delete out[head];
    else out[head] = sub;
  }
  return out;
}

const mainResource = (e: ManagedFieldsEntry) => !e.subresource;

/** The managedFields after the handover to `manager`'s Apply entry, or undefined when nothing changes. */
export function handedOver(entries: readonly ManagedFieldsEntry[], manager: string, releaseReplicas: boolean): ManagedFieldsEntry[] | undefined {
  const before = JSON.stringify(entries);
  const fields = JSON.parse(before) as ManagedFieldsEntry[];
  const isUpdate = (e: ManagedFieldsEntry) => e.manager === manager && e.operation === 'Update' && mainResource(e);
  const applied = fields.find((e) => e.manager === manager && e.operation === 'Apply' && mainResource(e));
  // No Apply entry yet: the first Update entry becomes it.
  const target = applied ?? fields.find(isUpdate);
  if (!target) return undefined;
  target.operation = 'Apply';
  const sameVersionUpdate = fields.find((e) => isUpdate(e) && e.apiVersion === target.apiVersion);
  if (sameVersionUpdate) target.fieldsV1 = union(target.fieldsV1 ?? {}, sameVersionUpdate.fieldsV1 ?? {});
  if (releaseReplicas) target.fieldsV1 = without(target.fieldsV1 ?? {}, ['f:spec', 'f:replicas']);
  const result = fields.filter((e) => !isUpdate(e));
  // Unchanged entries keep their key order, so equal text is equal content.
  return JSON.stringify(result) === before ? undefined : result;
}

/**
 * The JSON patch that hands ownership over; undefined when not needed. It is tied to the object read
 * (its uid), not to its resourceVersion: a Deployment mid-rollout changes its status every few seconds,
 * and what a newer write could change in between is ownership bookkeeping, never the object's data.
 */
export function handoverRequest(path: string, live: LiveMetadata, manager: string, releaseReplicas: boolean): ApiRequest | undefined {
  const managedFields = handedOver(live.managedFields ?? [], manager, releaseReplicas);
  if (!managedFields) return undefined;
  return {
    method: 'PATCH',
    path,
    patchType: 'json',
    body: [
      { op: 'test', path: '/metadata/uid', value: live.uid },
      { op: 'replace', path: '/metadata/managedFields', value: managedFields },
    ],
  };
}
