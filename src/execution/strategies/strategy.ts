/**
 * One interface for every rollback strategy (SPEC §2): inspect the cluster (validation
 * facts and a snapshot for the report), then plan — the exact ordered API requests a
 * live run sends, with the waits between them. Dry-run returns the plan; live mode
 * applies the very same steps, so the two cannot drift apart. Plans depend only on
 * what was read: no clocks or ids in request bodies, so a dry-run is exact.
 */
import type { WorkloadFacts } from '../../guards/guard.js';
import type { ApiRequest } from '../../kube/client.js';
import type { RollbackKind, StrategyName, Target } from '../../model.js';

export type PlanStep =
  | { action: 'request'; description: string; request: ApiRequest }
  /** Wait until a Deployment is rolled out and available (`kubectl rollout status`). */
  | { action: 'wait'; description: string; deployment: Target; timeoutMs?: number };

export interface StrategyOptions {
  kind: RollbackKind;
  /** deployment-undo: the revision to restore (kubectl's --to-revision). */
  toRevision?: number;
  /** deployment-undo: restore the newest revision whose pod template runs this image tag. */
  rollbackTag?: string;
}

export interface Inspection {
  target: Target;
  /** The object named by the target, for events and messages ("Deployment prod/api"). */
  object: { kind: string; apiVersion: string; namespace: string; name: string; uid: string };
  facts: WorkloadFacts;
  /** Current state, kept in the rollback record for the incident report. */
  snapshot: Record<string, unknown>;
  /** Set when there is nothing to do (e.g. the template already is the target revision). */
  noop?: string;
}

/** Reads through the executor's retrying client. */
export type KubeReader = <T>(path: string) => Promise<T>;

export interface Strategy<I extends Inspection = Inspection> {
  readonly name: StrategyName;
  inspect(read: KubeReader, target: Target, opts: StrategyOptions): Promise<I>;
  plan(inspection: I, opts: StrategyOptions): PlanStep[];
  /** Deployments whose rollout must be complete for the rollback to count as verified. */
  verifies(inspection: I): Target[];
}

export const OPT_IN_ANNOTATION = 'rollback-receiver.io/enabled';

export function optedIn(annotations: Record<string, string> | undefined): boolean {
  return annotations?.[OPT_IN_ANNOTATION] === 'true';
}

/** A plan as the API shows it: each request with its method, path and body; each wait with its Deployment. */
export function planView(plan: PlanStep[]): Record<string, unknown>[] {
  return plan.map((s) =>
    s.action === 'request' ? { action: s.action, description: s.description, ...s.request } : { action: s.action, description: s.description, deployment: s.deployment },
  );
}
