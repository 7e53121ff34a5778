/** GET /api/v1/decisions: recent decisions with reasons, filterable by target, decision, trigger, time. */
import { Router } from 'express';
import { z } from 'zod';
import { requireReader } from '../http/auth.js';
import { DECISIONS } from '../model.js';
import type { ApiDeps } from './deps.js';
import { parseOr400, queryOf } from './query.js';

export const query = z
  .object({
    namespace: z.string().min(1).optional(),
    name: z.string().min(1).optional(),
    decision: z.enum(DECISIONS).optional(),
    trigger: z.string().min(1).optional(),
    since: z.iso.datetime({ offset: true }).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

export function decisionsRouter(deps: ApiDeps): Router {
  const router = Router();
  router.get('/api/v1/decisions', requireReader(deps.credentials), (req, res) => {
    const q = parseOr400(query, queryOf(req), res, 'query');
    if (!q) return;
    const records = deps.store.decisions({ ...q, since: q.since ? Date.parse(q.since) : undefined });
    res.json({
      decisions: records.map((r) => ({
        id: r.id,
        at: new Date(r.at).toISOString(),
        alertname: r.alert.labels.alertname ?? null,
        fingerprint: r.alert.fingerprint,
        startsAt: r.alert.startsAt,
        status: r.alert.status,
        trigger: r.trigger,
        namespace: r.namespace,
        name: r.name,
        strategy: r.strategy,
        decision: r.decision,
        reason: r.reason,
        rollbackId: r.rollbackId,
        pendingOf: r.pendingOf,
        dueAt: r.dueAt === null ? null : new Date(r.dueAt).toISOString(),
        labels: r.alert.labels,
      })),
    });
  });
  return router;
}
