/**
 * Which revision a rollback restores. Automatic rollbacks take the newest older revision
 * that is not bad (SPEC §1, "no undo of an undo"), among those Helm had deployed
 * (`superseded` or `deployed`); operators name one as `helm rollback RELEASE [REVISION]`
 * does, 0 or none meaning the current one − 1. Bad revisions are keyed by content, not
 * by number: every rollback writes a new number for old content.
 */
import { createHash } from 'node:crypto';
import type { ReleaseHistory } from './history.js';
import { statusOf, type StoredRevision } from './release.js';

/** Short sha256 of the rendered manifest: equal for equal content whatever the revision number. */
export function contentId(rev: StoredRevision): string {
  return createHash('sha256').update(rev.release.manifest ?? '').digest('hex').slice(0, 16);
}

/** The latest revision, whatever its status (Helm's `Releases.Last`). */
export function currentRevision(history: ReleaseHistory): StoredRevision | undefined {
  return history.revisions.at(-1);
}

/** Revisions older than the current one that Helm had deployed, newest first. */
export function eligibleDestinations(history: ReleaseHistory): StoredRevision[] {
  const current = currentRevision(history);
  if (!current) return [];
  return history.revisions
    .filter((rev) => rev.release.version < current.release.version && ['superseded', 'deployed'].includes(statusOf(rev)))
    .reverse();
}

/** The newest eligible revision whose content is neither bad nor the current content, or why there is none. */
export function automaticDestination(history: ReleaseHistory, isBad: (contentId: string) => boolean): StoredRevision | string {
  const current = currentRevision(history);
  if (!current) return `release ${history.namespace}/${history.release} has no revisions`;
  const currentContent = contentId(current);
  const candidates = eligibleDestinations(history);
  const found = candidates.find((rev) => contentId(rev) !== currentContent && !isBad(contentId(rev)));
  if (found) return found;
  return candidates.length === 0
    ? `release ${history.namespace}/${history.release} has no earlier superseded or deployed revision`
    : `every earlier revision of release ${history.namespace}/${history.release} is bad or has the current content (revisions ${candidates.map((r) => r.release.version).join(', ')})`;
}

/** `helm rollback RELEASE [REVISION]`: the named revision, 0 or none meaning current − 1; or why not. */
export function operatorDestination(history: ReleaseHistory, requested?: number): StoredRevision | string {
  const current = currentRevision(history);
  if (!current) return `release ${history.namespace}/${history.release} has no revisions`;
  if (requested !== undefined && (!Number.isInteger(requested) || requested < 0)) return `revision ${requested} is not a revision number`;
  const version = requested ? requested : current.release.version - 1;
  return history.revisions.find((rev) => rev.release.version === version) ?? `release ${history.namespace}/${history.release} has no revision ${version}`;
}
