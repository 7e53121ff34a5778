/**
 * When a field of an object last changed, from its managedFields (each manager's
 * field set carries the time of its last change). A Deployment's `spec.template`
 * changes on every rollout and rollback; a Service's `spec.selector` on every switch.
 */
interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  time?: Date | string;
  fieldsV1?: object;
}

function touches(fields: unknown, path: readonly string[]): boolean {
  let node = fields as Record<string, unknown> | undefined;
  for (const key of path) {
    node = node?.[`f:${key}`] as Record<string, unknown> | undefined;
    if (node === undefined) return false;
  }
  return true;
}

/** Who last changed the field at `path` and when (ms), or undefined when no entry records one. */
export function lastChange(
  metadata: { managedFields?: ManagedFieldsEntry[] } | undefined,
  path: readonly string[],
): { at: number; manager: string } | undefined {
  let latest: { at: number; manager: string } | undefined;
  for (const entry of metadata?.managedFields ?? []) {
    if (!entry.time || !touches(entry.fieldsV1, path)) continue;
    const at = new Date(entry.time).getTime();
    if (Number.isNaN(at) || (latest && at <= latest.at)) continue;
    latest = { at, manager: `${entry.manager ?? 'unknown manager'}${entry.operation ? ` (${entry.operation})` : ''}` };
  }
  return latest;
}

/** Milliseconds of the last change to the field at `path`, or undefined when no entry records one. */
export function lastChanged(metadata: { managedFields?: ManagedFieldsEntry[] } | undefined, path: readonly string[]): number | undefined {
  return lastChange(metadata, path)?.at;
}
