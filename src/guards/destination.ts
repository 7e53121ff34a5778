/**
 * Where a rollback goes, chosen once at admission and pinned (SPEC safety invariants 2
 * and 3): never to a revision the receiver rolled away from (bad), never further back
 * from a revision the receiver itself installed, and the newest older revision that is
 * not bad otherwise. An operator may name a revision; a manual or emergency rollback may
 * even name a bad one, an automatic one never.
 */
import type { Pin, Revision, RollbackKind } from '../model.js';
import type { RevisionMark } from '../store/records.js';
import { iso, type Guard, type WorkloadFacts } from './guard.js';

/** An operator's explicit destination (the seed's `--rollback-tag`, kubectl's `--to-revision`). */
export interface ExplicitDestination {
  toRevision?: number;
  rollbackTag?: string;
}

export type DestinationChoice =
  | { ok: true; pin: Pin }
  /** `escalate`: nothing automatic can help; people must look (the reason says why). */
  | { ok: false; problem: string; escalate: boolean; revision?: string };

export const NO_SAFE_DESTINATION = 'no_safe_destination';

function imageTag(image: string): string {
  const at = image.indexOf('@');
  const ref = at >= 0 ? image.slice(0, at) : image;
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? ref.slice(colon + 1) : 'latest';
}

function proven(mark: RevisionMark | undefined): string {
  return mark?.status === 'known-good' ? `known-good since ${iso(mark.since)}` : 'not yet proven';
}

function badList(revisions: Revision[], marks: ReadonlyMap<string, RevisionMark>): string {
  return revisions.map((r) => `${r.label} quarantined since ${iso(marks.get(r.id)!.since)}`).join('; ');
}

function explicitPick(facts: WorkloadFacts, current: Revision, explicit: ExplicitDestination): Revision | string {
  if (explicit.toRevision !== undefined) {
    if (explicit.toRevision === current.number) return `revision ${explicit.toRevision} is the current revision`;
    return (facts.nameable ?? facts.candidates).find((c) => c.number === explicit.toRevision) ?? `revision ${explicit.toRevision} not found in the history`;
  }
  const candidates = facts.candidates;
  const tag = explicit.rollbackTag!;
  return candidates.find((c) => c.images.some((i) => imageTag(i) === tag)) ?? `no earlier revision runs image tag "${tag}"`;
}

export function chooseDestination(
  facts: WorkloadFacts,
  marks: ReadonlyMap<string, RevisionMark>,
  kind: RollbackKind,
  explicit: ExplicitDestination = {},
): DestinationChoice {
  const { current } = facts;
  if (!current) return { ok: false, problem: facts.validationProblem ?? 'the revision serving now is unknown', escalate: false };
  const automatic = kind === 'automatic';
  const own = marks.get(current.id);
  if (automatic && own && own.status !== 'bad' && own.rollbackId) {
    return {
      ok: false,
      escalate: true,
      revision: current.id,
      problem: `the alert is about ${current.label}, which the receiver itself installed (rollback ${own.rollbackId}, ${proven(own)}): it does not roll further back; escalated to operators`,
    };
  }
  if (facts.validationProblem) return { ok: false, problem: facts.validationProblem, escalate: false };

  let to: Revision;
  // 0 or none: `helm rollback`'s current − 1 where the strategy has such a default (kubectl's 0 is "the previous one").
  const toRevision = explicit.toRevision || (!automatic && explicit.rollbackTag === undefined ? facts.operatorDefault : undefined);
  if (toRevision !== undefined || explicit.rollbackTag !== undefined) {
    const picked = explicitPick(facts, current, { ...explicit, toRevision });
    if (typeof picked === 'string') return { ok: false, problem: picked, escalate: false };
    if (automatic && marks.get(picked.id)?.status === 'bad') {
      return { ok: false, problem: `${picked.label} is quarantined: the receiver rolled away from it at ${iso(marks.get(picked.id)!.since)}`, escalate: false };
    }
    to = picked;
  } else {
    const bad = facts.candidates.filter((c) => marks.get(c.id)?.status === 'bad');
    const next = facts.candidates.find((c) => marks.get(c.id)?.status !== 'bad');
    if (!next) {
      const problem =
        bad.length > 0
          ? `no revision older than ${current.label} is safe to roll back to: ${badList(bad, marks)}${automatic ? '' : ' (an operator may name one explicitly)'}`
          : `no previous revision to roll back to from ${current.label}`;
      return { ok: false, problem, escalate: automatic, revision: current.id };
    }
    to = next;
  }
  const unrestorable = facts.unrestorable?.[to.id];
  if (unrestorable) return { ok: false, problem: `${to.label} cannot be restored: ${unrestorable}`, escalate: automatic, revision: current.id };
  return { ok: true, pin: { from: current, to, replicas: facts.replicas, note: proven(marks.get(to.id)) } };
}

/** 12. Pre-rollback validation, and a destination the safety rules allow. */
export const destinationGuard: Guard = {
  name: 'refused',
  check({ destination }) {
    if (!destination || destination.ok) return undefined;
    return {
      decision: 'refused',
      reason: destination.problem,
      escalate: destination.escalate ? NO_SAFE_DESTINATION : undefined,
      escalateRevision: destination.revision,
    };
  },
};
