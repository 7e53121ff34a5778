/** GET /api/v1/rollbacks[/:id]: rollback records in SPEC §3's shape. */
import { Router } from 'express';
import { z } from 'zod';
import { requireReader } from '../http/auth.js';
import type { RollbackRecord } from '../store/records.js';
import { buildReport } from '../report/build.js';
import type { ApiDeps } from './deps.js';
import { rollbackWindow } from './windows.js';
import { parseOr400, queryOf } from './query.js';

export const query = z
  .object({
    namespace: z.string().min(1).optional(),
    name: z.string().min(1).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict()
  .refine((q) => (q.namespace === undefined) === (q.name === undefined), { message: 'namespace and name go together' });

export function rollbackView(r: RollbackRecord) {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: r.id,
    namespace: r.namespace,
    name: r.name,
    strategy: r.strategy,
    kind: r.kind,
    status: r.status,
    reason: r.reason,
    trigger: r.trigger,
    decisionId: r.decisionId,
    dryRun: r.dryRun,
    startedAt: iso(r.startedAt),
    finishedAt: iso(r.finishedAt),
    /** Where it goes, pinned at admission: from (quarantined) and to. */
    pin: r.pin,
    objects: r.objects,
    steps: r.steps.map((s) => ({ ...s, at: iso(s.at) })),
  };
}

export function rollbacksRouter(deps: ApiDeps): Router {
  const router = Router();
  router.get('/api/v1/rollbacks', requireReader(deps.credentials), (req, res) => {
    const q = parseOr400(query, queryOf(req), res, 'query');
    if (!q) return;
    const target = q.namespace && q.name ? { namespace: q.namespace, name: q.name } : undefined;
    res.json({ rollbacks: deps.store.rollbacks(q.limit, target).map((r) => ({ ...rollbackView(r), window: rollbackWindow(deps.store, r.id) })) });
  });
  router.get('/api/v1/rollbacks/:id', requireReader(deps.credentials), (req, res) => {
    const id = String(req.params.id);
    const r = deps.store.rollback(id);
    if (!r) {
      res.status(404).json({ error: `no rollback ${id}` });
      return;
    }
    res.json({ ...rollbackView(r), window: rollbackWindow(deps.store, r.id) });
  });
  router.get('/api/v1/rollbacks/:id/report', requireReader(deps.credentials), async (req, res) => {
    const id = String(req.params.id);
    const r = deps.store.rollback(id);
    if (!r) {
      res.status(404).json({ error: `no rollback ${id}` });
      return;
    }
    const report = await buildReport(r, { store: deps.store, config: deps.config, prometheus: deps.prometheus, now: deps.clock.now(), receiverUrl: deps.receiverUrl });
    res.type('text/markdown; charset=utf-8').send(report);
  });
  return router;
}
