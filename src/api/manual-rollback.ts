/**
 * POST /api/v1/rollbacks: manual and emergency rollbacks by operators (SPEC §3).
 * Manual: pre-rollback validation first. Emergency: no validation, no waiting.
 * `dryRun: true` answers the exact plan a live run would send and records nothing.
 */
import { Router } from 'express';
import { z } from 'zod';
import { planView } from '../execution/strategies/strategy.js';
import { requireOperator } from '../http/auth.js';
import { newId } from '../ids.js';
import { scriptedRollbackVerdict } from '../guards/index.js';
import { jsonBody } from '../intake/json-body.js';
import { STRATEGIES, type RollbackKind } from '../model.js';
import { operatorTarget } from './operator-target.js';
import type { RollbackRecord } from '../store/records.js';
import type { ApiDeps } from './deps.js';
import { parseOr400 } from './query.js';
import { rollbackView } from './rollbacks.js';

export const body = z
  .object({
    environment: z.string().min(1).optional(),
    namespace: z.string().min(1).optional(),
    name: z.string().min(1).optional(),
    strategy: z.enum(STRATEGIES).optional(),
    toRevision: z.number().int().positive().optional(),
    rollbackTag: z.string().min(1).max(128).optional(),
    reason: z.string().min(1, 'say why (reason)').max(2000),
    emergency: z.boolean().default(false),
    /** The seed's `--automatic`: recorded as an automatic rollback and held by the same freeze, cooldown, retry and brake guards as alerts. */
    automatic: z.boolean().default(false),
    dryRun: z.boolean().default(false),
  })
  .strict()
  .refine((b) => !(b.toRevision && b.rollbackTag), { message: 'give toRevision or rollbackTag, not both' })
  .refine((b) => !(b.emergency && b.automatic), { message: 'a rollback is emergency or automatic, not both' });

export function manualRollbackRouter(deps: ApiDeps): Router {
  const router = Router();
  router.post('/api/v1/rollbacks', requireOperator(deps.credentials), ...jsonBody(deps.config.bodyLimitBytes), async (req, res) => {
    const b = parseOr400(body, req.body, res, 'rollback request');
    if (!b) return;
    const checked = operatorTarget(b, deps.config);
    if (!checked.ok) {
      res.status(400).json({ error: checked.problem });
      return;
    }
    const { target, strategy } = checked;
    const { namespace, name } = target;
    const executor = deps.executor;
    if (!executor) {
      res.status(503).json({ error: 'no cluster configured: manual rollbacks need KUBECONFIG or an in-cluster service account' });
      return;
    }
    const kind: RollbackKind = b.emergency ? 'emergency' : b.automatic ? 'automatic' : 'manual';
    const now = deps.clock.now();
    const id = newId(now);
    const opts = { kind, toRevision: b.toRevision, rollbackTag: b.rollbackTag };
    const { inspection, plan } = await executor.plan(target, strategy, opts);
    const validation = inspection.facts.validationProblem ?? null;
    const steps = planView(plan);

    if (b.dryRun) {
      res.json({ dryRun: true, kind, namespace, name, strategy, validation, noop: inspection.noop ?? null, snapshot: inspection.snapshot, plan: steps });
      return;
    }
    if (deps.config.dryRun) {
      res.status(409).json({ error: 'the receiver runs in dry-run mode: nothing is rolled back (send dryRun: true to see the plan)' });
      return;
    }
    if (kind === 'automatic') {
      const verdict = scriptedRollbackVerdict({ target, strategy, state: deps.state, now, policy: deps.config.rollback });
      if (verdict) {
        res.status(409).json({ error: `automatic rollback refused (${verdict.decision}): ${verdict.reason}`, decision: verdict.decision });
        return;
      }
    }
    if (deps.state.isRunning(target)) {
      res.status(409).json({ error: `a rollback of ${namespace}/${name} is running now` });
      return;
    }
    if (kind !== 'emergency' && validation) {
      res.status(422).json({ error: `pre-rollback validation failed: ${validation}`, snapshot: inspection.snapshot });
      return;
    }
    const rollback: RollbackRecord = {
      id,
      namespace,
      name,
      strategy,
      kind,
      status: 'running',
      reason: b.reason,
      trigger: null,
      decisionId: null,
      startedAt: now,
      finishedAt: null,
      dryRun: false,
      steps: [{ at: now, name: 'requested', detail: `${kind} rollback requested by an operator: ${b.reason}` }],
    };
    await deps.dispatcher.record([{ type: 'rollback', record: rollback }]);
    void executor.execute(rollback, { toRevision: b.toRevision, rollbackTag: b.rollbackTag });
    res.status(202).json({ ...rollbackView(rollback), window: null, plan: steps });
  });
  return router;
}
