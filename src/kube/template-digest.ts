/**
 * A pod template's identity by content: sha256 of its canonical JSON without the
 * controller's `pod-template-hash` label. It survives the renumbering of Deployment
 * revisions (a rollback turns revision 1 into revision 3), so a revision the receiver
 * rolled away from stays recognisable whatever number it carries next.
 */
import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import { createHash } from 'node:crypto';

export const HASH_LABEL = 'pod-template-hash';

/** The pod template with the controller's hash label removed. */
export function withoutHash(template: V1PodTemplateSpec): V1PodTemplateSpec {
  const copy = structuredClone(template);
  if (copy.metadata?.labels) delete copy.metadata.labels[HASH_LABEL];
  return copy;
}

/** JSON with object keys sorted at every level, so equal content gives equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** 12 hex digits: short enough for a URL and a reason, long enough never to collide in one history. */
export function templateDigest(template: V1PodTemplateSpec | undefined): string {
  return createHash('sha256')
    .update(canonicalJson(template ? withoutHash(template) : null))
    .digest('hex')
    .slice(0, 12);
}

/** The image tags a template runs (`latest` when none is given), for `rollbackTag`. */
export function imagesOf(template: V1PodTemplateSpec | undefined): string[] {
  return (template?.spec?.containers ?? []).map((c) => c.image ?? '');
}
