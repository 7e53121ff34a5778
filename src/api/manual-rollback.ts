/**
 * POST /api/v1/rollbacks: manual, emergency and `--automatic` rollbacks by operators
 * (SPEC §3). Every one is admitted through the dispatcher — the same serialized point
 * and ledger as alerts — by the guards of its kind, with its destination pinned there.
 * `dryRun: true` answers what a live request would get and the exact requests it would
 * send, recording nothing.
 */
import { Router, type Response } from 'express';
import { z } from 'zod';
import type { OperatorDecision, OperatorRequest } from '../decide.js';
import type { ClusterRead } from '../execution/executor.js';
import { planView } from '../execution/strategies/strategy.js';
import { requireOperator } from '../http/auth.js';
import { jsonBody } from '../intake/json-body.js';
import { STRATEGIES, type RollbackKind } from '../model.js';
import { operatorTarget } from './operator-target.js';
import type { ApiDeps } from './deps.js';
import { parseOr400 } from './query.js';
import { rollbackView } from './rollbacks.js';

export const rollbackRequestSchema = z
  .object({
    environment: z.string().min(1).optional(),
    namespace: z.string().min(1).optional(),
    name: z.string().min(1).optional(),
    strategy: z.enum(STRATEGIES).optional(),
    toRevision: z.number().int().nonnegative().optional(),
    rollbackTag: z.string().min(1).max(128).optional(),
    reason: z.string().min(1, 'say why (reason)').max(2000),
    emergency: z.boolean().default(false),
    /** The seed's `--automatic`: recorded as an automatic rollback and held by the same guards as alerts. */
    automatic: z.boolean().default(false),
    /** `--automatic`: when the problem was detected; the stale guard refuses if the workload changed since. */
    detectedAt: z.iso.datetime({ offset: true }).optional(),
    dryRun: z.boolean().default(false),
  })
  .strict()
  .refine((b) => !(b.toRevision && b.rollbackTag), { message: 'give toRevision or rollbackTag, not both' })
  .refine((b) => !(b.emergency && b.automatic), { message: 'a rollback is emergency or automatic, not both' })
  .refine((b) => b.detectedAt === undefined || b.automatic, { message: 'detectedAt is for automatic rollbacks' });

/** The HTTP answer to a refusal: who holds the target, or why the guards said no. */
function refuse(res: Response, kind: RollbackKind, op: Extract<OperatorDecision, { admitted: false }>): void {
  const { decision, reason } = op.verdict;
  if (decision === 'in_progress') {
    res.status(409).json({ error: reason, decision, rollbackId: op.runningId ?? null });
    return;
  }
  if (decision === 'refused' && kind !== 'automatic') {
    res.status(422).json({ error: `pre-rollback validation failed: ${reason}`, decision });
    return;
  }
  res.status(409).json({ error: `${kind} rollback refused (${decision}): ${reason}`, decision });
}

function planned(op: Extract<OperatorDecision, { admitted: true }>, cluster: ClusterRead) {
  const { rollback } = op;
  return rollback.pin ? planView(cluster.plan(rollback, rollback.strategy, rollback.pin, rollback.kind)) : [];
}

export function manualRollbackRouter(deps: ApiDeps): Router {
  const router = Router();
  router.post('/api/v1/rollbacks', requireOperator(deps.credentials), ...jsonBody(deps.config.bodyLimitBytes), async (req, res) => {
    const b = parseOr400(rollbackRequestSchema, req.body, res, 'rollback request');
    if (!b) return;
    const checked = operatorTarget(b, deps.config);
    if (!checked.ok) {
      res.status(400).json({ error: checked.problem });
      return;
    }
    if (!deps.executor) {
      res.status(503).json({ error: 'no cluster configured: manual rollbacks need KUBECONFIG or an in-cluster service account' });
      return;
    }
    if (deps.draining()) {
      res.status(503).setHeader('Retry-After', '5').json({ error: 'shutting down: no new rollbacks are admitted' });
      return;
    }
    const kind: RollbackKind = b.emergency ? 'emergency' : b.automatic ? 'automatic' : 'manual';
    const request: OperatorRequest = {
      target: checked.target,
      strategy: checked.strategy,
      kind,
      reason: b.reason,
      explicit: { toRevision: b.toRevision, rollbackTag: b.rollbackTag },
      detectedAt: b.detectedAt === undefined ? undefined : Date.parse(b.detectedAt),
    };
    const { namespace, name } = checked.target;
    const strategy = checked.strategy;

    if (b.dryRun) {
      const { decision: op, cluster } = await deps.dispatcher.simulateOperator(request);
      const snapshot = cluster.snapshot(checked.target, strategy);
      if (!op.admitted) {
        res.json({ dryRun: true, kind, namespace, name, strategy, wouldRollBack: false, decision: op.verdict.decision, reason: op.verdict.reason, validation: op.verdict.reason, snapshot, plan: [] });
        return;
      }
      res.json({ dryRun: true, kind, namespace, name, strategy, wouldRollBack: true, validation: null, pin: op.rollback.pin, snapshot, plan: planned(op, cluster) });
      return;
    }
    if (deps.config.dryRun) {
      res.status(409).json({ error: 'the receiver runs in dry-run mode: nothing is rolled back (send dryRun: true to see the plan)' });
      return;
    }
    const { decision: op, cluster } = await deps.dispatcher.submitOperator(request);
    if (!op.admitted) {
      refuse(res, kind, op);
      return;
    }
    res.status(202).json({ ...rollbackView(op.rollback), window: null, pin: op.rollback.pin, plan: planned(op, cluster) });
  });
  return router;
}
