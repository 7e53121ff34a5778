/**
 * One interface for every rollback strategy (SPEC §2): inspect the cluster (validation
 * facts, the revision serving now, the revisions it could go back to, a snapshot for the
 * report), then plan — the exact ordered API requests that take the target to the pinned
 * destination, with the waits between them. Dry-run returns the plan; live mode applies
 * the very same steps, so the two cannot drift apart. Plans depend only on what was read
 * and on the pin: no clocks or ids in request bodies, so a dry-run is exact.
 *
 * Every request step says what must hold before it is sent (`guard`) and what holds once
 * it took effect (`done`). After a timeout, a 409, a dropped connection or a restart the
 * executor reads the object again and compares: done → skip, guard → send again, neither
 * → someone else changed it: stop and escalate. It never chooses a destination again.
 */
import type { WorkloadFacts } from '../../guards/guard.js';
import { KubeApiError, type ApiRequest } from '../../kube/client.js';
import type { WrittenObject } from '../../gitops/detect.js';
import { redactedRequest } from '../helm/redact.js';
import type { Pin, Revision, RollbackKind, StrategyName, Target } from '../../model.js';

/** A fact about one object that a step relies on or produces. `object` is its API path. */
export type Expectation =
  | { object: string; field: 'template'; digest: string }
  | { object: string; field: 'replicas'; value: number }
  | { object: string; field: 'selector'; label: string; value: string }
  /** Any field by path, compared as canonical JSON (`null`: absent), e.g. a paused GitOps object's field. */
  | { object: string; field: 'json'; path: string[]; json: string }
  /** The object does not exist (a deletion took effect). */
  | { object: string; field: 'absent' }
  /** A Helm release Secret exists and its `status` label is one of these. */
  | { object: string; field: 'helm-status'; oneOf: string[] };

export type PlanStep =
  | {
      action: 'request';
      /** Stable within a plan, so a plan rebuilt from a fresh read finds the same step. */
      id: string;
      description: string;
      request: ApiRequest;
      /** All hold for the request to be sent (again): the state the pin was made on. */
      guard: Expectation[];
      /** All hold once the request took effect: a retry or a resumed rollback skips it. */
      done: Expectation[];
    }
  /** Wait until a Deployment is rolled out and available (`kubectl rollout status`). */
  | { action: 'wait'; id: string; description: string; deployment: Target; timeoutMs?: number };

export interface Inspection {
  target: Target;
  /** The object named by the target, for events and messages ("Deployment prod/api"). */
  object: { kind: string; apiVersion: string; namespace: string; name: string; uid: string };
  facts: WorkloadFacts;
  /** Current state, kept in the rollback record for the incident report. */
  snapshot: Record<string, unknown>;
}

/** Reads through the executor's retrying client. */
export type KubeReader = <T>(path: string) => Promise<T>;

/** The object, or undefined when it does not exist (404). */
export async function readIfExists<T>(read: KubeReader, path: string): Promise<T | undefined> {
  try {
    return await read<T>(path);
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 404) return undefined;
    throw err;
  }
}

export interface Strategy<I extends Inspection = Inspection> {
  readonly name: StrategyName;
  inspect(read: KubeReader, target: Target): Promise<I>;
  /** The requests that take the target from `pin.from` to `pin.to`; throws when the inspection cannot carry them out. */
  plan(inspection: I, pin: Pin, kind: RollbackKind): PlanStep[];
  /** Deployments whose rollout must be complete for the rollback to count as verified (what serves after it). */
  verifies(target: Target, pin: Pin): Target[];
  /** What the plan leaves out or does differently, for the record and the report (helm: hooks are not run). */
  notes?(inspection: I, pin: Pin): string[];
  /** After a failed run, the requests that record the failure where the target keeps its own history (helm: revision N+1 `failed`); read afresh. */
  failure?(inspection: I, pin: Pin, error: string): PlanStep[];
  /**
   * The objects whose Argo CD Application or Flux object would re-apply what the rollback
   * undoes, with their live metadata as the inspection read it, when the lock keys do not
   * name them (helm: a release's Deployments, not its Secrets).
   */
  gitopsObjects?(inspection: I): WrittenObject[];
}

export const OPT_IN_ANNOTATION = 'rollback-receiver.io/enabled';
/** Writes carry this field manager, so managedFields name the receiver as the author of its changes. */
export const FIELD_MANAGER = 'rollback-receiver';

export function optedIn(annotations: Record<string, string> | undefined): boolean {
  return annotations?.[OPT_IN_ANNOTATION] === 'true';
}

/** A path with the receiver's field manager, for a write. */
export function asManager(path: string): string {
  return `${path}${path.includes('?') ? '&' : '?'}fieldManager=${FIELD_MANAGER}`;
}

/** The template digest inside a revision id (`green@3f2a…` or `3f2a…`). */
export function revisionDigest(revision: Revision): string {
  const at = revision.id.indexOf('@');
  return at >= 0 ? revision.id.slice(at + 1) : revision.id;
}

/** "app:v1, sidecar:2" for labels. */
export function imageList(images: string[]): string {
  return images.length ? images.join(', ') : 'no containers';
}

/** A plan as the API shows it: each request with its method, path and body; each wait with its Deployment. */
export function planView(plan: PlanStep[]): Record<string, unknown>[] {
  return plan.map((s) =>
    s.action === 'request' ? { action: s.action, description: s.description, ...redactedRequest(s.request) } : { action: s.action, description: s.description, deployment: s.deployment },
  );
}

/** Thrown by plan(): the inspection cannot carry the pinned plan out (nothing has been sent). */
export class PlanError extends Error {}
