/** Sends a rollback plan's requests in order, as an executor would; a failure after `open` runs the failure path. */
import type { KubeClient } from '../../src/kube/client.js';
import type { RollbackPlan } from '../../src/execution/helm/rollback-plan.js';
import type { PlanStep } from '../../src/execution/strategies/strategy.js';

async function send(kube: KubeClient, steps: PlanStep[]): Promise<void> {
  for (const s of steps) if (s.action === 'request') await kube.send(s.request);
}

/** Resolves with the error message when the rollback failed (and was recorded as failed). */
export async function runPlan(kube: KubeClient, plan: RollbackPlan): Promise<string | undefined> {
  await send(kube, plan.open);
  try {
    await send(kube, [...plan.apply, ...plan.remove, ...plan.close]);
    return undefined;
  } catch (err) {
    const message = (err as Error).message;
    await send(kube, plan.failure(message));
    return message;
  }
}
